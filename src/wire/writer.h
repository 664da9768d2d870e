// Writer: appends SSH wire encodings (RFC 4251 section 5) to a byte vector.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wire/bytes.h"

namespace hashi::wire {

class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}

  Writer& u8(uint8_t v);
  Writer& boolean(bool v) { return u8(v ? 1 : 0); }
  Writer& u32(uint32_t v);
  Writer& u64(uint64_t v);
  Writer& raw(ByteView v);
  Writer& raw(std::string_view v) { return raw(as_bytes(v)); }
  Writer& string(ByteView v);
  Writer& string(std::string_view v) { return string(as_bytes(v)); }
  // Writes an mpint from an unsigned big-endian magnitude (leading zeros are stripped; a zero byte
  // is prepended when the top bit is set).
  Writer& mpint(ByteView magnitude);
  Writer& name_list(const std::vector<std::string>& names);

  // Starts a uint32 length-prefixed field; finish it with end_string(pos).
  size_t begin_string();
  void end_string(size_t pos);

  Bytes& buffer() { return out_; }

 private:
  Bytes& out_;
};

// Stores v big-endian at p (which must hold 4 bytes).
inline void store_u32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}
inline uint32_t load_u32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// Joins names with commas, as in a name-list's content.
std::string join_names(const std::vector<std::string>& names);
// Splits a comma-separated list; empty input gives an empty vector.
std::vector<std::string> split_names(std::string_view list);

}  // namespace hashi::wire
