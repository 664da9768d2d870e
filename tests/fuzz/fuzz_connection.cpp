// Fuzz target: arbitrary payload sequences into a server-role ConnectionMux.
//
// Input: a sequence of chunks, each a 2-byte big-endian length followed by that many bytes (one
// message payload). The handler accepts everything, echoes data back (exercising the send path
// and window bookkeeping) and consumes what it receives. Stops at the first protocol error, as
// the transport would disconnect.
#include <cstddef>
#include <cstdint>

#include "connection/mux.h"

namespace {

using namespace hashi;
using namespace hashi::connection;

struct NullSink : PayloadSink {
  void send(ByteView) override {}
  void send2(ByteView, ByteView) override {}
};

struct AcceptAll : ConnectionHandler {
  ConnectionMux* mux = nullptr;
  connection::Decision on_open_request(uint32_t, std::string_view,
                                       ByteView) override { return true; }
  void on_data(uint32_t ch, ByteView d) override {
    mux->send_data(ch, d);
    mux->consume(ch, d.size());
  }
  void on_extended_data(uint32_t ch, uint32_t, ByteView d) override {
    mux->send_extended_data(ch, kExtendedDataStderr, d);
    mux->consume(ch, d.size() / 2);
  }
  void on_eof(uint32_t ch) override {
    mux->send_eof(ch);
    mux->close(ch);
  }
  void on_close(uint32_t) override {}
  void on_window_available(uint32_t ch) override { (void)mux->send_window(ch); }
  connection::Decision on_channel_request(uint32_t ch, const ChannelRequest& r, bool) override {
    if (r.name() == "exec") {
      mux->send_request(ch, {ExitStatusRequest{0}}, true);
    }
    return true;
  }
  connection::Decision on_global_request(uint64_t, std::string_view, ByteView, bool) override {
    mux->open_session();
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  NullSink sink;
  AcceptAll handler;
  ConnLimits limits;
  limits.max_channels = 8;
  limits.window_size = 4096;
  limits.max_packet = 1024;
  ConnectionMux mux(sink, Role::kServer, handler, limits);
  handler.mux = &mux;
  ByteView in(data, size);
  while (in.size() >= 2) {
    size_t len = (size_t(in[0]) << 8) | in[1];
    in = in.subspan(2);
    if (len > in.size()) len = in.size();
    ConnResult r = mux.on_message(in.first(len));
    in = in.subspan(len);
    if (!r.ok()) break;
  }
  return 0;
}
