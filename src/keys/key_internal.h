// Internal to keys/: shared by key.cpp, private_key.cpp and key_writer.cpp.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "keys/key.h"
#include "crypto/ossl.h"

namespace hashi::keys {

struct PublicKey::Impl {
  Bytes blob;
  KeyType type = KeyType::kEd25519;
  size_t bits = 0;
  ossl::Pkey pkey;
};

struct CurveInfo {
  KeyType type;
  std::string_view ssh_name;     // "ecdsa-sha2-nistp256"
  std::string_view curve_ident;  // "nistp256" (RFC 5656 section 6.1)
  const char* ossl_group;        // "P-256"
  const char* digest;            // "SHA256" (RFC 5656 section 6.2.1)
  size_t field_len;              // bytes per coordinate
};

// curve_info returns the table row for an ECDSA key type; nullptr for other types.
const CurveInfo* curve_info(KeyType type);
// curve_info_by_group finds the row for an OpenSSL group name ("P-256"); nullptr if unsupported.
const CurveInfo* curve_info_by_group(std::string_view group);

// signature_digest returns the digest name for a signature algorithm valid for `type` ("" for
// ed25519, which hashes internally), or nullopt if `sig_alg` cannot be used with `type`.
std::optional<const char*> signature_digest(KeyType type, std::string_view sig_alg);

// openssh-key-v1 armor and magic (OpenSSH PROTOCOL.key).
inline constexpr std::string_view kOpensshBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
inline constexpr std::string_view kOpensshEnd = "-----END OPENSSH PRIVATE KEY-----";
inline constexpr std::string_view kAuthMagic("openssh-key-v1\0", 15);

// A cipher for the private section of an openssh-key-v1 file.
struct KeyCipher {
  std::string_view ssh_name;
  const char* ossl_name;  // nullptr for "none"
  size_t key_len;
  size_t iv_len;
  size_t block_len;
  size_t tag_len;  // non-zero for GCM
};

// The ciphers PrivateKey::parse accepts.
inline constexpr std::array<KeyCipher, 8> kKeyCiphers = {{
    {"none", nullptr, 0, 0, 8, 0},
    {"aes128-ctr", "AES-128-CTR", 16, 16, 16, 0},
    {"aes192-ctr", "AES-192-CTR", 24, 16, 16, 0},
    {"aes256-ctr", "AES-256-CTR", 32, 16, 16, 0},
    {"aes128-cbc", "AES-128-CBC", 16, 16, 16, 0},
    {"aes256-cbc", "AES-256-CBC", 32, 16, 16, 0},
    {"aes128-gcm@openssh.com", "AES-128-GCM", 16, 12, 16, 16},
    {"aes256-gcm@openssh.com", "AES-256-GCM", 32, 12, 16, 16},
}};

// find_key_cipher returns the kKeyCiphers row named `name`; nullptr if there is none.
constexpr const KeyCipher* find_key_cipher(std::string_view name) {
  for (const KeyCipher& c : kKeyCiphers) {
    if (c.ssh_name == name) return &c;
  }
  return nullptr;
}

// PrivateKeyAccess lets key_writer.cpp serialise a PrivateKey's secret parts again without
// parsing its file a second time. Not for use outside keys/.
struct PrivateKeyAccess {
  // pkey returns the OpenSSL key (private and public halves) behind `key`; never null. It lives
  // as long as `key` or a copy of it.
  static EVP_PKEY* pkey(const PrivateKey& key);
};

// pkey_fromdata makes an OpenSSL key of algorithm `alg` ("RSA", "EC") from the parameters in
// `bld`; `selection` is EVP_PKEY_PUBLIC_KEY or EVP_PKEY_KEYPAIR. Returns nullptr if OpenSSL
// refuses them.
ossl::Pkey pkey_fromdata(const char* alg, OSSL_PARAM_BLD* bld, int selection);

// public_blob_from_pkey encodes the SSH public-key blob of an OpenSSL key; nullopt if the key is of
// an unsupported kind.
std::optional<Bytes> public_blob_from_pkey(EVP_PKEY* pkey);

}  // namespace hashi::keys
