// Connection-protocol messages (RFC 4254), one struct per message.
//
// Decoded structs hold views into the payload they were decoded from (zero-copy): they are valid
// only while that payload is. Every decode() reads the message number first, then the fields, and
// rejects trailing bytes; it returns nullopt on any malformed input. encode() appends the whole
// payload (message number first) to `out`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "wire/bytes.h"
#include "wire/messages.h"

namespace hashi::connection {

// Channel open failure reason codes (RFC 4254 section 5.1).
enum class OpenFailureReason : uint32_t {
  kAdministrativelyProhibited = 1,
  kConnectFailed = 2,
  kUnknownChannelType = 3,
  kResourceShortage = 4,
};

// Extended data type code for stderr (RFC 4254 section 5.2).
inline constexpr uint32_t kExtendedDataStderr = 1;

// RFC 4254 section 4: byte 80, string name, boolean want_reply, request-specific data.
struct GlobalRequestMsg {
  static constexpr uint8_t kType = msg::kGlobalRequest;
  std::string_view name;
  bool want_reply = false;
  ByteView data;
  void encode(Bytes& out) const;
  static std::optional<GlobalRequestMsg> decode(ByteView payload);
};

// RFC 4254 section 4: byte 81, response-specific data (e.g. the bound port of tcpip-forward).
struct RequestSuccessMsg {
  static constexpr uint8_t kType = msg::kRequestSuccess;
  ByteView data;
  void encode(Bytes& out) const;
  static std::optional<RequestSuccessMsg> decode(ByteView payload);
};

// RFC 4254 section 4: byte 82, no fields.
struct RequestFailureMsg {
  static constexpr uint8_t kType = msg::kRequestFailure;
  void encode(Bytes& out) const;
  static std::optional<RequestFailureMsg> decode(ByteView payload);
};

// RFC 4254 section 5.1: byte 90, string channel type, uint32 sender channel, uint32 initial
// window size, uint32 maximum packet size, channel-type specific data.
struct ChannelOpenMsg {
  static constexpr uint8_t kType = msg::kChannelOpen;
  std::string_view channel_type;
  uint32_t sender_channel = 0;
  uint32_t initial_window = 0;
  uint32_t max_packet = 0;
  ByteView type_specific;
  void encode(Bytes& out) const;
  static std::optional<ChannelOpenMsg> decode(ByteView payload);
};

// RFC 4254 section 5.1: byte 91, uint32 recipient, uint32 sender, uint32 initial window size,
// uint32 maximum packet size, channel-type specific data.
struct ChannelOpenConfirmationMsg {
  static constexpr uint8_t kType = msg::kChannelOpenConfirmation;
  uint32_t recipient_channel = 0;
  uint32_t sender_channel = 0;
  uint32_t initial_window = 0;
  uint32_t max_packet = 0;
  ByteView type_specific;
  void encode(Bytes& out) const;
  static std::optional<ChannelOpenConfirmationMsg> decode(ByteView payload);
};

// RFC 4254 section 5.1: byte 92, uint32 recipient, uint32 reason code, string description
// (UTF-8), string language tag.
struct ChannelOpenFailureMsg {
  static constexpr uint8_t kType = msg::kChannelOpenFailure;
  uint32_t recipient_channel = 0;
  uint32_t reason = 0;
  std::string_view description;
  std::string_view language;
  void encode(Bytes& out) const;
  static std::optional<ChannelOpenFailureMsg> decode(ByteView payload);
};

// RFC 4254 section 5.2: byte 93, uint32 recipient, uint32 bytes to add.
struct ChannelWindowAdjustMsg {
  static constexpr uint8_t kType = msg::kChannelWindowAdjust;
  uint32_t recipient_channel = 0;
  uint32_t bytes_to_add = 0;
  void encode(Bytes& out) const;
  static std::optional<ChannelWindowAdjustMsg> decode(ByteView payload);
};

// RFC 4254 section 5.2: byte 94, uint32 recipient, string data.
struct ChannelDataMsg {
  static constexpr uint8_t kType = msg::kChannelData;
  uint32_t recipient_channel = 0;
  ByteView data;
  void encode(Bytes& out) const;
  static std::optional<ChannelDataMsg> decode(ByteView payload);
};

// RFC 4254 section 5.2: byte 95, uint32 recipient, uint32 data type code, string data.
struct ChannelExtendedDataMsg {
  static constexpr uint8_t kType = msg::kChannelExtendedData;
  uint32_t recipient_channel = 0;
  uint32_t data_type = 0;
  ByteView data;
  void encode(Bytes& out) const;
  static std::optional<ChannelExtendedDataMsg> decode(ByteView payload);
};

// RFC 4254 section 5.3 (EOF 96, CLOSE 97) and 5.4 (SUCCESS 99, FAILURE 100): byte type, uint32
// recipient channel. One struct for the four messages that carry only the recipient.
struct ChannelOnlyMsg {
  uint8_t type = 0;
  uint32_t recipient_channel = 0;
  void encode(Bytes& out) const;
  // decode accepts only `expected_type`.
  static std::optional<ChannelOnlyMsg> decode(ByteView payload, uint8_t expected_type);
};

// RFC 4254 section 5.4: byte 98, uint32 recipient, string request type, boolean want_reply,
// type-specific data.
struct ChannelRequestMsg {
  static constexpr uint8_t kType = msg::kChannelRequest;
  uint32_t recipient_channel = 0;
  std::string_view request_type;
  bool want_reply = false;
  ByteView type_specific;
  void encode(Bytes& out) const;
  static std::optional<ChannelRequestMsg> decode(ByteView payload);
};

// ---- Typed channel requests (the type-specific part of CHANNEL_REQUEST) ----

// RFC 4254 section 6.5: "exec", string command.
struct ExecRequest {
  std::string command;
  bool operator==(const ExecRequest&) const = default;
};
// RFC 4254 section 6.5: "shell", no fields.
struct ShellRequest {
  bool operator==(const ShellRequest&) const = default;
};
// RFC 4254 section 6.5: "subsystem", string subsystem name.
struct SubsystemRequest {
  std::string name;
  bool operator==(const SubsystemRequest&) const = default;
};
// RFC 4254 section 6.4: "env", string name, string value.
struct EnvRequest {
  std::string name;
  std::string value;
  bool operator==(const EnvRequest&) const = default;
};
// RFC 4254 section 6.2: "pty-req", string TERM, uint32 cols, uint32 rows, uint32 width px,
// uint32 height px, string encoded terminal modes (section 8).
struct PtyRequest {
  std::string term;
  uint32_t cols = 0;
  uint32_t rows = 0;
  uint32_t width_px = 0;
  uint32_t height_px = 0;
  Bytes modes;
  bool operator==(const PtyRequest&) const = default;
};
// RFC 4254 section 6.7: "window-change", uint32 cols, rows, width px, height px.
struct WindowChangeRequest {
  uint32_t cols = 0;
  uint32_t rows = 0;
  uint32_t width_px = 0;
  uint32_t height_px = 0;
  bool operator==(const WindowChangeRequest&) const = default;
};
// RFC 4254 section 6.9: "signal", string signal name without "SIG".
struct SignalRequest {
  std::string name;
  bool operator==(const SignalRequest&) const = default;
};
// RFC 4254 section 6.10: "exit-status", uint32 exit status.
struct ExitStatusRequest {
  uint32_t status = 0;
  bool operator==(const ExitStatusRequest&) const = default;
};
// RFC 4254 section 6.10: "exit-signal", string signal name, boolean core dumped, string error
// message, string language tag.
struct ExitSignalRequest {
  std::string signal_name;
  bool core_dumped = false;
  std::string error_message;
  std::string language;
  bool operator==(const ExitSignalRequest&) const = default;
};
// Any other request ("keepalive@openssh.com", "x11-req", "auth-agent-req@openssh.com", ...):
// the name and the raw type-specific bytes.
struct UnknownRequest {
  std::string name;
  Bytes data;
  bool operator==(const UnknownRequest&) const = default;
};

// A channel request with its parsed fields.
struct ChannelRequest {
  using Body = std::variant<ExecRequest, ShellRequest, SubsystemRequest, EnvRequest, PtyRequest,
                            WindowChangeRequest, SignalRequest, ExitStatusRequest,
                            ExitSignalRequest, UnknownRequest>;
  Body body;

  // The request-type string on the wire ("exec", ..., or UnknownRequest::name).
  std::string_view name() const;
  // Appends the type-specific fields (not the name, not want_reply).
  void encode_fields(Bytes& out) const;
  // parse builds a request from its name and type-specific bytes. A known name with malformed or
  // trailing fields gives nullopt; an unknown name always parses (as UnknownRequest).
  static std::optional<ChannelRequest> parse(std::string_view name, ByteView type_specific);

  bool operator==(const ChannelRequest&) const = default;
};

}  // namespace hashi::connection
