#include "crypto/kex_primitives.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "crypto/ossl.h"
#include "crypto/secret.h"

namespace hashi::crypto {
namespace {

using ossl::Bn;
using ossl::Params;
using ossl::Pkey;
using ossl::PkeyCtx;
using Bld = ossl::ParamBld;

// Our own key generation failing means OpenSSL is broken or out of memory.
template <typename T>
T* must(T* p) {
  if (p == nullptr) {
    std::abort();
  }
  return p;
}
void must(int ok) {
  if (ok != 1) {
    std::abort();
  }
}

Bn bn_from(ByteView v) {
  return Bn(must(BN_bin2bn(v.data(), static_cast<int>(v.size()), nullptr)));
}

Bytes bn_to_bytes(const BIGNUM* bn) {
  Bytes out(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  return out;
}

// Derives the shared secret between `ours` and `peer` into `out` (sized by OpenSSL).
// Returns false if OpenSSL rejects the peer key.
bool derive(EVP_PKEY* ours, EVP_PKEY* peer, SecretBytes& out, bool dh_pad) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, ours, nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) {
    return false;
  }
  if (dh_pad && EVP_PKEY_CTX_set_dh_pad(ctx.get(), 1) != 1) {
    return false;
  }
  // validate_peer = 1: OpenSSL runs its public-key check too (on-curve, DH range).
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, 1) != 1) {
    return false;
  }
  size_t len = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    return false;
  }
  out.assign(len, 0);
  if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1) {
    return false;
  }
  out.resize(len);
  return true;
}

// --- X25519 (RFC 7748, RFC 8731) ---

class X25519Agreement final : public KeyAgreement {
 public:
  explicit X25519Agreement(EVP_PKEY* key) : key_(key) {
    size_t len = kLen;
    public_.resize(kLen);
    must(EVP_PKEY_get_raw_public_key(key_.get(), public_.data(), &len));
    if (len != kLen) {
      std::abort();
    }
  }
  const Bytes& public_value() const override { return public_; }
  std::optional<SecretBytes> agree(ByteView peer_public) override {
    if (peer_public.size() != kLen) {
      return std::nullopt;
    }
    Pkey peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public.data(), kLen));
    if (!peer) {
      return std::nullopt;
    }
    SecretBytes out;
    if (!derive(key_.get(), peer.get(), out, false) || out.size() != kLen) {
      return std::nullopt;
    }
    // RFC 7748 section 6.1: an all-zero output means a low-order peer point; abort the exchange.
    static const uint8_t kZero[kLen] = {};
    if (equal_ct(view(out), ByteView(kZero, kLen))) {
      return std::nullopt;
    }
    return out;
  }

 private:
  static constexpr size_t kLen = 32;
  Pkey key_;
  Bytes public_;
};

// --- ECDH over NIST curves (RFC 5656 section 4) ---

class EcdhAgreement final : public KeyAgreement {
 public:
  EcdhAgreement(const char* group, size_t field_len)
      : group_(group),
        field_len_(field_len),
        key_(must(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group))) {
    // Ask for the uncompressed form explicitly rather than relying on the default.
    must(EVP_PKEY_set_utf8_string_param(key_.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                        "uncompressed"));
    size_t len = 0;
    must(EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr,
                                         0, &len));
    public_.resize(len);
    must(EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                         public_.data(), public_.size(), &len));
    if (len != 1 + 2 * field_len_ || public_[0] != 0x04) {
      std::abort();
    }
  }
  const Bytes& public_value() const override { return public_; }
  std::optional<SecretBytes> agree(ByteView peer_public) override {
    // Only the uncompressed form is valid in SSH (RFC 5656 section 4 uses SEC1 2.3.3 without
    // point compression unless negotiated); this also rejects the 1-byte point at infinity.
    if (peer_public.size() != 1 + 2 * field_len_ || peer_public[0] != 0x04) {
      return std::nullopt;
    }
    Bld bld(must(OSSL_PARAM_BLD_new()));
    must(OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group_.c_str(),
                                         0));
    must(OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, peer_public.data(),
                                          peer_public.size()));
    Params params(must(OSSL_PARAM_BLD_to_param(bld.get())));
    PkeyCtx fctx(must(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)));
    EVP_PKEY* raw = nullptr;
    // fromdata decodes the point and fails if it is not on the curve.
    if (EVP_PKEY_fromdata_init(fctx.get()) != 1 ||
        EVP_PKEY_fromdata(fctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
      return std::nullopt;
    }
    Pkey peer(raw);
    SecretBytes out;
    if (!derive(key_.get(), peer.get(), out, false) || out.size() != field_len_) {
      return std::nullopt;
    }
    return out;
  }

 private:
  std::string group_;
  size_t field_len_;
  Pkey key_;
  Bytes public_;
};

// --- Finite-field DH (RFC 4253 section 8) ---

class DhAgreement final : public KeyAgreement {
 public:
  DhAgreement(Bn p, Bn g, Pkey key, Bytes pub)
      : p_(std::move(p)), g_(std::move(g)), key_(std::move(key)), public_(std::move(pub)) {}
  const Bytes& public_value() const override { return public_; }
  std::optional<SecretBytes> agree(ByteView peer_public) override {
    // RFC 4253 section 8: values not in [1, p-1] must not be accepted; we also refuse 1 and p-1,
    // which would force K into {1, +-1} (as OpenSSH's dh_pub_is_valid does).
    if (peer_public.empty() || peer_public.size() > static_cast<size_t>(BN_num_bytes(p_.get()))) {
      return std::nullopt;
    }
    Bn f = bn_from(peer_public);
    Bn p_minus_1(must(BN_dup(p_.get())));
    must(BN_sub_word(p_minus_1.get(), 1));
    if (BN_cmp(f.get(), BN_value_one()) <= 0 || BN_cmp(f.get(), p_minus_1.get()) >= 0) {
      return std::nullopt;
    }
    Bld bld(must(OSSL_PARAM_BLD_new()));
    must(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, p_.get()));
    must(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, g_.get()));
    must(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, f.get()));
    Params params(must(OSSL_PARAM_BLD_to_param(bld.get())));
    PkeyCtx fctx(must(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr)));
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata_init(fctx.get()) != 1 ||
        EVP_PKEY_fromdata(fctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
      return std::nullopt;
    }
    Pkey peer(raw);
    SecretBytes out;
    if (!derive(key_.get(), peer.get(), out, true)) {
      return std::nullopt;
    }
    // Strip the padding: K is returned as a magnitude without leading zeros.
    auto first = std::find_if(out.begin(), out.end(), [](uint8_t b) { return b != 0; });
    if (first == out.end()) {
      return std::nullopt;
    }
    out.erase(out.begin(), first);
    return out;
  }

 private:
  Bn p_;
  Bn g_;
  Pkey key_;
  Bytes public_;
};

// Smallest modulus we accept at all (RFC 8270 raised the floor to 2048 for negotiation; callers
// enforce that; this is only the sanity bound of the primitive).
constexpr int kMinDhModulusBits = 1024;
constexpr size_t kMinExponentBits = 256;

}  // namespace

std::unique_ptr<KeyAgreement> make_x25519() {
  return std::make_unique<X25519Agreement>(must(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519")));
}

std::unique_ptr<KeyAgreement> make_x25519_from_private(ByteView private_key) {
  if (private_key.size() != 32) {
    return nullptr;
  }
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(),
                                               private_key.size());
  if (key == nullptr) {
    return nullptr;
  }
  return std::make_unique<X25519Agreement>(key);
}

std::unique_ptr<KeyAgreement> make_ecdh(Curve curve) {
  switch (curve) {
    case Curve::kP256:
      return std::make_unique<EcdhAgreement>("P-256", 32);
    case Curve::kP384:
      return std::make_unique<EcdhAgreement>("P-384", 48);
    case Curve::kP521:
      return std::make_unique<EcdhAgreement>("P-521", 66);
  }
  std::abort();
}

std::unique_ptr<KeyAgreement> make_dh(ByteView p, ByteView g, size_t exponent_bits) {
  if (p.empty() || g.empty() || p.size() > 2048 || g.size() > p.size()) {
    return nullptr;
  }
  Bn bp = bn_from(p);
  Bn bg = bn_from(g);
  Bn p_minus_1(must(BN_dup(bp.get())));
  must(BN_sub_word(p_minus_1.get(), 1));
  if (BN_num_bits(bp.get()) < kMinDhModulusBits || !BN_is_odd(bp.get()) ||
      BN_cmp(bg.get(), BN_value_one()) <= 0 || BN_cmp(bg.get(), p_minus_1.get()) >= 0) {
    return nullptr;
  }
  exponent_bits = std::max(exponent_bits, kMinExponentBits);
  if (exponent_bits >= static_cast<size_t>(BN_num_bits(bp.get()))) {
    return nullptr;
  }

  Bld bld(must(OSSL_PARAM_BLD_new()));
  must(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, bp.get()));
  must(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, bg.get()));
  Params params(must(OSSL_PARAM_BLD_to_param(bld.get())));
  PkeyCtx fctx(must(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr)));
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata_init(fctx.get()) != 1 ||
      EVP_PKEY_fromdata(fctx.get(), &raw, EVP_PKEY_KEY_PARAMETERS, params.get()) != 1) {
    return nullptr;
  }
  Pkey domain(raw);

  PkeyCtx gctx(must(EVP_PKEY_CTX_new_from_pkey(nullptr, domain.get(), nullptr)));
  int priv_len = static_cast<int>(exponent_bits);
  OSSL_PARAM gen_params[] = {
      OSSL_PARAM_construct_int(OSSL_PKEY_PARAM_DH_PRIV_LEN, &priv_len),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY* key_raw = nullptr;
  if (EVP_PKEY_keygen_init(gctx.get()) != 1 ||
      EVP_PKEY_CTX_set_params(gctx.get(), gen_params) != 1 ||
      EVP_PKEY_generate(gctx.get(), &key_raw) != 1) {
    return nullptr;
  }
  Pkey key(key_raw);
  BIGNUM* pub_raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, &pub_raw) != 1) {
    return nullptr;
  }
  Bn pub(pub_raw);
  return std::make_unique<DhAgreement>(std::move(bp), std::move(bg), std::move(key),
                                       bn_to_bytes(pub.get()));
}

}  // namespace hashi::crypto
