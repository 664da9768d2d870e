// User-authentication messages (RFC 4252) and the service request (RFC 4253 section 10), one
// struct per message.
//
// Decoded structs hold views into the payload (valid only while it is). decode() reads the
// message number, the fields, and rejects trailing bytes; nullopt on any malformed input.
// encode() appends the whole payload (message number first) to `out`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/bytes.h"
#include "wire/messages.h"

namespace hashi::auth {

inline constexpr std::string_view kUserauthService = "ssh-userauth";
inline constexpr std::string_view kConnectionService = "ssh-connection";

// RFC 4253 section 10: byte 5, string service name.
struct ServiceRequestMsg {
  static constexpr uint8_t kType = msg::kServiceRequest;
  std::string_view service;
  void encode(Bytes& out) const;
  static std::optional<ServiceRequestMsg> decode(ByteView payload);
};

// RFC 4253 section 10: byte 6, string service name.
struct ServiceAcceptMsg {
  static constexpr uint8_t kType = msg::kServiceAccept;
  std::string_view service;
  void encode(Bytes& out) const;
  static std::optional<ServiceAcceptMsg> decode(ByteView payload);
};

// RFC 4252 section 5: byte 50, string user name (UTF-8), string service name, string method
// name, method-specific fields.
struct UserauthRequestMsg {
  static constexpr uint8_t kType = msg::kUserauthRequest;
  std::string_view user;
  std::string_view service;
  std::string_view method;
  ByteView method_specific;
  void encode(Bytes& out) const;
  static std::optional<UserauthRequestMsg> decode(ByteView payload);
};

// RFC 4252 section 7: the method-specific fields of a "publickey" request: boolean has
// signature, string algorithm name, string key blob, [string signature].
struct PublickeyFields {
  bool has_signature = false;
  std::string_view algorithm;
  ByteView key_blob;
  ByteView signature;  // empty unless has_signature
  void encode(Bytes& out) const;
  static std::optional<PublickeyFields> decode(ByteView method_specific);
};

// RFC 4252 section 5.1: byte 51, name-list authentications that can continue, boolean partial
// success.
struct UserauthFailureMsg {
  static constexpr uint8_t kType = msg::kUserauthFailure;
  std::vector<std::string> methods;
  bool partial_success = false;
  void encode(Bytes& out) const;
  static std::optional<UserauthFailureMsg> decode(ByteView payload);
};

// RFC 4252 section 5.1: byte 52, no fields.
struct UserauthSuccessMsg {
  static constexpr uint8_t kType = msg::kUserauthSuccess;
  void encode(Bytes& out) const;
  static std::optional<UserauthSuccessMsg> decode(ByteView payload);
};

// RFC 4252 section 5.4: byte 53, string message (UTF-8), string language tag.
struct UserauthBannerMsg {
  static constexpr uint8_t kType = msg::kUserauthBanner;
  std::string_view message;
  std::string_view language;
  void encode(Bytes& out) const;
  static std::optional<UserauthBannerMsg> decode(ByteView payload);
};

// RFC 4252 section 7: byte 60, string algorithm name, string key blob.
struct UserauthPkOkMsg {
  static constexpr uint8_t kType = msg::kUserauthPkOk;
  std::string_view algorithm;
  ByteView key_blob;
  void encode(Bytes& out) const;
  static std::optional<UserauthPkOkMsg> decode(ByteView payload);
};

// publickey_signed_data builds what a "publickey" signature covers (RFC 4252 section 7): string
// session identifier, byte 50, string user, string service, string "publickey", boolean TRUE,
// string algorithm, string key blob.
Bytes publickey_signed_data(ByteView session_id, std::string_view user, std::string_view service,
                            std::string_view algorithm, ByteView key_blob);

}  // namespace hashi::auth
