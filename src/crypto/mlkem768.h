// ML-KEM-768 (FIPS 203, August 2024), the post-quantum half of mlkem768x25519-sha256
// (draft-ietf-sshm-mlkem-hybrid-kex). Written for OpenSSL 3.0, which has no ML-KEM: OpenSSL
// provides only SHA3-256/512, SHAKE128/256 and RAND_bytes. The arithmetic is constant-time (no
// branch or table index depends on a secret) and every secret intermediate is wiped.
//
// Callers should use the Kem interface (crypto/kem.h: mlkem768(), mlkem768_*_derand); this header
// only names the sizes, for code that lays out wire messages.
#pragma once

#include <cstddef>

#include "crypto/kem.h"

namespace hashi::crypto {

// FIPS 203 section 8, table 3 (k = 3, du = 10, dv = 4).
inline constexpr size_t kMlKem768PublicKeyLen = 1184;   // ek: ByteEncode12(t) || rho
inline constexpr size_t kMlKem768SecretKeyLen = 2400;   // dk: dk_pke || ek || H(ek) || z
inline constexpr size_t kMlKem768CiphertextLen = 1088;  // c: ByteEncode10(u) || ByteEncode4(v)
inline constexpr size_t kMlKem768SharedSecretLen = 32;  // K
inline constexpr size_t kMlKem768SeedLen = 32;          // d, z and m

}  // namespace hashi::crypto
