// Private-key writers: openssh-key-v1 (OpenSSH PROTOCOL.key, as sshkey_private_to_blob2 writes
// it) and PEM / PKCS#8 through OSSL_ENCODER (as ssh-keygen -m PEM / -m PKCS8).
#include "keys/key_writer.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "keys/base64.h"
#include "keys/bcrypt_pbkdf.h"
#include "keys/key_internal.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::keys {

struct KeyMaterial::Handle {
  std::shared_ptr<EVP_PKEY> pkey;
};

namespace {

constexpr std::string_view kOpensshBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kOpensshEnd = "-----END OPENSSH PRIVATE KEY-----";
constexpr std::string_view kAuthMagic("openssh-key-v1\0", 15);
// ssh-keygen's choices for new encrypted keys (sshkey.c DEFAULT_CIPHERNAME, SALT_LEN) and the
// base64 line length of the armored file.
constexpr std::string_view kWriteCipher = "aes256-ctr";
constexpr size_t kSaltLen = 16;
constexpr size_t kArmorWrap = 70;
constexpr char kPemCipher[] = "AES-128-CBC";  // ssh-keygen's cipher for PEM and PKCS#8

struct KeyCipher {
  std::string_view ssh_name;
  const char* ossl_name;
  size_t key_len;
  size_t iv_len;
  size_t block_len;
  size_t tag_len;
};

// The ciphers PrivateKey::parse accepts, so that any key it reads can be rewritten.
constexpr std::array<KeyCipher, 8> kKeyCiphers = {{
    {"none", nullptr, 0, 0, 8, 0},
    {"aes128-ctr", "AES-128-CTR", 16, 16, 16, 0},
    {"aes192-ctr", "AES-192-CTR", 24, 16, 16, 0},
    {"aes256-ctr", "AES-256-CTR", 32, 16, 16, 0},
    {"aes128-cbc", "AES-128-CBC", 16, 16, 16, 0},
    {"aes256-cbc", "AES-256-CBC", 32, 16, 16, 0},
    {"aes128-gcm@openssh.com", "AES-128-GCM", 16, 12, 16, 16},
    {"aes256-gcm@openssh.com", "AES-256-GCM", 32, 12, 16, 16},
}};

const KeyCipher* find_cipher(std::string_view name) {
  for (const auto& c : kKeyCiphers) {
    if (c.ssh_name == name) return &c;
  }
  return nullptr;
}

// Runs `cipher` over `data` in place (encrypt or decrypt); for GCM, `tag` is written (encrypt) or
// checked (decrypt).
bool run_cipher(const KeyCipher& cipher, ByteView key_iv, MutableByteView data, bool encrypt,
                MutableByteView tag) {
  EVP_CIPHER* evp = EVP_CIPHER_fetch(nullptr, cipher.ossl_name, nullptr);
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0, final_len = 0;
  const uint8_t* key = key_iv.data();
  const uint8_t* iv = key_iv.data() + cipher.key_len;
  bool ok = evp && ctx && EVP_CipherInit_ex2(ctx.get(), evp, nullptr, nullptr, encrypt, nullptr) == 1 &&
            (cipher.tag_len == 0 || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN,
                                                        int(cipher.iv_len), nullptr) == 1) &&
            EVP_CipherInit_ex2(ctx.get(), nullptr, key, iv, encrypt, nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 &&
            EVP_CipherUpdate(ctx.get(), data.data(), &len, data.data(), int(data.size())) == 1 &&
            (encrypt || cipher.tag_len == 0 ||
             EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int(tag.size()), tag.data()) ==
                 1) &&
            EVP_CipherFinal_ex(ctx.get(), data.data() + len, &final_len) == 1 &&
            (!encrypt || cipher.tag_len == 0 ||
             EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int(tag.size()), tag.data()) ==
                 1);
  EVP_CIPHER_free(evp);
  return ok;
}

ossl::Pkey pkey_fromdata(const char* alg, OSSL_PARAM_BLD* bld) {
  ossl::Params params(OSSL_PARAM_BLD_to_param(bld));
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, alg, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return nullptr;
  }
  return ossl::Pkey(pkey);
}

// Reads the key fields of an openssh-key-v1 private section (already checked by
// PrivateKey::parse) into an OpenSSL key.
ossl::Pkey pkey_from_private_fields(wire::Reader& r) {
  std::string_view type_name;
  if (!r.string(type_name)) return nullptr;
  std::optional<KeyType> type = key_type_from_name(type_name);
  if (!type) return nullptr;
  if (*type == KeyType::kEd25519) {
    ByteView pk, sk;
    if (!r.string(pk) || !r.string(sk) || sk.size() != 64) return nullptr;
    return ossl::Pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, sk.data(), 32));
  }
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld) return nullptr;
  if (*type == KeyType::kRsa) {
    std::array<ByteView, 6> v;  // n, e, d, iqmp, p, q
    for (ByteView& f : v) {
      if (!r.mpint_positive(f)) return nullptr;
    }
    std::array<ossl::Bn, 6> bn;
    for (size_t i = 0; i < v.size(); ++i) {
      bn[i] = ossl::bn_from(v[i].data(), v[i].size());
      if (!bn[i]) return nullptr;
    }
    ossl::BnCtx bn_ctx(BN_CTX_new());
    ossl::Bn dmp1(BN_new()), dmq1(BN_new()), p1(BN_dup(bn[4].get())), q1(BN_dup(bn[5].get()));
    if (!bn_ctx || !dmp1 || !dmq1 || !p1 || !q1 || !BN_sub_word(p1.get(), 1) ||
        !BN_sub_word(q1.get(), 1) || !BN_mod(dmp1.get(), bn[2].get(), p1.get(), bn_ctx.get()) ||
        !BN_mod(dmq1.get(), bn[2].get(), q1.get(), bn_ctx.get()) ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn[0].get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn[1].get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, bn[2].get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, bn[4].get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, bn[5].get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, bn[3].get()) != 1) {
      return nullptr;
    }
    return pkey_fromdata("RSA", bld.get());
  }
  const CurveInfo* c = curve_info(*type);
  std::string_view ident;
  ByteView point, priv;
  if (!r.string(ident) || !r.string(point) || !r.mpint_positive(priv)) return nullptr;
  ossl::Bn d = ossl::bn_from(priv.data(), priv.size());
  if (!d ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, c->ossl_group, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
    return nullptr;
  }
  return pkey_fromdata("EC", bld.get());
}

// The OpenSSL key inside an openssh-key-v1 file that PrivateKey::parse has accepted.
ossl::Pkey pkey_from_openssh(std::string_view text, std::string_view passphrase) {
  size_t begin = text.find(kOpensshBegin);
  size_t end = text.find(kOpensshEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin) {
    return nullptr;
  }
  std::string b64;
  for (char c : text.substr(begin + kOpensshBegin.size(), end - begin - kOpensshBegin.size())) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') b64 += c;
  }
  std::optional<Bytes> decoded = base64_decode(b64);
  OPENSSL_cleanse(b64.data(), b64.size());
  if (!decoded) return nullptr;
  SecretBytes body(decoded->begin(), decoded->end());
  OPENSSL_cleanse(decoded->data(), decoded->size());

  wire::Reader r(view(body));
  ByteView magic, kdf_options, pub_blob, encrypted, tag;
  std::string_view cipher_name, kdf_name;
  uint32_t num_keys = 0;
  if (!r.bytes(kAuthMagic.size(), magic) || !r.string(cipher_name) || !r.string(kdf_name) ||
      !r.string(kdf_options) || !r.u32(num_keys) || !r.string(pub_blob) || !r.string(encrypted)) {
    return nullptr;
  }
  const KeyCipher* cipher = find_cipher(cipher_name);
  if (!cipher || !r.bytes(cipher->tag_len, tag)) return nullptr;
  SecretBytes plain(encrypted.begin(), encrypted.end());
  if (cipher->ossl_name) {
    wire::Reader kr(kdf_options);
    ByteView salt;
    uint32_t rounds = 0;
    SecretBytes key_iv(cipher->key_len + cipher->iv_len);
    Bytes tag_copy(tag.begin(), tag.end());
    if (kdf_name != "bcrypt" || !kr.string(salt) || !kr.u32(rounds) ||
        !bcrypt_pbkdf(passphrase, salt, rounds, MutableByteView(key_iv.data(), key_iv.size())) ||
        !run_cipher(*cipher, view(key_iv), MutableByteView(plain.data(), plain.size()), false,
                    tag_copy)) {
      return nullptr;
    }
  }
  wire::Reader pr(view(plain));
  uint32_t check1 = 0, check2 = 0;
  if (!pr.u32(check1) || !pr.u32(check2) || check1 != check2) return nullptr;
  return pkey_from_private_fields(pr);
}

ossl::Pkey pkey_from_pem(ByteView data, std::string_view passphrase) {
  EVP_PKEY* pkey = nullptr;
  OSSL_DECODER_CTX* dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", nullptr, nullptr,
                                                         EVP_PKEY_KEYPAIR, nullptr, nullptr);
  if (!dctx) return nullptr;
  OSSL_DECODER_CTX_set_passphrase(dctx, reinterpret_cast<const unsigned char*>(passphrase.data()),
                                  passphrase.size());
  const unsigned char* p = data.data();
  size_t len = data.size();
  int ok = OSSL_DECODER_from_data(dctx, &p, &len);
  OSSL_DECODER_CTX_free(dctx);
  ossl::Pkey owner(pkey);
  if (ok != 1) return nullptr;
  return owner;
}

void put_bn_param(wire::Writer& w, EVP_PKEY* pkey, const char* name, bool& ok) {
  BIGNUM* bn = nullptr;
  if (!ok || EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
    ok = false;
    return;
  }
  ossl::Bn owner(bn);
  SecretBytes bytes(size_t(BN_num_bytes(bn)));
  BN_bn2bin(bn, bytes.data());
  w.mpint(view(bytes));
}

// Appends the private key fields (PROTOCOL.key; sshkey_private_serialize) for `pkey`.
bool write_private_fields(wire::Writer& w, EVP_PKEY* pkey, const PublicKey& pub) {
  w.string(pub.type_name());
  if (pub.type() == KeyType::kEd25519) {
    SecretBytes sk(64);
    size_t priv_len = 32, pub_len = 32;
    if (EVP_PKEY_get_raw_private_key(pkey, sk.data(), &priv_len) != 1 ||
        EVP_PKEY_get_raw_public_key(pkey, sk.data() + 32, &pub_len) != 1 || priv_len != 32 ||
        pub_len != 32) {
      return false;
    }
    w.string(ByteView(sk.data() + 32, 32)).string(view(sk));
    return true;
  }
  bool ok = true;
  if (pub.type() == KeyType::kRsa) {
    put_bn_param(w, pkey, OSSL_PKEY_PARAM_RSA_N, ok);
    put_bn_param(w, pkey, OSSL_PKEY_PARAM_RSA_E, ok);
    put_bn_param(w, pkey, OSSL_PKEY_PARAM_RSA_D, ok);
    put_bn_param(w, pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, ok);
    put_bn_param(w, pkey, OSSL_PKEY_PARAM_RSA_FACTOR1, ok);
    put_bn_param(w, pkey, OSSL_PKEY_PARAM_RSA_FACTOR2, ok);
    return ok;
  }
  // ECDSA: curve name and point exactly as in the public blob, then the scalar.
  wire::Reader r(pub.blob());
  std::string_view name, ident;
  ByteView point;
  if (!r.string(name) || !r.string(ident) || !r.string(point)) return false;
  w.string(ident).string(point);
  put_bn_param(w, pkey, OSSL_PKEY_PARAM_PRIV_KEY, ok);
  return ok;
}

std::string armor(ByteView body) {
  std::string b64 = base64_encode(body);
  std::string out(kOpensshBegin);
  out += '\n';
  for (size_t i = 0; i < b64.size(); i += kArmorWrap) {
    out.append(b64, i, kArmorWrap);
    out += '\n';
  }
  out += kOpensshEnd;
  out += '\n';
  OPENSSL_cleanse(b64.data(), b64.size());
  return out;
}

std::optional<std::string> encode_openssh(EVP_PKEY* pkey, const PublicKey& pub,
                                          const PrivateKeyWriteOptions& options,
                                          std::string& error) {
  const bool encrypt = !options.passphrase.empty();
  const KeyCipher& cipher = *find_cipher(encrypt ? kWriteCipher : "none");
  Bytes priv;
  wire::Writer pw(priv);
  uint32_t check = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof(check)) != 1) {
    error = "random number generator failed";
    return std::nullopt;
  }
  pw.u32(check).u32(check);
  if (!write_private_fields(pw, pkey, pub)) {
    OPENSSL_cleanse(priv.data(), priv.size());
    error = "cannot serialise private key";
    return std::nullopt;
  }
  pw.string(options.comment);
  for (uint8_t pad = 1; priv.size() % cipher.block_len != 0; ++pad) pw.u8(pad);

  Bytes kdf_options;
  if (encrypt) {
    uint8_t salt[kSaltLen];
    SecretBytes key_iv(cipher.key_len + cipher.iv_len);
    if (RAND_bytes(salt, sizeof(salt)) != 1 ||
        !bcrypt_pbkdf(options.passphrase, ByteView(salt, sizeof(salt)), options.kdf_rounds,
                      MutableByteView(key_iv.data(), key_iv.size())) ||
        !run_cipher(cipher, view(key_iv), MutableByteView(priv.data(), priv.size()), true, {})) {
      OPENSSL_cleanse(priv.data(), priv.size());
      error = "cannot encrypt private key";
      return std::nullopt;
    }
    wire::Writer(kdf_options).string(ByteView(salt, sizeof(salt))).u32(options.kdf_rounds);
  }
  Bytes body;
  wire::Writer w(body);
  w.raw(kAuthMagic)
      .string(cipher.ssh_name)
      .string(encrypt ? "bcrypt" : "none")
      .string(kdf_options)
      .u32(1)
      .string(pub.blob())
      .string(priv);
  OPENSSL_cleanse(priv.data(), priv.size());
  std::string out = armor(body);
  OPENSSL_cleanse(body.data(), body.size());
  return out;
}

std::optional<std::string> encode_pem(EVP_PKEY* pkey, const PrivateKeyWriteOptions& options,
                                      std::string& error) {
  const bool encrypt = !options.passphrase.empty();
  if (encrypt && options.passphrase.size() < kMinPemPassphraseLen) {
    error = "passphrase is too short (minimum five characters)";
    return std::nullopt;
  }
  const char* structure = options.format == PrivateKeyFormat::kPem ? "type-specific"
                          : encrypt                                ? "EncryptedPrivateKeyInfo"
                                                                   : "PrivateKeyInfo";
  OSSL_ENCODER_CTX* ctx =
      OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, "PEM", structure, nullptr);
  unsigned char* data = nullptr;
  size_t len = 0;
  int ok = ctx && OSSL_ENCODER_CTX_get_num_encoders(ctx) > 0 &&
           (!encrypt ||
            (OSSL_ENCODER_CTX_set_cipher(ctx, kPemCipher, nullptr) == 1 &&
             OSSL_ENCODER_CTX_set_passphrase(
                 ctx, reinterpret_cast<const unsigned char*>(options.passphrase.data()),
                 options.passphrase.size()) == 1)) &&
           OSSL_ENCODER_to_data(ctx, &data, &len) == 1;
  OSSL_ENCODER_CTX_free(ctx);
  ERR_clear_error();
  if (!ok || !data) {
    error = "PEM encoding failed";
    return std::nullopt;
  }
  std::string out(reinterpret_cast<const char*>(data), len);
  OPENSSL_clear_free(data, len);
  return out;
}

}  // namespace

KeyMaterial KeyMaterial::generate(KeyType type, size_t bits) {
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
  auto handle = std::make_shared<Handle>();
  handle->pkey = std::shared_ptr<EVP_PKEY>(pkey, EVP_PKEY_free);
  std::optional<Bytes> blob = public_blob_from_pkey(pkey);
  std::optional<PublicKey> pub = blob ? PublicKey::from_blob(*blob) : std::nullopt;
  if (!pub) throw std::runtime_error("key generation failed");
  // The PrivateKey view comes from our own unencrypted encoding, so every generated key has
  // passed the reader once before it is saved.
  std::string error;
  std::optional<std::string> text =
      encode_openssh(pkey, *pub, PrivateKeyWriteOptions{}, error);
  std::optional<PrivateKey> key =
      text ? PrivateKey::parse(as_bytes(*text), "", error) : std::nullopt;
  if (text) OPENSSL_cleanse(text->data(), text->size());
  if (!key) throw std::runtime_error("generated key does not read back: " + error);
  return KeyMaterial(std::move(handle), std::move(*key));
}

std::optional<KeyMaterial> KeyMaterial::parse(ByteView file_contents, std::string_view passphrase,
                                              std::string& error) {
  std::optional<PrivateKey> key = PrivateKey::parse(file_contents, passphrase, error);
  if (!key) return std::nullopt;
  std::string_view text = as_string(file_contents);
  ossl::Pkey pkey = text.find(kOpensshBegin) != std::string_view::npos
                        ? pkey_from_openssh(text, passphrase)
                        : pkey_from_pem(file_contents, passphrase);
  ERR_clear_error();
  std::optional<Bytes> blob = pkey ? public_blob_from_pkey(pkey.get()) : std::nullopt;
  if (!blob || *blob != key->public_key().blob()) {
    error = "invalid format";
    return std::nullopt;
  }
  auto handle = std::make_shared<Handle>();
  handle->pkey = std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free);
  return KeyMaterial(std::move(handle), std::move(*key));
}

std::optional<std::string> KeyMaterial::encode(const PrivateKeyWriteOptions& options,
                                               std::string& error) const {
  // ssh-keygen writes ed25519 keys only in its own format, whatever -m says (sshkey.c
  // sshkey_private_to_fileblob).
  if (options.format == PrivateKeyFormat::kOpenssh ||
      key_.public_key().type() == KeyType::kEd25519) {
    return encode_openssh(handle_->pkey.get(), key_.public_key(), options, error);
  }
  return encode_pem(handle_->pkey.get(), options, error);
}

bool write_file_atomic(const std::string& path, std::string_view contents, unsigned mode,
                       std::string& error) {
  std::string tmp = path + ".XXXXXXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  auto fail = [&](const std::string& what) {
    error = what + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  };
  if (::fchmod(fd, mode_t(mode)) != 0) return fail(tmp);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(tmp);
    done += size_t(n);
  }
  if (::fsync(fd) != 0) return fail(tmp);
  if (::close(fd) != 0) {
    error = tmp + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace hashi::keys
