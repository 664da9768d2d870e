// Status: the result of feeding the transport (or one of its parts) with peer input.
#pragma once

#include <string>
#include <utility>

#include "wire/messages.h"

namespace hashi::transport {

// A failed Status carries the DISCONNECT reason code to send and a message for logs and the peer.
class [[nodiscard]] Status {
 public:
  static Status ok() { return Status(); }
  static Status fail(msg::DisconnectReason reason, std::string message) {
    Status s;
    s.ok_ = false;
    s.reason_ = reason;
    s.message_ = std::move(message);
    return s;
  }
  static Status protocol_error(std::string message) {
    return fail(msg::DisconnectReason::kProtocolError, std::move(message));
  }
  bool is_ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  msg::DisconnectReason reason() const { return reason_; }
  const std::string& message() const { return message_; }

 private:
  bool ok_ = true;
  msg::DisconnectReason reason_ = msg::DisconnectReason::kProtocolError;
  std::string message_;
};

enum class Role { kClient, kServer };

}  // namespace hashi::transport
