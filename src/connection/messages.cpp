#include "connection/messages.h"

#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::connection {
namespace {

// Reads the message number and checks it is `type`.
bool expect_type(wire::Reader& r, uint8_t type) {
  uint8_t t;
  return r.u8(t) && t == type;
}

}  // namespace

void GlobalRequestMsg::encode(Bytes& out) const {
  wire::Writer(out).u8(kType).string(name).boolean(want_reply).raw(data);
}
std::optional<GlobalRequestMsg> GlobalRequestMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  GlobalRequestMsg m;
  if (!expect_type(r, kType) || !r.string(m.name) || !r.boolean(m.want_reply)) return std::nullopt;
  m.data = r.rest();  // request-specific: parsed by whoever handles the request
  return m;
}

void RequestSuccessMsg::encode(Bytes& out) const { wire::Writer(out).u8(kType).raw(data); }
std::optional<RequestSuccessMsg> RequestSuccessMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  RequestSuccessMsg m;
  if (!expect_type(r, kType)) return std::nullopt;
  m.data = r.rest();
  return m;
}

void RequestFailureMsg::encode(Bytes& out) const { wire::Writer(out).u8(kType); }
std::optional<RequestFailureMsg> RequestFailureMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  if (!expect_type(r, kType) || !r.empty()) return std::nullopt;
  return RequestFailureMsg{};
}

void ChannelOpenMsg::encode(Bytes& out) const {
  wire::Writer(out)
      .u8(kType)
      .string(channel_type)
      .u32(sender_channel)
      .u32(initial_window)
      .u32(max_packet)
      .raw(type_specific);
}
std::optional<ChannelOpenMsg> ChannelOpenMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  ChannelOpenMsg m;
  if (!expect_type(r, kType) || !r.string(m.channel_type) || !r.u32(m.sender_channel) ||
      !r.u32(m.initial_window) || !r.u32(m.max_packet)) {
    return std::nullopt;
  }
  m.type_specific = r.rest();
  return m;
}

void ChannelOpenConfirmationMsg::encode(Bytes& out) const {
  wire::Writer(out)
      .u8(kType)
      .u32(recipient_channel)
      .u32(sender_channel)
      .u32(initial_window)
      .u32(max_packet)
      .raw(type_specific);
}
std::optional<ChannelOpenConfirmationMsg> ChannelOpenConfirmationMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  ChannelOpenConfirmationMsg m;
  if (!expect_type(r, kType) || !r.u32(m.recipient_channel) || !r.u32(m.sender_channel) ||
      !r.u32(m.initial_window) || !r.u32(m.max_packet)) {
    return std::nullopt;
  }
  m.type_specific = r.rest();
  return m;
}

void ChannelOpenFailureMsg::encode(Bytes& out) const {
  wire::Writer(out)
      .u8(kType)
      .u32(recipient_channel)
      .u32(reason)
      .string(description)
      .string(language);
}
std::optional<ChannelOpenFailureMsg> ChannelOpenFailureMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  ChannelOpenFailureMsg m;
  if (!expect_type(r, kType) || !r.u32(m.recipient_channel) || !r.u32(m.reason) ||
      !r.string(m.description) || !r.string(m.language) || !r.empty()) {
    return std::nullopt;
  }
  return m;
}

void ChannelWindowAdjustMsg::encode(Bytes& out) const {
  wire::Writer(out).u8(kType).u32(recipient_channel).u32(bytes_to_add);
}
std::optional<ChannelWindowAdjustMsg> ChannelWindowAdjustMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  ChannelWindowAdjustMsg m;
  if (!expect_type(r, kType) || !r.u32(m.recipient_channel) || !r.u32(m.bytes_to_add) ||
      !r.empty()) {
    return std::nullopt;
  }
  return m;
}

void ChannelDataMsg::encode(Bytes& out) const {
  wire::Writer(out).u8(kType).u32(recipient_channel).string(data);
}
std::optional<ChannelDataMsg> ChannelDataMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  ChannelDataMsg m;
  if (!expect_type(r, kType) || !r.u32(m.recipient_channel) || !r.string(m.data) || !r.empty()) {
    return std::nullopt;
  }
  return m;
}

void ChannelExtendedDataMsg::encode(Bytes& out) const {
  wire::Writer(out).u8(kType).u32(recipient_channel).u32(data_type).string(data);
}
std::optional<ChannelExtendedDataMsg> ChannelExtendedDataMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  ChannelExtendedDataMsg m;
  if (!expect_type(r, kType) || !r.u32(m.recipient_channel) || !r.u32(m.data_type) ||
      !r.string(m.data) || !r.empty()) {
    return std::nullopt;
  }
  return m;
}

void ChannelOnlyMsg::encode(Bytes& out) const { wire::Writer(out).u8(type).u32(recipient_channel); }
std::optional<ChannelOnlyMsg> ChannelOnlyMsg::decode(ByteView payload, uint8_t expected_type) {
  wire::Reader r(payload);
  ChannelOnlyMsg m{expected_type, 0};
  if (!expect_type(r, expected_type) || !r.u32(m.recipient_channel) || !r.empty()) {
    return std::nullopt;
  }
  return m;
}

void ChannelRequestMsg::encode(Bytes& out) const {
  wire::Writer(out)
      .u8(kType)
      .u32(recipient_channel)
      .string(request_type)
      .boolean(want_reply)
      .raw(type_specific);
}
std::optional<ChannelRequestMsg> ChannelRequestMsg::decode(ByteView payload) {
  wire::Reader r(payload);
  ChannelRequestMsg m;
  if (!expect_type(r, kType) || !r.u32(m.recipient_channel) || !r.string(m.request_type) ||
      !r.boolean(m.want_reply)) {
    return std::nullopt;
  }
  m.type_specific = r.rest();  // parsed by ChannelRequest::parse, which rejects trailing bytes
  return m;
}

// ---- Typed channel requests ----

namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

bool read_string(wire::Reader& r, std::string& out) {
  std::string_view s;
  if (!r.string(s)) return false;
  out.assign(s);
  return true;
}

}  // namespace

std::string_view ChannelRequest::name() const {
  return std::visit(Overloaded{
                        [](const ExecRequest&) -> std::string_view { return "exec"; },
                        [](const ShellRequest&) -> std::string_view { return "shell"; },
                        [](const SubsystemRequest&) -> std::string_view { return "subsystem"; },
                        [](const EnvRequest&) -> std::string_view { return "env"; },
                        [](const PtyRequest&) -> std::string_view { return "pty-req"; },
                        [](const WindowChangeRequest&) -> std::string_view {
                          return "window-change";
                        },
                        [](const SignalRequest&) -> std::string_view { return "signal"; },
                        [](const ExitStatusRequest&) -> std::string_view { return "exit-status"; },
                        [](const ExitSignalRequest&) -> std::string_view { return "exit-signal"; },
                        [](const UnknownRequest& u) -> std::string_view { return u.name; },
                    },
                    body);
}

void ChannelRequest::encode_fields(Bytes& out) const {
  wire::Writer w(out);
  std::visit(Overloaded{
                 [&](const ExecRequest& q) { w.string(q.command); },
                 [&](const ShellRequest&) {},
                 [&](const SubsystemRequest& q) { w.string(q.name); },
                 [&](const EnvRequest& q) { w.string(q.name).string(q.value); },
                 [&](const PtyRequest& q) {
                   w.string(q.term).u32(q.cols).u32(q.rows).u32(q.width_px).u32(q.height_px);
                   w.string(q.modes);
                 },
                 [&](const WindowChangeRequest& q) {
                   w.u32(q.cols).u32(q.rows).u32(q.width_px).u32(q.height_px);
                 },
                 [&](const SignalRequest& q) { w.string(q.name); },
                 [&](const ExitStatusRequest& q) { w.u32(q.status); },
                 [&](const ExitSignalRequest& q) {
                   w.string(q.signal_name)
                       .boolean(q.core_dumped)
                       .string(q.error_message)
                       .string(q.language);
                 },
                 [&](const UnknownRequest& q) { w.raw(q.data); },
             },
             body);
}

std::optional<ChannelRequest> ChannelRequest::parse(std::string_view name, ByteView data) {
  wire::Reader r(data);
  ChannelRequest out;
  bool ok = true;
  if (name == "exec") {
    ExecRequest q;
    ok = read_string(r, q.command);
    out.body = std::move(q);
  } else if (name == "shell") {
    out.body = ShellRequest{};
  } else if (name == "subsystem") {
    SubsystemRequest q;
    ok = read_string(r, q.name);
    out.body = std::move(q);
  } else if (name == "env") {
    EnvRequest q;
    ok = read_string(r, q.name) && read_string(r, q.value);
    out.body = std::move(q);
  } else if (name == "pty-req") {
    PtyRequest q;
    ByteView modes;
    ok = read_string(r, q.term) && r.u32(q.cols) && r.u32(q.rows) && r.u32(q.width_px) &&
         r.u32(q.height_px) && r.string(modes);
    q.modes.assign(modes.begin(), modes.end());
    out.body = std::move(q);
  } else if (name == "window-change") {
    WindowChangeRequest q;
    ok = r.u32(q.cols) && r.u32(q.rows) && r.u32(q.width_px) && r.u32(q.height_px);
    out.body = q;
  } else if (name == "signal") {
    SignalRequest q;
    ok = read_string(r, q.name);
    out.body = std::move(q);
  } else if (name == "exit-status") {
    ExitStatusRequest q;
    ok = r.u32(q.status);
    out.body = q;
  } else if (name == "exit-signal") {
    ExitSignalRequest q;
    ok = read_string(r, q.signal_name) && r.boolean(q.core_dumped) &&
         read_string(r, q.error_message) && read_string(r, q.language);
    out.body = std::move(q);
  } else {
    UnknownRequest q;
    q.name.assign(name);
    q.data.assign(data.begin(), data.end());
    r.skip_rest();
    out.body = std::move(q);
  }
  if (!ok || !r.empty()) return std::nullopt;
  return out;
}

}  // namespace hashi::connection
