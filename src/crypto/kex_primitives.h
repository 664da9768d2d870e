// Ephemeral key agreement for SSH key exchange: X25519 (RFC 8731), ECDH over NIST curves
// (RFC 5656) and finite-field Diffie-Hellman (RFC 4253 section 8, RFC 4419, RFC 8268).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "crypto/secret.h"
#include "wire/bytes.h"

namespace hashi::crypto {

// One ephemeral key-agreement key pair for a key exchange.
class KeyAgreement {
 public:
  virtual ~KeyAgreement() = default;
  // public_value returns our public value in wire form: X25519 = 32 raw bytes; ECDH = uncompressed
  // SEC1 point (0x04||X||Y); finite-field DH = e = g^x mod p as unsigned big-endian magnitude (no
  // leading zero).
  virtual const Bytes& public_value() const = 0;
  // agree computes the shared secret from the peer's public value. It returns the secret as an
  // unsigned big-endian magnitude ready for mpint encoding: X25519 = the 32 output bytes as-is
  // (RFC 8731); ECDH = the x coordinate (field-size bytes); DH = K = f^x mod p (no leading zero).
  // It returns std::nullopt when the peer value is invalid: wrong length, point not on the curve /
  // at infinity / compressed, DH value outside [2, p-2], X25519 all-zero result.
  virtual std::optional<SecretBytes> agree(ByteView peer_public) = 0;
};

enum class Curve { kP256, kP384, kP521 };

// make_x25519 generates a fresh X25519 key pair. Never returns nullptr (aborts if OpenSSL fails).
std::unique_ptr<KeyAgreement> make_x25519();
// make_x25519_from_private builds the agreement from a given 32-byte private scalar, for known-answer
// tests only (real exchanges use make_x25519). Returns nullptr for a wrong length.
std::unique_ptr<KeyAgreement> make_x25519_from_private(ByteView private_key);
// make_ecdh generates a fresh key pair on `curve`. Never returns nullptr.
std::unique_ptr<KeyAgreement> make_ecdh(Curve curve);
// make_dh generates a fresh key pair in the group (p, g), given as unsigned big-endian magnitudes.
// The private exponent has `exponent_bits` bits (OpenSSH uses 2 * the group's security level, at
// least 256; e.g. 512 for group16/18); values below 256 are raised to 256. Returns nullptr when the
// group is malformed (p even or shorter than 1024 bits, g outside [2, p-2]).
std::unique_ptr<KeyAgreement> make_dh(ByteView p, ByteView g, size_t exponent_bits);

}  // namespace hashi::crypto
