#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/rand.h>

#include <cstdlib>

namespace hashi::crypto {
namespace {

const EVP_MD* md_of(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1:
      return EVP_sha1();
    case HashAlg::kSha256:
      return EVP_sha256();
    case HashAlg::kSha384:
      return EVP_sha384();
    case HashAlg::kSha512:
      return EVP_sha512();
  }
  std::abort();
}

const char* md_name(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1:
      return "SHA1";
    case HashAlg::kSha256:
      return "SHA256";
    case HashAlg::kSha384:
      return "SHA384";
    case HashAlg::kSha512:
      return "SHA512";
  }
  std::abort();
}

// Failures here mean OpenSSL is out of memory or misconfigured; there is no safe way to go on.
void check(int ok) {
  if (ok != 1) {
    std::abort();
  }
}

}  // namespace

size_t hash_len(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1:
      return 20;
    case HashAlg::kSha256:
      return 32;
    case HashAlg::kSha384:
      return 48;
    case HashAlg::kSha512:
      return 64;
  }
  std::abort();
}

Hasher::Hasher(HashAlg alg) : alg_(alg), ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) {
    std::abort();
  }
  check(EVP_DigestInit_ex2(ctx_, md_of(alg), nullptr));
}

Hasher::Hasher(const Hasher& other) : alg_(other.alg_), ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) {
    std::abort();
  }
  check(EVP_MD_CTX_copy_ex(ctx_, other.ctx_));
}

Hasher& Hasher::operator=(const Hasher& other) {
  if (this != &other) {
    check(EVP_MD_CTX_copy_ex(ctx_, other.ctx_));
    alg_ = other.alg_;
  }
  return *this;
}

Hasher::~Hasher() { EVP_MD_CTX_free(ctx_); }

void Hasher::update(ByteView data) { check(EVP_DigestUpdate(ctx_, data.data(), data.size())); }

Bytes Hasher::finish() {
  Bytes out(hash_len(alg_));
  unsigned int out_len = 0;
  check(EVP_DigestFinal_ex(ctx_, out.data(), &out_len));
  out.resize(out_len);
  return out;
}

Bytes hash(HashAlg alg, ByteView data) {
  Hasher h(alg);
  h.update(data);
  return h.finish();
}

Bytes hmac(HashAlg alg, ByteView key, ByteView data) {
  Bytes out(hash_len(alg));
  size_t out_len = 0;
  // EVP_Q_mac rejects a NULL key pointer even with length 0.
  static const uint8_t kEmpty = 0;
  const uint8_t* key_ptr = key.empty() ? &kEmpty : key.data();
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, md_name(alg), nullptr, key_ptr, key.size(),
                data.data(), data.size(), out.data(), out.size(), &out_len) == nullptr) {
    std::abort();
  }
  out.resize(out_len);
  return out;
}

void random_bytes(MutableByteView out) {
  if (out.empty()) {
    return;
  }
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::abort();
  }
}

}  // namespace hashi::crypto
