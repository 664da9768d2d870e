#include "transport/version.h"

namespace hashi::transport {

std::string our_version_line(std::string_view software) {
  return "SSH-2.0-" + std::string(software) + "\r\n";
}

Status VersionReader::feed(ByteView in, size_t& consumed) {
  consumed = 0;
  while (!done_ && consumed < in.size()) {
    char c = char(in[consumed++]);
    if (c == '\n') {
      Status s = finish_line();
      if (!s) return s;
      continue;
    }
    if (line_.size() >= kMaxIdentLineLen) {
      return Status::fail(msg::DisconnectReason::kProtocolVersionNotSupported,
                          "identification line too long");
    }
    line_.push_back(c);
  }
  return Status::ok();
}

Status VersionReader::finish_line() {
  std::string line = std::move(line_);
  line_.clear();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.rfind("SSH-", 0) != 0) {
    // Only a server may send other lines first (RFC 4253 section 4.2).
    if (our_role_ == Role::kServer) {
      return Status::fail(msg::DisconnectReason::kProtocolVersionNotSupported,
                          "invalid identification string from client");
    }
    if (++lines_seen_ > kMaxPreVersionLines) {
      return Status::fail(msg::DisconnectReason::kProtocolVersionNotSupported,
                          "too many lines before the server's identification string");
    }
    return Status::ok();
  }
  for (char ch : line) {
    if (ch == '\0') return Status::protocol_error("NUL in identification string");
  }
  if (line.rfind("SSH-2.0-", 0) != 0 && line.rfind("SSH-1.99-", 0) != 0) {
    return Status::fail(msg::DisconnectReason::kProtocolVersionNotSupported,
                        "protocol major versions differ: peer sent '" + line + "'");
  }
  version_ = std::move(line);
  done_ = true;
  return Status::ok();
}

}  // namespace hashi::transport
