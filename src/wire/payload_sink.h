// PayloadSink: where an upper layer (auth, connection) hands finished message payloads to the
// transport, which frames, encrypts and queues them. The payload starts with the message number.
#pragma once

#include "wire/bytes.h"

namespace hashi {

class PayloadSink {
 public:
  virtual ~PayloadSink() = default;
  // Queues one message. The transport copies the bytes; the caller may reuse its buffer at once.
  virtual void send(ByteView payload) = 0;
  // Queues one message made of a head and a body (e.g. CHANNEL_DATA header + data) without the
  // caller joining them first.
  virtual void send2(ByteView head, ByteView body) = 0;
};

}  // namespace hashi
