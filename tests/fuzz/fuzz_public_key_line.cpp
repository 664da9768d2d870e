// Fuzz target for the public-key text formats hashi-keygen reads: OpenSSH one-line keys as
// ssh-keygen -l lists them (bare, after a known_hosts host list, after authorized_keys options),
// RFC 4716 and PEM public keys (-i), and the known_hosts editing walks of -F / -R / -H.
// Whatever parses must print and parse back to the same key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "keys/known_hosts_edit.h"
#include "keys/rfc4716.h"

using namespace hashi;
using namespace hashi::keys;

namespace {
// Bounds the HMAC work of -H / hashed -F per input; real known_hosts lines are short anyway.
constexpr size_t kMaxEditInput = 16 * 1024;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t num_lines = 0;
  for (std::string_view rest = text; !rest.empty() && num_lines++ < 256;) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (auto parsed = parse_public_key_listing_line(line)) {
      std::string again_line = parsed->key.to_line(parsed->comment.value_or(""));
      auto again = parse_public_key_listing_line(again_line);
      if (!again || !(again->key == parsed->key)) __builtin_trap();
      auto from_rfc = rfc4716_decode(rfc4716_encode(parsed->key, "fuzz"));
      if (!from_rfc || !(*from_rfc == parsed->key)) __builtin_trap();
    }
    std::string_view cp = line;
    (void)read_public_key_token(cp);
  }
  (void)rfc4716_decode(text);
  std::string error;
  (void)pem_public_decode(text, PemPublicFormat::kPem, error);
  (void)pem_public_decode(text, PemPublicFormat::kPkcs8, error);
  if (size <= kMaxEditInput) {
    (void)known_hosts_find(text, "fuzz", "host1", false, false);
    (void)known_hosts_find(text, "fuzz", "[host4]:2222", true, false);
    KnownHostsEdit removed = known_hosts_remove(text, "fuzz", "host1", false);
    // Removing a host twice removes nothing more.
    if (!removed.invalid && known_hosts_remove(removed.file, "fuzz", "host1", false).found) {
      __builtin_trap();
    }
    (void)known_hosts_hash(text, "fuzz");
  }
  return 0;
}
