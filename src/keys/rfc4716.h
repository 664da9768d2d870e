// Public-key interchange formats of ssh-keygen -e / -i: the SSH2 public key file of RFC 4716
// ("---- BEGIN SSH2 PUBLIC KEY ----"), and PEM public keys (PKCS#1 "RSA PUBLIC KEY" and X.509
// SubjectPublicKeyInfo "PUBLIC KEY", which ssh-keygen calls PEM and PKCS8).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "keys/key.h"

namespace hashi::keys {

// Decoded bodies and headers beyond this are not RFC 4716 public keys (a 16384-bit RSA blob is
// about 2 KiB; RFC 4716 section 3.3 caps a header line at 1024 bytes).
inline constexpr size_t kMaxRfc4716Len = 64 * 1024;

// rfc4716_encode returns the file ssh-keygen -e writes: BEGIN line, `Comment: "comment"` (left
// out when `comment` is empty), the blob's base64 wrapped at 70 columns, END line; each line
// ends with '\n'.
std::string rfc4716_encode(const PublicKey& key, std::string_view comment);

// rfc4716_decode reads an RFC 4716 public key as ssh-keygen -i does: header lines ("Name: value",
// continued by a trailing backslash) are skipped, the base64 lines up to the END line are joined.
// Returns nullopt on a missing BEGIN line, bad base64 or a blob that is not a supported public key.
std::optional<PublicKey> rfc4716_decode(std::string_view text);

enum class PemPublicFormat {
  kPem,    // ssh-keygen -m PEM: PKCS#1 "RSA PUBLIC KEY" for RSA, SubjectPublicKeyInfo for ECDSA
  kPkcs8,  // ssh-keygen -m PKCS8: SubjectPublicKeyInfo "PUBLIC KEY"
};

// pem_public_encode returns the PEM text for `key`, or nullopt with `error` set when ssh-keygen
// cannot write that key type in that format (ed25519 in either; ECDSA as PKCS#1 is not a thing,
// so kPem writes SubjectPublicKeyInfo for it as ssh-keygen does).
std::optional<std::string> pem_public_encode(const PublicKey& key, PemPublicFormat format,
                                             std::string& error);

// pem_public_decode reads a PEM public key ("RSA PUBLIC KEY" for kPem; "PUBLIC KEY" for kPkcs8,
// RSA or ECDSA). Returns nullopt with `error` set on failure.
std::optional<PublicKey> pem_public_decode(std::string_view text, PemPublicFormat format,
                                           std::string& error);

}  // namespace hashi::keys

namespace hashi::keys {

// read_public_key_token reads "keytype base64" from the front of `cp` as OpenSSH's sshkey_read:
// the type name must be followed by a blank, the blob must be of that type. On success `cp` is
// left just after the base64; on failure nullopt and `cp` is unchanged.
std::optional<PublicKey> read_public_key_token(std::string_view& cp);

struct PublicKeyLine {
  PublicKey key;
  std::optional<std::string> comment;  // nullopt: ssh-keygen prints "no comment"
};

// parse_public_key_listing_line reads one line of a file given to ssh-keygen -l: a bare public
// key ("type base64 comment"), or one led by a host list (known_hosts) or by options
// (authorized_keys, quotes respected). The comment is the text after the key unless that starts
// with '#', else the leading host/options field. Comments, blank lines and lines that hold no
// key give nullopt (ssh-keygen skips them).
std::optional<PublicKeyLine> parse_public_key_listing_line(std::string_view line);

}  // namespace hashi::keys
