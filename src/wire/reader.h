// Reader: a bounded, shrinking view over untrusted bytes (RFC 4251 section 5 data types).
//
// Every read checks the bounds once and advances only on success; a failed read leaves the reader
// unchanged and returns false. A length-prefixed field comes back as a sub-view, so nested parsing
// can never read past its parent. A message decoder is one chain of reads followed by
// `empty()` to reject trailing bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wire/bytes.h"

namespace hashi::wire {

// Upper bound on a name-list's encoded length: OpenSSH's KEXINIT lists are well under 4 KiB; this
// leaves room for future algorithms while keeping a hostile list from costing real memory.
inline constexpr size_t kMaxNameListLen = 64 * 1024;
// Upper bound on the number of names in one list, for the same reason.
inline constexpr size_t kMaxNames = 256;

class Reader {
 public:
  Reader() = default;
  explicit Reader(ByteView data) : data_(data) {}

  size_t remaining() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  ByteView rest() const { return data_; }

  [[nodiscard]] bool u8(uint8_t& out);
  [[nodiscard]] bool boolean(bool& out);
  [[nodiscard]] bool u32(uint32_t& out);
  [[nodiscard]] bool u64(uint64_t& out);
  // Reads `n` raw bytes.
  [[nodiscard]] bool bytes(size_t n, ByteView& out);
  // Reads a uint32 length-prefixed string as a view into the input.
  [[nodiscard]] bool string(ByteView& out);
  [[nodiscard]] bool string(std::string_view& out);
  // Reads a string and opens it as a nested reader.
  [[nodiscard]] bool sub(Reader& out);
  // Reads an mpint (RFC 4251 section 5). Rejects non-minimal encodings and negative values;
  // `out` is the unsigned big-endian magnitude without a leading zero byte.
  [[nodiscard]] bool mpint_positive(ByteView& out);
  // Reads a comma-separated name-list; rejects empty names, non-printable ASCII and lists above
  // kMaxNameListLen / kMaxNames.
  [[nodiscard]] bool name_list(std::vector<std::string>& out);
  // Skips everything that is left (for fields defined as "reserved").
  void skip_rest() { data_ = {}; }

 private:
  ByteView data_;
};

}  // namespace hashi::wire
