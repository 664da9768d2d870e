// Fuzz target for known_hosts files: lookups of two fixed keys for plain and [host]:port names,
// plus every parsed line matched against a few names (hashed entries run their HMAC).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "keys/base64.h"
#include "keys/known_hosts.h"

using namespace hashi;
using namespace hashi::keys;

namespace {
// Throw-away keys generated once with ssh-keygen for the seed corpus.
constexpr std::string_view kEd25519 =
    "AAAAC3NzaC1lZDI1NTE5AAAAIJwOsSZs2fE9yAf0U0glMYMJBXGUSQTsp5IH4FyOn4K4";
constexpr std::string_view kEcdsa =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBItxr0onRYLzWXr6QqiTn1MtCGHZcY7P0etYdL2t"
    "1FarJW4gJ8mWioZ37A+z9qN0K0crSCoayHrAfF9wsSV+54M=";

PublicKey key_from(std::string_view b64) {
  std::optional<Bytes> blob = base64_decode(b64);
  std::optional<PublicKey> key = blob ? PublicKey::from_blob(*blob) : std::nullopt;
  return key ? *key : PublicKey();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const PublicKey ed = key_from(kEd25519);
  static const PublicKey ec = key_from(kEcdsa);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const PublicKey* key : {&ed, &ec}) {
    (void)check_known_host_contents(text, "fuzz", "example.com", 22, *key);
    (void)check_known_host_contents(text, "fuzz", "10.0.0.1", 2222, *key);
  }
  size_t num_lines = 0;
  while (!text.empty() && num_lines++ < 64) {
    size_t nl = text.find('\n');
    std::string error;
    if (auto entry = parse_known_host_line(text.substr(0, nl), error)) {
      (void)host_matches_entry(*entry, "example.com");
      (void)host_matches_entry(*entry, "[example.com]:2222");
    }
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return 0;
}
