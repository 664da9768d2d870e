// Writing private keys as ssh-keygen does: OpenSSH's openssh-key-v1 format (PROTOCOL.key),
// unencrypted or encrypted with bcrypt_pbkdf + aes256-ctr, and PEM (PKCS#1 RSA, SEC1 EC) or
// PKCS#8 through OpenSSL's OSSL_ENCODER; and replacing files atomically.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "keys/key.h"
#include "wire/bytes.h"

namespace hashi::keys {

// ssh-keygen's default KDF rounds (-a) for new-format keys.
inline constexpr uint32_t kDefaultKdfRounds = 16;
// OpenSSL refuses shorter PEM passphrases; ssh-keygen reports it before trying (sshkey.c).
inline constexpr size_t kMinPemPassphraseLen = 5;

enum class PrivateKeyFormat {
  kOpenssh,  // "-----BEGIN OPENSSH PRIVATE KEY-----"
  kPem,      // PKCS#1 "RSA PRIVATE KEY" / SEC1 "EC PRIVATE KEY" (ed25519: written as kOpenssh)
  kPkcs8,    // "PRIVATE KEY" / "ENCRYPTED PRIVATE KEY" (ed25519: written as kOpenssh)
};

struct PrivateKeyWriteOptions {
  PrivateKeyFormat format = PrivateKeyFormat::kOpenssh;
  std::string_view passphrase;  // empty: not encrypted
  std::string_view comment;     // stored only by kOpenssh (PEM has no place for it)
  uint32_t kdf_rounds = kDefaultKdfRounds;
};

// KeyMaterial is a private key that can be written out again, in any format (PrivateKey itself
// only signs).
class KeyMaterial {
 public:
  // generate makes a new key; `bits` is used for RSA only (0 = 3072). Throws
  // std::invalid_argument for an RSA size outside 2048..16384 and std::runtime_error if OpenSSL
  // fails.
  static KeyMaterial generate(KeyType type, size_t bits = 0);

  // parse reads a private-key file as PrivateKey::parse does. On failure returns nullopt with
  // `error` set to PrivateKey::parse's message.
  static std::optional<KeyMaterial> parse(ByteView file_contents, std::string_view passphrase,
                                          std::string& error);

  const PrivateKey& key() const { return key_; }
  std::string_view comment() const { return key_.comment(); }

  // encode returns the file contents for `options`, or nullopt with `error` set (e.g.
  // "passphrase is too short (minimum five characters)" for a short PEM passphrase, or an OpenSSL
  // failure). Each call uses fresh random salt and check bytes.
  std::optional<std::string> encode(const PrivateKeyWriteOptions& options,
                                    std::string& error) const;

 private:
  explicit KeyMaterial(PrivateKey key) : key_(std::move(key)) {}
  PrivateKey key_;
};

// write_file_atomic writes `contents` to a temporary file next to `path` with `mode`, syncs it and
// renames it over `path`, so readers see the old file or the new one, never a part. Returns false
// with `error` set ("path: strerror") on failure, leaving no temporary file behind.
[[nodiscard]] bool write_file_atomic(const std::string& path, std::string_view contents,
                                     unsigned mode, std::string& error);

}  // namespace hashi::keys
