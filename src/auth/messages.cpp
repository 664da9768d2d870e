#include "auth/messages.h"

#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::auth {
namespace {

bool expect_type(wire::Reader& r, uint8_t type) {
  uint8_t t;
  return r.u8(t) && t == type;
}

}  // namespace

void ServiceRequestMsg::encode(Bytes& out) const { wire::Writer(out).u8(kType).string(service); }
std::optional<ServiceRequestMsg> ServiceRequestMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  ServiceRequestMsg m;
  if (!expect_type(r, kType) || !r.string(m.service) || !r.empty()) return std::nullopt;
  return m;
}

void ServiceAcceptMsg::encode(Bytes& out) const { wire::Writer(out).u8(kType).string(service); }
std::optional<ServiceAcceptMsg> ServiceAcceptMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  ServiceAcceptMsg m;
  if (!expect_type(r, kType) || !r.string(m.service) || !r.empty()) return std::nullopt;
  return m;
}

void UserauthRequestMsg::encode(Bytes& out) const {
  wire::Writer(out).u8(kType).string(user).string(service).string(method).raw(method_specific);
}
std::optional<UserauthRequestMsg> UserauthRequestMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  UserauthRequestMsg m;
  if (!expect_type(r, kType) || !r.string(m.user) || !r.string(m.service) || !r.string(m.method)) {
    return std::nullopt;
  }
  m.method_specific = r.rest();  // each method's decoder rejects its own trailing bytes
  return m;
}

void PublickeyFields::encode(Bytes& out) const {
  wire::Writer w(out);
  w.boolean(has_signature).string(algorithm).string(key_blob);
  if (has_signature) w.string(signature);
}
std::optional<PublickeyFields> PublickeyFields::decode(ByteView method_specific) {
  wire::Reader r(method_specific);
  PublickeyFields f;
  if (!r.boolean(f.has_signature) || !r.string(f.algorithm) || !r.string(f.key_blob)) {
    return std::nullopt;
  }
  if (f.has_signature && !r.string(f.signature)) return std::nullopt;
  if (!r.empty()) return std::nullopt;
  return f;
}

void UserauthFailureMsg::encode(Bytes& out) const {
  wire::Writer(out).u8(kType).name_list(methods).boolean(partial_success);
}
std::optional<UserauthFailureMsg> UserauthFailureMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  UserauthFailureMsg m;
  if (!expect_type(r, kType) || !r.name_list(m.methods) || !r.boolean(m.partial_success) ||
      !r.empty()) {
    return std::nullopt;
  }
  return m;
}

void UserauthSuccessMsg::encode(Bytes& out) const { wire::Writer(out).u8(kType); }
std::optional<UserauthSuccessMsg> UserauthSuccessMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  if (!expect_type(r, kType) || !r.empty()) return std::nullopt;
  return UserauthSuccessMsg{};
}

void UserauthBannerMsg::encode(Bytes& out) const {
  wire::Writer(out).u8(kType).string(message).string(language);
}
std::optional<UserauthBannerMsg> UserauthBannerMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  UserauthBannerMsg m;
  if (!expect_type(r, kType) || !r.string(m.message) || !r.string(m.language) || !r.empty()) {
    return std::nullopt;
  }
  return m;
}

void UserauthPkOkMsg::encode(Bytes& out) const {
  wire::Writer(out).u8(kType).string(algorithm).string(key_blob);
}
std::optional<UserauthPkOkMsg> UserauthPkOkMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  UserauthPkOkMsg m;
  if (!expect_type(r, kType) || !r.string(m.algorithm) || !r.string(m.key_blob) || !r.empty()) {
    return std::nullopt;
  }
  return m;
}

Bytes publickey_signed_data(ByteView session_id, std::string_view user, std::string_view service,
                            std::string_view algorithm, ByteView key_blob) {
  Bytes out;
  wire::Writer(out)
      .string(session_id)
      .u8(msg::kUserauthRequest)
      .string(user)
      .string(service)
      .string("publickey")
      .boolean(true)
      .string(algorithm)
      .string(key_blob);
  return out;
}

}  // namespace hashi::auth
