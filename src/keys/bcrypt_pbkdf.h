// bcrypt_pbkdf (OpenBSD, used by openssh-key-v1 to derive the key that encrypts a private key),
// composed from OpenSSL's SHA-512 and Blowfish block function.
#pragma once

#include <cstdint>
#include <string_view>

#include "wire/bytes.h"

namespace hashi::keys {

// The most KDF rounds we run: ssh-keygen's default is 16 and "-a 1000" is already slow; this bound
// keeps a hostile key file from burning minutes of CPU.
inline constexpr uint32_t kMaxBcryptRounds = 100000;

// bcrypt_pbkdf fills `out` (1..1024 bytes) from `passphrase`, `salt` and `rounds`. Returns false
// on invalid parameters (empty passphrase or salt, rounds == 0 or above kMaxBcryptRounds, bad
// output length) or an OpenSSL failure.
[[nodiscard]] bool bcrypt_pbkdf(std::string_view passphrase, ByteView salt, uint32_t rounds,
                                MutableByteView out);

}  // namespace hashi::keys
