// Fuzz target for private-key files (openssh-key-v1, PEM, PKCS#8). The passphrase is empty, so an
// encrypted key stops before its KDF (whose cost the file chooses) and unencrypted keys are parsed
// to the end; a parsed key must sign and verify.
#include <cstddef>
#include <cstdint>
#include <string>

#include "keys/key.h"

using namespace hashi;
using namespace hashi::keys;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  std::optional<PrivateKey> key = PrivateKey::parse(ByteView(data, size), "", error);
  if (!key) {
    if (error.empty()) __builtin_trap();  // every failure explains itself
    return 0;
  }
  const PublicKey& pub = key->public_key();
  if (!PublicKey::from_blob(pub.blob())) __builtin_trap();
  const Bytes msg = to_bytes("fuzz");
  std::string_view alg = signature_algorithms(pub.type()).front();
  Bytes sig = key->sign(alg, msg);
  if (!sig.empty() && !pub.verify(alg, msg, sig)) __builtin_trap();
  return 0;
}
