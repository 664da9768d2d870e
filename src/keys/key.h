// SSH public and private keys: ssh-ed25519 (RFC 8709), ecdsa-sha2-nistp{256,384,521} (RFC 5656)
// and ssh-rsa / rsa-sha2-{256,512} (RFC 4253 section 6.6, RFC 8332). All crypto is OpenSSL 3 EVP.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/bytes.h"

namespace hashi::keys {

enum class KeyType { kEd25519, kEcdsaP256, kEcdsaP384, kEcdsaP521, kRsa };

// Limits on RSA modulus size. Public keys below 1024 bits are rejected outright (OpenSSH's
// SSH_RSA_MINIMUM_MODULUS_SIZE); our own private keys must be at least 2048 bits. The upper bound
// keeps a hostile key from costing seconds of CPU per verification.
inline constexpr size_t kRsaMinPublicBits = 1024;
inline constexpr size_t kRsaMinPrivateBits = 2048;
inline constexpr size_t kRsaMaxBits = 16384;
inline constexpr size_t kRsaDefaultBits = 3072;

// The key-type name in blobs and lines: "ssh-ed25519", "ecdsa-sha2-nistp256", ..., "ssh-rsa".
std::string_view key_type_name(KeyType type);
// The KeyType for a key-type name as it appears in a blob or a line; nullopt if unknown.
std::optional<KeyType> key_type_from_name(std::string_view name);

class PublicKey {
 public:
  // An empty key: blob() is empty and verify() always fails. Real keys come from from_blob().
  PublicKey() = default;

  // from_blob decodes an SSH public-key blob (RFC 4253 6.6 ssh-rsa, RFC 5656 ecdsa-sha2-*,
  // RFC 8709 ssh-ed25519). Returns nullopt on any malformed input, trailing bytes, unknown type,
  // RSA < 1024 or > 16384 bits, EC point not on the curve or curve name not matching the type.
  static std::optional<PublicKey> from_blob(ByteView blob);

  const Bytes& blob() const;
  KeyType type() const;
  std::string_view type_name() const;
  size_t bits() const;

  // verify checks `signature_blob` (string alg-name, string sig) over `data`. False unless the
  // blob's name equals `sig_alg`, sig_alg is valid for this key type (rsa: rsa-sha2-256,
  // rsa-sha2-512, ssh-rsa (SHA-1)), and the signature is good. ECDSA's inner signature is
  // mpint r, mpint s (RFC 5656 3.1.2).
  bool verify(std::string_view sig_alg, ByteView data, ByteView signature_blob) const;

  // "SHA256:" + unpadded base64 of SHA-256(blob), as ssh-keygen -l prints it.
  std::string fingerprint_sha256() const;
  // "MD5:aa:bb:..." as ssh-keygen -l -E md5 prints it.
  std::string fingerprint_md5() const;
  // "ssh-ed25519 AAAA... comment" (no trailing newline; no space when the comment is empty).
  std::string to_line(std::string_view comment = {}) const;

  // Blob equality.
  bool operator==(const PublicKey& other) const;

  struct Impl;

 private:
  explicit PublicKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// signature_algorithms returns the signature algorithms usable with a key type, in preference
// order: ed25519 {"ssh-ed25519"}; ecdsa {"ecdsa-sha2-nistpN"}; rsa {"rsa-sha2-512",
// "rsa-sha2-256", "ssh-rsa"}.
std::vector<std::string_view> signature_algorithms(KeyType type);

// key_type_for_algorithm returns the key type a host-key / signature algorithm name needs
// (ssh-rsa, rsa-sha2-256, rsa-sha2-512 -> kRsa); nullopt if the name is unknown.
std::optional<KeyType> key_type_for_algorithm(std::string_view sig_alg);

class PrivateKey {
 public:
  // parse reads a private-key file's contents: openssh-key-v1 ("-----BEGIN OPENSSH PRIVATE
  // KEY-----"), unencrypted or encrypted with bcrypt + aes{128,192,256}-{ctr,cbc} /
  // aes{128,256}-gcm@openssh.com; PEM PKCS#1 RSA, SEC1 EC, PKCS#8 (plain or encrypted).
  // On failure returns nullopt and sets `error`, e.g. "invalid format", "incorrect passphrase
  // supplied to decrypt private key", "RSA key too small: 1024 bits (minimum 2048)".
  static std::optional<PrivateKey> parse(ByteView file_contents, std::string_view passphrase,
                                         std::string& error);

  // load_file reads and parses `path`. Unless `check_permissions` is false, a file owned by the
  // caller that is group/world accessible is refused with OpenSSH's "WARNING: UNPROTECTED PRIVATE
  // KEY FILE!" message ("Permissions 0644 for 'path' are too open.").
  static std::optional<PrivateKey> load_file(const std::string& path, std::string_view passphrase,
                                             std::string& error, bool check_permissions = true);

  // generate makes a new key. `bits` matters only for RSA (0 = 3072; must be 2048..16384, else
  // std::invalid_argument is thrown: that is a programming error, not bad input).
  static PrivateKey generate(KeyType type, size_t bits = 0);

  const PublicKey& public_key() const;
  std::string_view comment() const;
  void set_comment(std::string comment);

  // sign returns the SSH signature blob (string alg-name, string sig) over `data`, or an empty
  // Bytes if `sig_alg` is not valid for this key type (see signature_algorithms) or signing fails.
  Bytes sign(std::string_view sig_alg, ByteView data) const;

  struct Impl;

 private:
  friend struct PrivateKeyAccess;  // key_internal.h: the OpenSSL key, for keys/ only
  explicit PrivateKey(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace hashi::keys
