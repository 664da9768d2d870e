// Internal to keys/: shared by key.cpp and private_key.cpp.
#pragma once

#include <optional>
#include <string_view>

#include "keys/key.h"
#include "keys/ossl.h"

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

// public_blob_from_pkey encodes the SSH public-key blob of an OpenSSL key; nullopt if the key is of
// an unsupported kind.
std::optional<Bytes> public_blob_from_pkey(EVP_PKEY* pkey);

}  // namespace hashi::keys
