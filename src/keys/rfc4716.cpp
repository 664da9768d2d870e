// ssh-keygen -e / -i formats: RFC 4716 public-key files and PEM public keys (through OpenSSL's
// OSSL_ENCODER / OSSL_DECODER).
#include "keys/rfc4716.h"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>

#include "keys/base64.h"
#include "keys/key_internal.h"
#include "keys/line_util.h"
#include "wire/reader.h"

namespace hashi::keys {
namespace {

constexpr std::string_view kBegin = "---- BEGIN SSH2 PUBLIC KEY ----";
constexpr std::string_view kEnd = "---- END SSH2 PUBLIC KEY ----";
// ssh-keygen wraps the base64 body at 70 columns (RFC 4716 section 3 allows up to 72).
constexpr size_t kWrap = 70;

// An OpenSSL public key for an SSH public key (RSA and ECDSA; nullptr for ed25519, which
// ssh-keygen does not export as PEM).
ossl::Pkey public_pkey(const PublicKey& key) {
  wire::Reader r(key.blob());
  std::string_view name;
  if (!r.string(name)) return nullptr;
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld) return nullptr;
  const char* alg = nullptr;
  ossl::Bn n, e;
  if (key.type() == KeyType::kRsa) {
    ByteView e_bytes, n_bytes;
    if (!r.mpint_positive(e_bytes) || !r.mpint_positive(n_bytes)) return nullptr;
    e = ossl::bn_from(e_bytes.data(), e_bytes.size());
    n = ossl::bn_from(n_bytes.data(), n_bytes.size());
    if (!e || !n || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
      return nullptr;
    }
    alg = "RSA";
  } else if (const CurveInfo* c = curve_info(key.type())) {
    std::string_view ident;
    ByteView point;
    if (!r.string(ident) || !r.string(point) ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, c->ossl_group, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
      return nullptr;
    }
    alg = "EC";
  } else {
    return nullptr;
  }
  ossl::Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, alg, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return ossl::Pkey(pkey);
}

}  // namespace

std::string rfc4716_encode(const PublicKey& key, std::string_view comment) {
  std::string out(kBegin);
  out += '\n';
  if (!comment.empty()) {
    out += "Comment: \"";
    out += comment;
    out += "\"\n";
  }
  std::string b64 = base64_encode(key.blob());
  for (size_t i = 0; i < b64.size(); i += kWrap) {
    out += b64.substr(i, kWrap);
    out += '\n';
  }
  out += kEnd;
  out += '\n';
  return out;
}

std::optional<PublicKey> rfc4716_decode(std::string_view text) {
  if (text.size() > kMaxRfc4716Len) return std::nullopt;
  size_t begin = text.find(kBegin);
  if (begin == std::string_view::npos) return std::nullopt;
  text.remove_prefix(begin + kBegin.size());
  std::string b64;
  bool continued = false;  // the previous header line ended with a backslash
  bool ended = false;
  line_util::for_each_line(text, [&](std::string_view line, size_t) {
    line = line_util::trim_right(line);
    if (continued) {
      continued = !line.empty() && line.back() == '\\';
      return true;
    }
    if (line.substr(0, 4) == "----") {
      ended = line == kEnd;
      return !ended;
    }
    if (line.find(':') != std::string_view::npos) {  // "Header-tag: value" (RFC 4716 3.3)
      continued = !line.empty() && line.back() == '\\';
      return true;
    }
    b64 += line_util::trim_left(line);
    return true;
  });
  if (!ended) return std::nullopt;
  std::optional<Bytes> blob = base64_decode(b64);
  if (!blob) return std::nullopt;
  return PublicKey::from_blob(*blob);
}

std::optional<std::string> pem_public_encode(const PublicKey& key, PemPublicFormat format,
                                             std::string& error) {
  ossl::Pkey pkey = public_pkey(key);
  if (!pkey) {
    error = "unsupported key type " + std::string(key.type() == KeyType::kEd25519 ? "ED25519" : "");
    return std::nullopt;
  }
  const char* structure = format == PemPublicFormat::kPem && key.type() == KeyType::kRsa
                              ? "type-specific"
                              : "SubjectPublicKeyInfo";
  OSSL_ENCODER_CTX* ctx = OSSL_ENCODER_CTX_new_for_pkey(pkey.get(), EVP_PKEY_PUBLIC_KEY, "PEM",
                                                        structure, nullptr);
  unsigned char* data = nullptr;
  size_t len = 0;
  int ok = ctx ? OSSL_ENCODER_to_data(ctx, &data, &len) : 0;
  OSSL_ENCODER_CTX_free(ctx);
  ERR_clear_error();
  if (ok != 1 || !data) {
    error = "PEM encoding failed";
    return std::nullopt;
  }
  std::string out(reinterpret_cast<const char*>(data), len);
  OPENSSL_free(data);
  return out;
}

std::optional<PublicKey> pem_public_decode(std::string_view text, PemPublicFormat format,
                                           std::string& error) {
  if (text.size() > kMaxRfc4716Len) {
    error = "invalid format";
    return std::nullopt;
  }
  EVP_PKEY* pkey = nullptr;
  const char* structure = format == PemPublicFormat::kPem ? "type-specific" : "SubjectPublicKeyInfo";
  OSSL_DECODER_CTX* ctx = OSSL_DECODER_CTX_new_for_pkey(
      &pkey, "PEM", structure, format == PemPublicFormat::kPem ? "RSA" : nullptr,
      EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t len = text.size();
  int ok = ctx ? OSSL_DECODER_from_data(ctx, &p, &len) : 0;
  OSSL_DECODER_CTX_free(ctx);
  ERR_clear_error();
  ossl::Pkey owner(pkey);
  if (ok != 1 || !pkey) {
    error = format == PemPublicFormat::kPem ? "unrecognised raw private key format"
                                            : "unsupported pubkey type";
    return std::nullopt;
  }
  std::optional<Bytes> blob = public_blob_from_pkey(pkey);
  std::optional<PublicKey> key = blob ? PublicKey::from_blob(*blob) : std::nullopt;
  if (!key) error = "unsupported pubkey type";
  return key;
}

}  // namespace hashi::keys

namespace hashi::keys {

std::optional<PublicKey> read_public_key_token(std::string_view& cp) {
  std::string_view s = cp;
  size_t space = s.find_first_of(" \t");
  if (space == std::string_view::npos) return std::nullopt;
  std::optional<KeyType> type = key_type_from_name(s.substr(0, space));
  if (!type) return std::nullopt;
  s.remove_prefix(space);
  s = line_util::trim_left(s);
  if (s.empty()) return std::nullopt;
  size_t end = s.find_first_of(" \t");
  if (end == std::string_view::npos) end = s.size();
  std::optional<Bytes> blob = base64_decode(line_util::trim_right(s.substr(0, end)));
  std::optional<PublicKey> key = blob ? PublicKey::from_blob(*blob) : std::nullopt;
  if (!key || key->type() != *type) return std::nullopt;
  cp = s.substr(end);
  return key;
}

std::optional<PublicKeyLine> parse_public_key_listing_line(std::string_view line) {
  if (line.size() > kMaxRfc4716Len) return std::nullopt;
  size_t nl = line.find('\n');
  if (nl != std::string_view::npos) line = line.substr(0, nl);
  std::string_view cp = line_util::trim_left(line);
  if (cp.empty() || cp.front() == '#') return std::nullopt;
  std::optional<std::string> comment;
  std::optional<PublicKey> key = read_public_key_token(cp);
  if (!key) {
    // An SSH1 key starts with its size ("2048 35 ..."); ssh-keygen does not take that as a host.
    size_t digits = 0;
    while (digits < cp.size() && cp[digits] >= '0' && cp[digits] <= '9') ++digits;
    const bool ssh1 = digits > 0 && digits < cp.size() && line_util::is_space(cp[digits]) &&
                      cp.substr(0, digits).find_first_not_of('0') != std::string_view::npos;
    if (!ssh1) {
      bool quoted = false;
      size_t i = 0;
      for (; i < cp.size() && (quoted || !line_util::is_space(cp[i])); ++i) {
        if (cp[i] == '\\' && i + 1 < cp.size() && cp[i + 1] == '"') {
          ++i;
        } else if (cp[i] == '"') {
          quoted = !quoted;
        }
      }
      if (i == cp.size()) return std::nullopt;
      comment = std::string(cp.substr(0, i));
      cp.remove_prefix(i + 1);
    }
    key = read_public_key_token(cp);
    if (!key) return std::nullopt;
  }
  cp = line_util::trim_left(cp);
  if (!cp.empty() && cp.front() != '#') comment = std::string(cp);
  return PublicKeyLine{std::move(*key), std::move(comment)};
}

}  // namespace hashi::keys
