// Key-encapsulation mechanisms (for the hybrid SSH key exchanges such as mlkem768x25519-sha256
// and sntrup761x25519-sha512). One small interface, so that an implementation from a newer
// OpenSSL (3.5's ML-KEM) can replace ours at build time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "crypto/secret.h"
#include "wire/bytes.h"

namespace hashi::crypto {

struct KemInfo {
  std::string_view name;
  size_t public_key_len, secret_key_len, ciphertext_len, shared_secret_len;
};

class Kem {
 public:
  virtual ~Kem() = default;
  virtual const KemInfo& info() const = 0;
  // Generates a key pair (randomness from RAND_bytes).
  virtual void keypair(Bytes& public_key, SecretBytes& secret_key) const = 0;
  // Encapsulates to `public_key`; false if its length or encoding is invalid (FIPS 203 modulus
  // check).
  virtual bool encapsulate(ByteView public_key, Bytes& ciphertext,
                           SecretBytes& shared_secret) const = 0;
  // Decapsulates; false only if lengths are wrong; a malformed or tampered ciphertext of the right
  // length gives the implicit-rejection secret.
  virtual bool decapsulate(ByteView secret_key, ByteView ciphertext,
                           SecretBytes& shared_secret) const = 0;
};

// mlkem768 returns ML-KEM-768 (FIPS 203), implemented in mlkem768.cpp.
const Kem& mlkem768();

// Deterministic entry points for known-answer tests (FIPS 203 ML-KEM.KeyGen_internal and
// ML-KEM.Encaps_internal). mlkem768_keypair_derand requires 32-byte `d32` and `z32` (it aborts
// otherwise); mlkem768_encaps_derand returns false if `pk` or `m32` is invalid.
void mlkem768_keypair_derand(ByteView d32, ByteView z32, Bytes& pk, SecretBytes& sk);
bool mlkem768_encaps_derand(ByteView pk, ByteView m32, Bytes& ct, SecretBytes& ss);

}  // namespace hashi::crypto
