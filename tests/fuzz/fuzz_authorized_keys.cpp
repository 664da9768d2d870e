// Fuzz target for authorized_keys files: every line parsed, options and all; lookups by key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "keys/authorized_keys.h"

using namespace hashi;
using namespace hashi::keys;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> warnings;
  std::vector<AuthorizedKey> keys = load_authorized_keys(text, "fuzz", warnings);
  for (const auto& k : keys) {
    const AuthorizedKey* found = find_authorized(keys, k.key);
    if (found && !(found->key == k.key)) __builtin_trap();
  }
  std::string error;
  (void)parse_authorized_key_line(text, error);
  return 0;
}
