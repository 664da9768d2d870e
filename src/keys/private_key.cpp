// PrivateKey: openssh-key-v1 (OpenSSH PROTOCOL.key), PEM/PKCS#8 through OSSL_DECODER, generation,
// signing.
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "crypto/secret.h"
#include "keys/base64.h"
#include "keys/bcrypt_pbkdf.h"
#include "keys/key_internal.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::keys {

struct PrivateKey::Impl {
  std::shared_ptr<EVP_PKEY> pkey;
  PublicKey pub;
  std::string comment;
};

namespace {

// A private-key file larger than this is not a key (a 16384-bit RSA key in PEM is ~13 KiB).
constexpr size_t kMaxPrivateKeyFileLen = 1024 * 1024;

constexpr char kErrFormat[] = "invalid format";
constexpr char kErrPassphrase[] = "incorrect passphrase supplied to decrypt private key";

// Decrypts (or copies, for "none") the private section. Returns false with `error` set.
bool decrypt_section(const KeyCipher& cipher, ByteView key_iv, ByteView in, ByteView tag,
                     SecretBytes& out, std::string& error) {
  out.assign(in.begin(), in.end());
  if (!cipher.ossl_name) return true;
  EVP_CIPHER* evp = EVP_CIPHER_fetch(nullptr, cipher.ossl_name, nullptr);
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0, final_len = 0;
  bool ok = evp && ctx && EVP_DecryptInit_ex2(ctx.get(), evp, nullptr, nullptr, nullptr) == 1 &&
            (cipher.tag_len == 0 || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN,
                                                        int(cipher.iv_len), nullptr) == 1) &&
            EVP_DecryptInit_ex2(ctx.get(), nullptr, key_iv.data(), key_iv.data() + cipher.key_len,
                                nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1;
  EVP_CIPHER_free(evp);
  if (!ok) {
    error = "cipher initialisation failed";
    return false;
  }
  if (EVP_DecryptUpdate(ctx.get(), out.data(), &len, in.data(), int(in.size())) != 1) {
    error = kErrFormat;
    return false;
  }
  if (cipher.tag_len && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int(tag.size()),
                                            const_cast<uint8_t*>(tag.data())) != 1) {
    error = kErrFormat;
    return false;
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &final_len) != 1) {
    error = kErrPassphrase;  // GCM tag mismatch: the derived key was wrong
    return false;
  }
  return true;
}

std::optional<PublicKey> public_of(EVP_PKEY* pkey) {
  std::optional<Bytes> blob = public_blob_from_pkey(pkey);
  if (!blob) return std::nullopt;
  return PublicKey::from_blob(*blob);
}

std::string too_small(size_t bits) {
  return "RSA key too small: " + std::to_string(bits) + " bits (minimum " +
         std::to_string(kRsaMinPrivateBits) + ")";
}

// Reads one key of the private section (OpenSSH PROTOCOL.key; key fields as sshkey_private_
// serialize). Returns the key or nullptr with `error` set.
ossl::Pkey read_private_fields(wire::Reader& r, std::string& error) {
  std::string_view type_name;
  if (!r.string(type_name)) {
    error = kErrFormat;
    return nullptr;
  }
  std::optional<KeyType> type = key_type_from_name(type_name);
  if (!type) {
    error = "unsupported key type: " + std::string(type_name.substr(0, 64));
    return nullptr;
  }
  error = kErrFormat;
  if (*type == KeyType::kEd25519) {
    ByteView pk, sk;
    if (!r.string(pk) || !r.string(sk) || pk.size() != 32 || sk.size() != 64 ||
        !std::equal(pk.begin(), pk.end(), sk.begin() + 32)) {
      return nullptr;
    }
    ossl::Pkey pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, sk.data(), 32));
    uint8_t derived[32];
    size_t derived_len = sizeof(derived);
    if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), derived, &derived_len) != 1 ||
        derived_len != 32 || !equal_ct(ByteView(derived, 32), pk)) {
      return nullptr;
    }
    return pkey;
  }
  if (*type == KeyType::kRsa) {
    ByteView n, e, d, iqmp, p, q;
    if (!r.mpint_positive(n) || !r.mpint_positive(e) || !r.mpint_positive(d) ||
        !r.mpint_positive(iqmp) || !r.mpint_positive(p) || !r.mpint_positive(q)) {
      return nullptr;
    }
    ossl::Bn bn[6] = {ossl::bn_from(n.data(), n.size()), ossl::bn_from(e.data(), e.size()),
                      ossl::bn_from(d.data(), d.size()), ossl::bn_from(iqmp.data(), iqmp.size()),
                      ossl::bn_from(p.data(), p.size()), ossl::bn_from(q.data(), q.size())};
    for (auto& b : bn) {
      if (!b) return nullptr;
    }
    size_t bits = size_t(BN_num_bits(bn[0].get()));
    if (bits < kRsaMinPrivateBits) {
      error = too_small(bits);
      return nullptr;
    }
    if (bits > kRsaMaxBits) return nullptr;
    ossl::BnCtx bn_ctx(BN_CTX_new());
    ossl::Bn pq(BN_new()), dmp1(BN_new()), dmq1(BN_new()), p1(BN_new()), q1(BN_new());
    if (!bn_ctx || !pq || !dmp1 || !dmq1 || !p1 || !q1 || BN_is_zero(bn[4].get()) ||
        BN_is_zero(bn[5].get()) || !BN_mul(pq.get(), bn[4].get(), bn[5].get(), bn_ctx.get()) ||
        BN_cmp(pq.get(), bn[0].get()) != 0 || !BN_sub(p1.get(), bn[4].get(), BN_value_one()) ||
        !BN_sub(q1.get(), bn[5].get(), BN_value_one()) || BN_is_zero(p1.get()) ||
        BN_is_zero(q1.get()) || !BN_mod(dmp1.get(), bn[2].get(), p1.get(), bn_ctx.get()) ||
        !BN_mod(dmq1.get(), bn[2].get(), q1.get(), bn_ctx.get())) {
      return nullptr;
    }
    ossl::ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn[0].get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn[1].get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, bn[2].get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, bn[4].get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, bn[5].get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, bn[3].get()) != 1) {
      return nullptr;
    }
    return pkey_fromdata("RSA", bld.get(), EVP_PKEY_KEYPAIR);
  }
  const CurveInfo* c = curve_info(*type);
  std::string_view ident;
  ByteView point, priv;
  if (!r.string(ident) || !r.string(point) || !r.mpint_positive(priv) || ident != c->curve_ident ||
      priv.empty() || priv.size() > c->field_len) {
    return nullptr;
  }
  ossl::Bn d = ossl::bn_from(priv.data(), priv.size());
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!d || !bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, c->ossl_group, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
    return nullptr;
  }
  ossl::Pkey pkey = pkey_fromdata("EC", bld.get(), EVP_PKEY_KEYPAIR);
  if (!pkey) return nullptr;
  // The public point must be the one the private scalar gives.
  ossl::PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_pairwise_check(check.get()) != 1) return nullptr;
  return pkey;
}

// Parses the base64-decoded body of an openssh-key-v1 file.
std::optional<PrivateKey::Impl> parse_openssh_v1(ByteView data, std::string_view passphrase,
                                                 std::string& error) {
  error = kErrFormat;
  wire::Reader r(data);
  ByteView magic;
  std::string_view cipher_name, kdf_name;
  ByteView kdf_options, pub_blob, encrypted;
  uint32_t num_keys = 0;
  if (!r.bytes(kAuthMagic.size(), magic) || as_string(magic) != kAuthMagic ||
      !r.string(cipher_name) || !r.string(kdf_name) || !r.string(kdf_options) || !r.u32(num_keys) ||
      num_keys != 1 || !r.string(pub_blob) || !r.string(encrypted)) {
    return std::nullopt;
  }
  const KeyCipher* cipher = find_key_cipher(cipher_name);
  if (!cipher) {
    error = "unsupported cipher: " + std::string(cipher_name.substr(0, 64));
    return std::nullopt;
  }
  ByteView tag;
  if (!r.bytes(cipher->tag_len, tag) || !r.empty()) return std::nullopt;
  if (encrypted.size() < cipher->block_len || encrypted.size() % cipher->block_len != 0) {
    return std::nullopt;
  }

  SecretBytes key_iv(cipher->key_len + cipher->iv_len);
  if (kdf_name == "none") {
    if (cipher->ossl_name || !kdf_options.empty()) return std::nullopt;
  } else if (kdf_name == "bcrypt") {
    if (!cipher->ossl_name) return std::nullopt;
    wire::Reader kr(kdf_options);
    ByteView salt;
    uint32_t rounds = 0;
    if (!kr.string(salt) || !kr.u32(rounds) || !kr.empty()) return std::nullopt;
    if (passphrase.empty()) {
      error = kErrPassphrase;
      return std::nullopt;
    }
    if (salt.empty() || rounds == 0 || rounds > kMaxBcryptRounds) {
      error = "unsupported KDF parameters";
      return std::nullopt;
    }
    if (!bcrypt_pbkdf(passphrase, salt, rounds, MutableByteView(key_iv.data(), key_iv.size()))) {
      error = "key derivation failed";
      return std::nullopt;
    }
  } else {
    error = "unsupported KDF: " + std::string(kdf_name.substr(0, 64));
    return std::nullopt;
  }

  SecretBytes plain;
  if (!decrypt_section(*cipher, view(key_iv), encrypted, tag, plain, error)) return std::nullopt;

  wire::Reader pr(view(plain));
  uint32_t check1 = 0, check2 = 0;
  if (!pr.u32(check1) || !pr.u32(check2)) return std::nullopt;
  if (check1 != check2) {
    error = cipher->ossl_name ? kErrPassphrase : kErrFormat;
    return std::nullopt;
  }
  ossl::Pkey pkey = read_private_fields(pr, error);
  if (!pkey) return std::nullopt;
  error = kErrFormat;
  std::string_view comment;
  if (!pr.string(comment)) return std::nullopt;
  // Padding: 1, 2, 3, ... up to the cipher block size.
  for (uint8_t expect = 1; !pr.empty(); ++expect) {
    uint8_t b = 0;
    if (!pr.u8(b) || b != expect) return std::nullopt;
  }
  std::optional<PublicKey> pub = public_of(pkey.get());
  if (!pub ||
      !std::equal(pub->blob().begin(), pub->blob().end(), pub_blob.begin(), pub_blob.end())) {
    return std::nullopt;  // the unencrypted public key must be the private key's
  }
  error.clear();
  PrivateKey::Impl impl;
  impl.pkey = std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free);
  impl.pub = std::move(*pub);
  impl.comment = std::string(comment);
  return impl;
}

// Finds the armored openssh-key-v1 body and base64-decodes it (whitespace ignored).
std::optional<SecretBytes> openssh_body(std::string_view text) {
  size_t begin = text.find(kOpensshBegin);
  if (begin == std::string_view::npos) return std::nullopt;
  begin += kOpensshBegin.size();
  size_t end = text.find(kOpensshEnd, begin);
  if (end == std::string_view::npos) return std::nullopt;
  std::string b64;
  b64.reserve(end - begin);
  for (char c : text.substr(begin, end - begin)) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') b64 += c;
  }
  std::optional<Bytes> decoded = base64_decode(b64);
  OPENSSL_cleanse(b64.data(), b64.size());
  if (!decoded) return std::nullopt;
  SecretBytes out(decoded->begin(), decoded->end());
  OPENSSL_cleanse(decoded->data(), decoded->size());
  return out;
}

std::optional<PrivateKey::Impl> parse_with_decoder(ByteView data, std::string_view passphrase,
                                                   std::string& error) {
  // Encrypted PEM always says so in its armor ("BEGIN ENCRYPTED PRIVATE KEY" or "Proc-Type:
  // 4,ENCRYPTED"). Without a passphrase we stop here, as OpenSSH does, rather than run a KDF
  // whose cost the file chooses.
  const bool encrypted = as_string(data).find("ENCRYPTED") != std::string_view::npos;
  if (encrypted && passphrase.empty()) {
    error = kErrPassphrase;
    return std::nullopt;
  }
  EVP_PKEY* pkey = nullptr;
  // PEM only: OpenSSH reads no DER key files either.
  OSSL_DECODER_CTX* dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", nullptr, nullptr,
                                                         EVP_PKEY_KEYPAIR, nullptr, nullptr);
  if (!dctx) {
    error = "decoder initialisation failed";
    return std::nullopt;
  }
  OSSL_DECODER_CTX_set_passphrase(dctx, reinterpret_cast<const unsigned char*>(passphrase.data()),
                                  passphrase.size());
  const unsigned char* p = data.data();
  size_t len = data.size();
  int ok = OSSL_DECODER_from_data(dctx, &p, &len);
  OSSL_DECODER_CTX_free(dctx);
  ossl::Pkey owner(pkey);
  if (ok != 1 || !pkey) {
    error = encrypted ? kErrPassphrase : kErrFormat;
    return std::nullopt;
  }
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    size_t bits = size_t(EVP_PKEY_get_bits(pkey));
    if (bits < kRsaMinPrivateBits) {
      error = too_small(bits);
      return std::nullopt;
    }
  }
  std::optional<PublicKey> pub = public_of(pkey);
  if (!pub) {
    error = std::string("unsupported key type: ") + EVP_PKEY_get0_type_name(pkey);
    return std::nullopt;
  }
  PrivateKey::Impl impl;
  impl.pkey = std::shared_ptr<EVP_PKEY>(owner.release(), EVP_PKEY_free);
  impl.pub = std::move(*pub);
  return impl;
}

// A signature made with the private half must verify with the public half. Neither OpenSSL's
// decoders nor the openssh-key-v1 fields guarantee that (an RSA key with a wrong d or CRT value
// parses fine and signs garbage), so every parsed key proves it once.
bool consistent(const PrivateKey::Impl& impl) {
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  static constexpr uint8_t kMsg[] = "hashi private key self-test";
  const char* md = impl.pub.type() == KeyType::kEd25519 ? nullptr : "SHA256";
  size_t sig_len = 0;
  if (!ctx ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, md, nullptr, nullptr, impl.pkey.get(), nullptr) !=
          1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, kMsg, sizeof(kMsg)) != 1) {
    return false;
  }
  Bytes sig(sig_len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &sig_len, kMsg, sizeof(kMsg)) != 1) return false;
  ossl::MdCtx vctx(EVP_MD_CTX_new());
  std::optional<Bytes> blob = public_blob_from_pkey(impl.pkey.get());
  return vctx && blob && *blob == impl.pub.blob() &&
         EVP_DigestVerifyInit_ex(vctx.get(), nullptr, md, nullptr, nullptr, impl.pkey.get(),
                                 nullptr) == 1 &&
         EVP_DigestVerify(vctx.get(), sig.data(), sig_len, kMsg, sizeof(kMsg)) == 1;
}

}  // namespace

std::optional<PrivateKey> PrivateKey::parse(ByteView file_contents, std::string_view passphrase,
                                            std::string& error) {
  error.clear();
  std::optional<Impl> impl;
  if (file_contents.size() > kMaxPrivateKeyFileLen) {
    error = kErrFormat;
  } else if (as_string(file_contents).find(kOpensshBegin) != std::string_view::npos) {
    std::optional<SecretBytes> body = openssh_body(as_string(file_contents));
    if (!body) {
      error = kErrFormat;
    } else {
      impl = parse_openssh_v1(view(*body), passphrase, error);
    }
  } else {
    impl = parse_with_decoder(file_contents, passphrase, error);
  }
  if (impl && !consistent(*impl)) {
    error = "private key does not match its public key";
    impl.reset();
  }
  ERR_clear_error();  // leave no stale OpenSSL errors behind for other code
  if (!impl) return std::nullopt;
  return PrivateKey(std::make_shared<Impl>(std::move(*impl)));
}

std::optional<PrivateKey> PrivateKey::load_file(const std::string& path,
                                                std::string_view passphrase, std::string& error,
                                                bool check_permissions) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = path + ": " + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  // As OpenSSH's sshkey_perm_ok: only a file we own is checked (root may read others' keys).
  if (check_permissions && st.st_uid == ::getuid() && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", unsigned(st.st_mode & 0777));
    error =
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
        "@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @\n"
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
        "Permissions " +
        std::string(mode) + " for '" + path +
        "' are too open.\n"
        "It is required that your private key files are NOT accessible by others.\n"
        "This private key will be ignored.";
    ::close(fd);
    return std::nullopt;
  }
  SecretBytes contents;
  contents.reserve(16 * 1024);
  uint8_t buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = path + ": " + std::strerror(errno);
      ::close(fd);
      OPENSSL_cleanse(buf, sizeof(buf));
      return std::nullopt;
    }
    if (n == 0) break;
    if (contents.size() + size_t(n) > kMaxPrivateKeyFileLen) {
      error = path + ": " + kErrFormat;
      ::close(fd);
      OPENSSL_cleanse(buf, sizeof(buf));
      return std::nullopt;
    }
    contents.insert(contents.end(), buf, buf + n);
  }
  ::close(fd);
  OPENSSL_cleanse(buf, sizeof(buf));
  return parse(view(contents), passphrase, error);
}

PrivateKey PrivateKey::generate(KeyType type, size_t bits) {
  EVP_PKEY* pkey = nullptr;
  switch (type) {
    case KeyType::kEd25519:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case KeyType::kRsa:
      if (bits == 0) bits = kRsaDefaultBits;
      if (bits < kRsaMinPrivateBits || bits > kRsaMaxBits) {
        throw std::invalid_argument("RSA key size out of range: " + std::to_string(bits));
      }
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits);
      break;
    default:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve_info(type)->ossl_group);
      break;
  }
  if (!pkey) throw std::runtime_error("key generation failed");
  std::shared_ptr<EVP_PKEY> owner(pkey, EVP_PKEY_free);
  std::optional<PublicKey> pub = public_of(pkey);
  if (!pub) throw std::runtime_error("key generation failed");
  auto impl = std::make_shared<Impl>();
  impl->pkey = std::move(owner);
  impl->pub = std::move(*pub);
  return PrivateKey(std::move(impl));
}

EVP_PKEY* PrivateKeyAccess::pkey(const PrivateKey& key) { return key.impl_->pkey.get(); }

const PublicKey& PrivateKey::public_key() const { return impl_->pub; }
std::string_view PrivateKey::comment() const { return impl_->comment; }
void PrivateKey::set_comment(std::string comment) {
  auto copy = std::make_shared<Impl>(*impl_);  // copies share Impl; don't change theirs
  copy->comment = std::move(comment);
  impl_ = std::move(copy);
}

Bytes PrivateKey::sign(std::string_view sig_alg, ByteView data) const {
  const KeyType type = impl_->pub.type();
  std::optional<const char*> md_name = signature_digest(type, sig_alg);
  if (!md_name) return {};
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  const char* md = **md_name ? *md_name : nullptr;
  size_t sig_len = 0;
  if (!ctx ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, md, nullptr, nullptr, impl_->pkey.get(), nullptr) !=
          1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, data.data(), data.size()) != 1) {
    ERR_clear_error();
    return {};
  }
  Bytes sig(sig_len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &sig_len, data.data(), data.size()) != 1) {
    ERR_clear_error();
    return {};
  }
  sig.resize(sig_len);

  Bytes out;
  wire::Writer w(out);
  w.string(sig_alg);
  if (type == KeyType::kEd25519 || type == KeyType::kRsa) {
    w.string(sig);
    return out;
  }
  // ECDSA: DER SEQUENCE{r, s} -> string(mpint r, mpint s) (RFC 5656 section 3.1.2).
  const uint8_t* p = sig.data();
  ossl::EcdsaSig esig(d2i_ECDSA_SIG(nullptr, &p, long(sig.size())));
  if (!esig) return {};
  const BIGNUM* r = ECDSA_SIG_get0_r(esig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(esig.get());
  Bytes r_bytes(size_t(BN_num_bytes(r))), s_bytes(size_t(BN_num_bytes(s)));
  BN_bn2bin(r, r_bytes.data());
  BN_bn2bin(s, s_bytes.data());
  size_t pos = w.begin_string();
  w.mpint(r_bytes).mpint(s_bytes);
  w.end_string(pos);
  return out;
}

}  // namespace hashi::keys
