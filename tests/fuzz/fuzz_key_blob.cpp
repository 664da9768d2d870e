// Fuzz target for SSH public-key blobs and signature verification. The input is
// string key_blob, string signature_blob, then the signed data; the whole input is also tried as a
// key blob on its own.
#include <cstddef>
#include <cstdint>

#include "keys/key.h"
#include "wire/reader.h"

using namespace hashi;
using namespace hashi::keys;

static void exercise(const PublicKey& key, ByteView sig, ByteView data) {
  (void)key.fingerprint_sha256();
  (void)key.fingerprint_md5();
  (void)key.to_line("c");
  (void)key.bits();
  std::optional<PublicKey> again = PublicKey::from_blob(key.blob());
  if (!again || !(*again == key)) __builtin_trap();  // a decoded blob must decode again
  for (std::string_view alg : signature_algorithms(key.type())) (void)key.verify(alg, data, sig);
  (void)key.verify("ssh-rsa", data, sig);
  (void)key.verify("ssh-ed25519", data, sig);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView input(data, size);
  if (auto whole = PublicKey::from_blob(input)) exercise(*whole, input, input);
  wire::Reader r(input);
  ByteView key_blob, sig_blob;
  if (!r.string(key_blob) || !r.string(sig_blob)) return 0;
  if (auto key = PublicKey::from_blob(key_blob)) exercise(*key, sig_blob, r.rest());
  return 0;
}
