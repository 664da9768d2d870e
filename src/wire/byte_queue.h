// ByteQueue: bytes waiting to be written to a descriptor (a session's stdin, the client's
// stdout/stderr). Appended at the back, drained from the front; storage is reused.
#pragma once

#include <cstddef>

#include "wire/bytes.h"

namespace hashi {

struct ByteQueue {
  Bytes data;
  size_t head = 0;
  bool eof = false;  // no more data will come: close the descriptor once drained
  ByteView pending() const { return {data.data() + head, data.size() - head}; }
  void append(ByteView b) { data.insert(data.end(), b.begin(), b.end()); }
  void consume(size_t n) {
    head += n;
    if (head >= data.size()) {
      data.clear();
      head = 0;
    } else if (head > 256 * 1024) {  // compact now and then, not on every write
      data.erase(data.begin(), data.begin() + ptrdiff_t(head));
      head = 0;
    }
  }
};

}  // namespace hashi
