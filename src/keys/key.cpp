// PublicKey: SSH public-key blobs, signature verification, fingerprints.
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>

#include "keys/base64.h"
#include "keys/key_internal.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::keys {
namespace {

constexpr std::array<CurveInfo, 3> kCurves = {{
    {KeyType::kEcdsaP256, "ecdsa-sha2-nistp256", "nistp256", "P-256", "SHA256", 32},
    {KeyType::kEcdsaP384, "ecdsa-sha2-nistp384", "nistp384", "P-384", "SHA384", 48},
    {KeyType::kEcdsaP521, "ecdsa-sha2-nistp521", "nistp521", "P-521", "SHA512", 66},
}};

constexpr size_t kEd25519KeyLen = 32;
constexpr size_t kEd25519SigLen = 64;

Bytes digest(const char* name, ByteView data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int out_len = 0;
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  bool ok = md && EVP_Digest(data.data(), data.size(), out.data(), &out_len, md, nullptr) == 1;
  EVP_MD_free(md);
  out.resize(ok ? out_len : 0);
  return out;
}

}  // namespace

const CurveInfo* curve_info(KeyType type) {
  for (const auto& c : kCurves) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

const CurveInfo* curve_info_by_group(std::string_view group) {
  // OpenSSL reports a group by its short name ("prime256v1") or its NIST name ("P-256").
  struct Alias {
    std::string_view name;
    KeyType type;
  };
  static constexpr Alias kAliases[] = {
      {"P-256", KeyType::kEcdsaP256},     {"prime256v1", KeyType::kEcdsaP256},
      {"secp256r1", KeyType::kEcdsaP256}, {"P-384", KeyType::kEcdsaP384},
      {"secp384r1", KeyType::kEcdsaP384}, {"P-521", KeyType::kEcdsaP521},
      {"secp521r1", KeyType::kEcdsaP521},
  };
  for (const auto& a : kAliases) {
    if (group == a.name) return curve_info(a.type);
  }
  return nullptr;
}

std::string_view key_type_name(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return "ssh-ed25519";
    case KeyType::kRsa:
      return "ssh-rsa";
    default:
      return curve_info(type)->ssh_name;
  }
}

std::optional<KeyType> key_type_from_name(std::string_view name) {
  if (name == "ssh-ed25519") return KeyType::kEd25519;
  if (name == "ssh-rsa") return KeyType::kRsa;
  for (const auto& c : kCurves) {
    if (name == c.ssh_name) return c.type;
  }
  return std::nullopt;
}

std::vector<std::string_view> signature_algorithms(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return {"ssh-ed25519"};
    case KeyType::kRsa:
      return {"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"};
    default:
      return {curve_info(type)->ssh_name};
  }
}

std::optional<KeyType> key_type_for_algorithm(std::string_view sig_alg) {
  if (sig_alg == "rsa-sha2-256" || sig_alg == "rsa-sha2-512") return KeyType::kRsa;
  return key_type_from_name(sig_alg);
}

std::optional<const char*> signature_digest(KeyType type, std::string_view sig_alg) {
  switch (type) {
    case KeyType::kEd25519:
      if (sig_alg == "ssh-ed25519") return "";
      return std::nullopt;
    case KeyType::kRsa:
      if (sig_alg == "rsa-sha2-512") return "SHA512";
      if (sig_alg == "rsa-sha2-256") return "SHA256";
      if (sig_alg == "ssh-rsa") return "SHA1";
      return std::nullopt;
    default: {
      const CurveInfo* c = curve_info(type);
      if (sig_alg == c->ssh_name) return c->digest;
      return std::nullopt;
    }
  }
}

ossl::Pkey pkey_fromdata(const char* alg, OSSL_PARAM_BLD* bld, int selection) {
  ossl::Params params(OSSL_PARAM_BLD_to_param(bld));
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, alg, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params.get()) != 1) {
    return nullptr;
  }
  return ossl::Pkey(pkey);
}

std::optional<Bytes> public_blob_from_pkey(EVP_PKEY* pkey) {
  Bytes blob;
  wire::Writer w(blob);
  if (EVP_PKEY_is_a(pkey, "ED25519")) {
    uint8_t raw[kEd25519KeyLen];
    size_t raw_len = sizeof(raw);
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len) != 1 || raw_len != kEd25519KeyLen) {
      return std::nullopt;
    }
    w.string("ssh-ed25519").string(ByteView(raw, raw_len));
    return blob;
  }
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
      BN_free(n);
      BN_free(e);
      return std::nullopt;
    }
    ossl::Bn n_owner(n), e_owner(e);
    Bytes n_bytes(BN_num_bytes(n)), e_bytes(BN_num_bytes(e));
    BN_bn2bin(n, n_bytes.data());
    BN_bn2bin(e, e_bytes.data());
    w.string("ssh-rsa").mpint(e_bytes).mpint(n_bytes);
    return blob;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {};
    size_t group_len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &group_len) != 1) {
      return std::nullopt;
    }
    const CurveInfo* c = curve_info_by_group(group);
    if (!c) return std::nullopt;
    BIGNUM* x = nullptr;
    BIGNUM* y = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1) {
      BN_free(x);
      BN_free(y);
      return std::nullopt;
    }
    ossl::Bn x_owner(x), y_owner(y);
    Bytes point(1 + 2 * c->field_len);
    point[0] = 0x04;  // uncompressed (SEC1 2.3.3), the only form RFC 5656 peers send
    if (BN_bn2binpad(x, point.data() + 1, int(c->field_len)) < 0 ||
        BN_bn2binpad(y, point.data() + 1 + c->field_len, int(c->field_len)) < 0) {
      return std::nullopt;
    }
    w.string(c->ssh_name).string(c->curve_ident).string(point);
    return blob;
  }
  return std::nullopt;
}

std::optional<PublicKey> PublicKey::from_blob(ByteView blob) {
  wire::Reader r(blob);
  std::string_view name;
  if (!r.string(name)) return std::nullopt;
  std::optional<KeyType> type = key_type_from_name(name);
  if (!type) return std::nullopt;
  auto impl = std::make_shared<Impl>();
  impl->type = *type;
  impl->blob.assign(blob.begin(), blob.end());

  if (*type == KeyType::kEd25519) {
    ByteView pk;
    if (!r.string(pk) || !r.empty() || pk.size() != kEd25519KeyLen) return std::nullopt;
    impl->pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pk.data(), pk.size()));
    impl->bits = 256;
  } else if (*type == KeyType::kRsa) {
    ByteView e, n;
    if (!r.mpint_positive(e) || !r.mpint_positive(n) || !r.empty()) return std::nullopt;
    ossl::Bn bn_e = ossl::bn_from(e.data(), e.size());
    ossl::Bn bn_n = ossl::bn_from(n.data(), n.size());
    if (!bn_e || !bn_n) return std::nullopt;
    size_t bits = size_t(BN_num_bits(bn_n.get()));
    // e must be odd and > 1 and below n; n odd.
    if (bits < kRsaMinPublicBits || bits > kRsaMaxBits || !BN_is_odd(bn_n.get()) ||
        !BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get()) || BN_cmp(bn_e.get(), bn_n.get()) >= 0) {
      return std::nullopt;
    }
    ossl::ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
      return std::nullopt;
    }
    impl->pkey = pkey_fromdata("RSA", bld.get(), EVP_PKEY_PUBLIC_KEY);
    if (!impl->pkey) return std::nullopt;
    impl->bits = bits;
  } else {
    const CurveInfo* c = curve_info(*type);
    std::string_view ident;
    ByteView point;
    if (!r.string(ident) || !r.string(point) || !r.empty() || ident != c->curve_ident ||
        point.size() != 1 + 2 * c->field_len || point[0] != 0x04) {
      return std::nullopt;
    }
    ossl::ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, c->ossl_group, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
      return std::nullopt;
    }
    // Decoding the point (EC_POINT_oct2point) rejects points that are not on the curve.
    impl->pkey = pkey_fromdata("EC", bld.get(), EVP_PKEY_PUBLIC_KEY);
    if (!impl->pkey) return std::nullopt;
    // Belt and braces: full public-key validation (on curve, not infinity, order).
    ossl::PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, impl->pkey.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) return std::nullopt;
    impl->bits = c->field_len == 66 ? 521 : c->field_len * 8;
  }
  if (!impl->pkey) return std::nullopt;
  return PublicKey(std::move(impl));
}

namespace {
const Bytes kEmptyBlob;
}

const Bytes& PublicKey::blob() const { return impl_ ? impl_->blob : kEmptyBlob; }
KeyType PublicKey::type() const { return impl_ ? impl_->type : KeyType::kEd25519; }
std::string_view PublicKey::type_name() const {
  return impl_ ? key_type_name(impl_->type) : std::string_view();
}
size_t PublicKey::bits() const { return impl_ ? impl_->bits : 0; }

bool PublicKey::operator==(const PublicKey& other) const { return blob() == other.blob(); }

bool PublicKey::verify(std::string_view sig_alg, ByteView data, ByteView signature_blob) const {
  if (!impl_) return false;
  std::optional<const char*> md_name = signature_digest(impl_->type, sig_alg);
  if (!md_name) return false;
  wire::Reader r(signature_blob);
  std::string_view name;
  ByteView sig;
  if (!r.string(name) || !r.string(sig) || !r.empty() || name != sig_alg) return false;

  Bytes der;  // the signature in the form OpenSSL verifies
  if (impl_->type == KeyType::kEd25519) {
    if (sig.size() != kEd25519SigLen) return false;
    der.assign(sig.begin(), sig.end());
  } else if (impl_->type == KeyType::kRsa) {
    // OpenSSH accepts a signature shorter than the modulus and left-pads it with zeros.
    size_t mod_len = (impl_->bits + 7) / 8;
    if (sig.empty() || sig.size() > mod_len) return false;
    der.assign(mod_len - sig.size(), 0);
    der.insert(der.end(), sig.begin(), sig.end());
  } else {
    const CurveInfo* c = curve_info(impl_->type);
    wire::Reader inner(sig);
    ByteView r_bytes, s_bytes;
    if (!inner.mpint_positive(r_bytes) || !inner.mpint_positive(s_bytes) || !inner.empty() ||
        r_bytes.empty() || s_bytes.empty() || r_bytes.size() > c->field_len ||
        s_bytes.size() > c->field_len) {
      return false;
    }
    ossl::EcdsaSig esig(ECDSA_SIG_new());
    BIGNUM* br = BN_bin2bn(r_bytes.data(), int(r_bytes.size()), nullptr);
    BIGNUM* bs = BN_bin2bn(s_bytes.data(), int(s_bytes.size()), nullptr);
    if (!esig || !br || !bs || ECDSA_SIG_set0(esig.get(), br, bs) != 1) {
      BN_free(br);
      BN_free(bs);
      return false;
    }
    int der_len = i2d_ECDSA_SIG(esig.get(), nullptr);
    if (der_len <= 0) return false;
    der.resize(size_t(der_len));
    uint8_t* p = der.data();
    if (i2d_ECDSA_SIG(esig.get(), &p) != der_len) return false;
  }

  ossl::MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  const char* md = **md_name ? *md_name : nullptr;
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, md, nullptr, nullptr, impl_->pkey.get(),
                              nullptr) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), der.data(), der.size(), data.data(), data.size()) == 1;
}

std::string PublicKey::fingerprint_sha256() const {
  return "SHA256:" + base64_encode(digest("SHA256", blob()), false);
}

std::string PublicKey::fingerprint_md5() const {
  static constexpr char kHex[] = "0123456789abcdef";
  Bytes d = digest("MD5", blob());
  std::string out = "MD5:";
  for (size_t i = 0; i < d.size(); ++i) {
    if (i) out += ':';
    out += kHex[d[i] >> 4];
    out += kHex[d[i] & 15];
  }
  return out;
}

std::string PublicKey::to_line(std::string_view comment) const {
  std::string out(type_name());
  out += ' ';
  out += base64_encode(blob());
  if (!comment.empty()) {
    out += ' ';
    out += comment;
  }
  return out;
}

}  // namespace hashi::keys
