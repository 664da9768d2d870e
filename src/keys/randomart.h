// ssh-keygen's "randomart" pictures of key fingerprints (the drunken-bishop walk of OpenSSH's
// sshkey.c fingerprint_randomart), and the raw fingerprint digests they are drawn from.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "keys/key.h"
#include "wire/bytes.h"

namespace hashi::keys {

enum class FingerprintHash { kSha256, kMd5 };

// fingerprint_hash_from_name maps ssh-keygen's -E argument ("sha256", "md5"; case-insensitive)
// to a hash; nullopt for anything else.
std::optional<FingerprintHash> fingerprint_hash_from_name(std::string_view name);

// fingerprint_digest returns the raw digest of `key`'s blob (32 bytes for SHA256, 16 for MD5).
Bytes fingerprint_digest(const PublicKey& key, FingerprintHash hash);

// fingerprint returns "SHA256:base64-without-padding" or "MD5:aa:bb:..." for `key`.
std::string fingerprint(const PublicKey& key, FingerprintHash hash);

// key_type_label is ssh-keygen's short type name: "ED25519", "ECDSA" or "RSA".
std::string_view key_type_label(KeyType type);

// randomart draws `digest` as a 17x9 picture framed with "+---[TYPE BITS]----+" on top and
// "+----[HASH]-----+" below (hash_label "SHA256" or "MD5"), lines separated by '\n' with no final
// newline, exactly as ssh-keygen -lv prints it.
std::string randomart(ByteView digest, std::string_view hash_label, std::string_view type_label,
                      size_t bits);

// randomart_for_key is randomart over `key`'s fingerprint digest.
std::string randomart_for_key(const PublicKey& key, FingerprintHash hash);

}  // namespace hashi::keys
