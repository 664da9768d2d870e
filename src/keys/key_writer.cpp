// Private-key writers: openssh-key-v1 (OpenSSH PROTOCOL.key, as sshkey_private_to_blob2 writes
// it) and PEM / PKCS#8 through OSSL_ENCODER (as ssh-keygen -m PEM / -m PKCS8).
#include "keys/key_writer.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "crypto/secret.h"
#include "keys/base64.h"
#include "keys/bcrypt_pbkdf.h"
#include "keys/key_internal.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::keys {

namespace {

// ssh-keygen's choices for new encrypted keys (sshkey.c DEFAULT_CIPHERNAME, SALT_LEN) and the
// base64 line length of the armored file.
constexpr std::string_view kWriteCipher = "aes256-ctr";
constexpr size_t kSaltLen = 16;
constexpr size_t kArmorWrap = 70;
constexpr char kPemCipher[] = "AES-128-CBC";  // ssh-keygen's cipher for PEM and PKCS#8

// Encrypts the private section in place with a cipher that has no tag (kWriteCipher is one);
// false for any other.
bool encrypt_section(const KeyCipher& cipher, ByteView key_iv, MutableByteView data) {
  if (cipher.tag_len != 0) return false;
  EVP_CIPHER* evp = EVP_CIPHER_fetch(nullptr, cipher.ossl_name, nullptr);
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0, final_len = 0;
  bool ok = evp && ctx &&
            EVP_EncryptInit_ex2(ctx.get(), evp, key_iv.data(), key_iv.data() + cipher.key_len,
                                nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 &&
            EVP_EncryptUpdate(ctx.get(), data.data(), &len, data.data(), int(data.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), data.data() + len, &final_len) == 1;
  EVP_CIPHER_free(evp);
  return ok;
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
  const KeyCipher& cipher = *find_key_cipher(encrypt ? kWriteCipher : "none");
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
        !encrypt_section(cipher, view(key_iv), MutableByteView(priv.data(), priv.size()))) {
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
  PrivateKey key = PrivateKey::generate(type, bits);
  // Our own unencrypted encoding must read back, so every generated key has passed the reader
  // once before it is saved.
  std::string error;
  std::optional<std::string> text = encode_openssh(PrivateKeyAccess::pkey(key), key.public_key(),
                                                   PrivateKeyWriteOptions{}, error);
  std::optional<PrivateKey> again =
      text ? PrivateKey::parse(as_bytes(*text), "", error) : std::nullopt;
  if (text) OPENSSL_cleanse(text->data(), text->size());
  if (!again) throw std::runtime_error("generated key does not read back: " + error);
  return KeyMaterial(std::move(key));
}

std::optional<KeyMaterial> KeyMaterial::parse(ByteView file_contents, std::string_view passphrase,
                                              std::string& error) {
  std::optional<PrivateKey> key = PrivateKey::parse(file_contents, passphrase, error);
  if (!key) return std::nullopt;
  return KeyMaterial(std::move(*key));
}

std::optional<std::string> KeyMaterial::encode(const PrivateKeyWriteOptions& options,
                                               std::string& error) const {
  EVP_PKEY* pkey = PrivateKeyAccess::pkey(key_);
  // ssh-keygen writes ed25519 keys only in its own format, whatever -m says (sshkey.c
  // sshkey_private_to_fileblob).
  if (options.format == PrivateKeyFormat::kOpenssh ||
      key_.public_key().type() == KeyType::kEd25519) {
    return encode_openssh(pkey, key_.public_key(), options, error);
  }
  return encode_pem(pkey, options, error);
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
