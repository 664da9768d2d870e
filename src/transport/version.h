// Protocol version exchange (RFC 4253 section 4.2).
#pragma once

#include <string>

#include "transport/status.h"
#include "wire/bytes.h"

namespace hashi::transport {

// Longest identification line we accept (OpenSSH accepts 8 KiB; RFC 4253 says 255 including CRLF
// for the version line itself, but servers send long banners before it).
inline constexpr size_t kMaxIdentLineLen = 8192;
// Lines a server may send before its version line (a client accepts them; OpenSSH allows 1024).
inline constexpr size_t kMaxPreVersionLines = 1024;

inline constexpr std::string_view kSoftwareVersion = "hashi_0.1";

// Reads the peer's identification string "SSH-protoversion-softwareversion [comments]\r\n".
// A client skips lines before it; a server accepts only the version line.
class VersionReader {
 public:
  explicit VersionReader(Role our_role) : our_role_(our_role) {}

  // Consumes bytes from `in` up to and including the version line; `consumed` says how many.
  // Returns ok with done() false when more input is needed, ok with done() true when the line is
  // complete, or an error for an unsupported version or a line/line-count over the limits.
  Status feed(ByteView in, size_t& consumed);
  bool done() const { return done_; }
  // The peer's version line without CR LF (the V_C / V_S of the exchange hash).
  const std::string& version() const { return version_; }

 private:
  Status finish_line();

  Role our_role_;
  std::string line_;
  std::string version_;
  size_t lines_seen_ = 0;
  bool done_ = false;
};

// Our identification line including CR LF.
std::string our_version_line(std::string_view software = kSoftwareVersion);

}  // namespace hashi::transport
