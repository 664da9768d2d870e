// Hashes, HMAC and the random generator over OpenSSL 3 EVP.
#pragma once

#include <openssl/evp.h>

#include <cstddef>

#include "wire/bytes.h"

namespace hashi::crypto {

enum class HashAlg { kSha1, kSha256, kSha384, kSha512 };

// hash_len returns the digest size of `alg` in bytes (20, 32, 48 or 64).
size_t hash_len(HashAlg alg);

// Hasher is an incremental hash (RAII over EVP_MD_CTX). Copying it copies the running state, so a
// common prefix (e.g. the exchange-hash input) can be hashed once and finished twice.
class Hasher {
 public:
  explicit Hasher(HashAlg alg);
  Hasher(const Hasher& other);
  Hasher& operator=(const Hasher& other);
  ~Hasher();

  void update(ByteView data);
  // finish returns the digest. It may be called once; the hasher must not be updated afterwards.
  Bytes finish();

 private:
  HashAlg alg_;
  EVP_MD_CTX* ctx_;
};

// hash returns the digest of `data`.
Bytes hash(HashAlg alg, ByteView data);
// hmac returns HMAC-`alg`(key, data) (RFC 2104), hash_len(alg) bytes.
Bytes hmac(HashAlg alg, ByteView key, ByteView data);
// random_bytes fills `out` from the OpenSSL DRBG (RAND_bytes); it aborts if the generator fails,
// since no caller can continue safely without randomness.
void random_bytes(MutableByteView out);

}  // namespace hashi::crypto
