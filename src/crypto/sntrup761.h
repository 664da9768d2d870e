// sntrup761: Streamlined NTRU Prime, round 3 (p = 761, q = 4591, w = 286), bit for bit as
// OpenSSH's sntrup761.c (supercop-20201130 crypto_kem/sntrup761/ref) uses it for the
// sntrup761x25519-sha512 key exchange: the same encodings, Hash_prefix domain bytes (SHA-512
// truncated to 32 bytes), confirmation hash and implicit rejection with rho.
//
// Everything that touches secrets runs in constant time: no branches or table indexes depend on
// secret data (short polynomials come from a sorting network; reciprocals use the fixed-length
// divstep loop), and every secret intermediate is wiped before returning.
#pragma once

#include <cstddef>
#include <functional>

#include "crypto/secret.h"
#include "crypto/kem.h"
#include "wire/bytes.h"

namespace hashi::crypto {

inline constexpr size_t kSntrup761PublicKeyLen = 1158;
inline constexpr size_t kSntrup761SecretKeyLen = 1763;
inline constexpr size_t kSntrup761CiphertextLen = 1039;
inline constexpr size_t kSntrup761SharedSecretLen = 32;

// sntrup761 returns the sntrup761 KEM; its randomness comes from RAND_bytes.
const Kem& sntrup761();

// A source of random bytes: fills its whole argument.
using RandomBytesFn = std::function<void(MutableByteView)>;

// sntrup761_keypair_with generates a key pair drawing randomness from `rng`, in the reference
// order: 4*761 bytes per candidate g (little-endian uint32s; redrawn while g is not invertible
// mod 3), then 4*761 bytes for f, then 191 bytes for rho. Known-answer tests inject a DRBG here.
void sntrup761_keypair_with(const RandomBytesFn& rng, Bytes& out_public_key,
                            SecretBytes& out_secret_key);

// sntrup761_encapsulate_with encapsulates to `public_key` drawing the 4*761 random bytes of the
// short polynomial r from `rng`. Returns false (outputs untouched) if the key is not 1158 bytes.
[[nodiscard]] bool sntrup761_encapsulate_with(const RandomBytesFn& rng, ByteView public_key,
                                              Bytes& out_ciphertext, SecretBytes& out_shared_secret);

// sntrup761_decapsulate is Kem::decapsulate: false only if a length is wrong; a ciphertext that
// does not re-encrypt to itself yields the implicit-rejection secret Hash0(rho, ciphertext).
[[nodiscard]] bool sntrup761_decapsulate(ByteView secret_key, ByteView ciphertext,
                                         SecretBytes& out_shared_secret);

}  // namespace hashi::crypto
