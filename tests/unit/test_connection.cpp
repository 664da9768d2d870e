// ConnectionMux: two muxes wired back to back through in-memory queues (client <-> server).
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "connection/messages.h"
#include "connection/mux.h"
#include "wire/writer.h"

namespace hashi::connection {
namespace {

// A sink that queues payloads; the harness delivers them after send() returns.
struct QueueSink : PayloadSink {
  std::deque<Bytes> queue;
  size_t sends = 0;
  void send(ByteView p) override {
    queue.emplace_back(p.begin(), p.end());
    ++sends;
  }
  void send2(ByteView head, ByteView body) override {
    Bytes b(head.begin(), head.end());
    b.insert(b.end(), body.begin(), body.end());
    queue.push_back(std::move(b));
    ++sends;
  }
};

// Records every event; optionally consumes data at once.
struct Recorder : ConnectionHandler {
  bool accept_opens = true;
  bool auto_consume = true;
  ConnectionMux* mux = nullptr;
  std::vector<std::string> events;
  std::map<uint32_t, std::string> data, ext;
  std::vector<ChannelRequest> requests;
  std::vector<std::pair<uint32_t, bool>> replies;
  size_t window_events = 0;
  connection::Decision on_open_request(uint32_t ch, std::string_view type, ByteView) override {
    events.push_back("open_request " + std::to_string(ch) + " " + std::string(type));
    return accept_opens;
  }
  void on_open_confirmed(uint32_t ch) override {
    events.push_back("open_confirmed " + std::to_string(ch));
  }
  void on_open_failed(uint32_t ch, uint32_t reason, std::string_view d) override {
    events.push_back("open_failed " + std::to_string(ch) + " " + std::to_string(reason));
  }
  void on_data(uint32_t ch, ByteView d) override {
    data[ch].append(as_string(d));
    if (auto_consume) mux->consume(ch, d.size());
  }
  void on_extended_data(uint32_t ch, uint32_t type, ByteView d) override {
    ext[ch].append(as_string(d));
    if (auto_consume) mux->consume(ch, d.size());
  }
  void on_eof(uint32_t ch) override { events.push_back("eof " + std::to_string(ch)); }
  void on_close(uint32_t ch) override { events.push_back("close " + std::to_string(ch)); }
  void on_window_available(uint32_t) override { ++window_events; }
  connection::Decision on_channel_request(uint32_t ch, const ChannelRequest& r, bool) override {
    events.push_back("request " + std::to_string(ch) + " " + std::string(r.name()));
    requests.push_back(r);
    return !std::holds_alternative<UnknownRequest>(r.body);
  }
  void on_request_reply(uint32_t ch, bool ok) override { replies.emplace_back(ch, ok); }
  connection::Decision on_global_request(uint64_t, std::string_view name, ByteView, bool) override {
    events.push_back("global " + std::string(name));
    return name == "keepalive@openssh.com";
  }
  void on_global_reply(bool ok, ByteView) override {
    events.push_back(std::string("global_reply ") + (ok ? "ok" : "fail"));
  }
};

struct Pair {
  QueueSink to_server, to_client;  // what the client sends / what the server sends
  Recorder client_h, server_h;
  ConnectionMux client, server;

  explicit Pair(ConnLimits climits = {}, ConnLimits slimits = {})
      : client(to_server, Role::kClient, client_h, climits),
        server(to_client, Role::kServer, server_h, slimits) {
    client_h.mux = &client;
    server_h.mux = &server;
  }

  // Delivers queued messages both ways until both queues are empty; every result must be ok.
  void pump() {
    while (!to_server.queue.empty() || !to_client.queue.empty()) {
      while (!to_server.queue.empty()) {
        Bytes p = std::move(to_server.queue.front());
        to_server.queue.pop_front();
        ConnResult r = server.on_message(p);
        ASSERT_TRUE(r.ok()) << "server: " << r.reason;
      }
      while (!to_client.queue.empty()) {
        Bytes p = std::move(to_client.queue.front());
        to_client.queue.pop_front();
        ConnResult r = client.on_message(p);
        ASSERT_TRUE(r.ok()) << "client: " << r.reason;
      }
    }
  }

  uint32_t open() {
    auto ch = client.open_session();
    EXPECT_TRUE(ch.has_value());
    pump();
    return *ch;
  }
};

Bytes pattern(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(i * 131 + (i >> 8));
  return b;
}

TEST(ConnectionMessages, ChannelRequestRoundTrip) {
  std::vector<ChannelRequest> all = {
      {ExecRequest{"ls -l"}},
      {ShellRequest{}},
      {SubsystemRequest{"sftp"}},
      {EnvRequest{"LANG", "C.UTF-8"}},
      {PtyRequest{"xterm-256color", 80, 24, 640, 480, Bytes{1, 0, 0, 0, 3, 0}}},
      {WindowChangeRequest{100, 40, 0, 0}},
      {SignalRequest{"INT"}},
      {ExitStatusRequest{42}},
      {ExitSignalRequest{"KILL", true, "killed", "en"}},
      {UnknownRequest{"keepalive@openssh.com", {}}},
  };
  for (const auto& req : all) {
    Bytes fields;
    req.encode_fields(fields);
    auto back = ChannelRequest::parse(req.name(), fields);
    ASSERT_TRUE(back.has_value()) << req.name();
    EXPECT_EQ(*back, req);
    if (!std::holds_alternative<UnknownRequest>(req.body) &&
        !std::holds_alternative<ShellRequest>(req.body)) {
      // Truncated and trailing bytes are rejected.
      EXPECT_FALSE(ChannelRequest::parse(req.name(), ByteView(fields).first(fields.size() - 1)));
      Bytes extra = fields;
      extra.push_back(0);
      EXPECT_FALSE(ChannelRequest::parse(req.name(), extra)) << req.name();
    }
  }
  EXPECT_FALSE(ChannelRequest::parse("shell", Bytes{0}));
}

TEST(ConnectionMessages, DecodersRejectTruncatedAndTrailing) {
  Bytes b;
  ChannelOpenFailureMsg{7, 2, "no", "en"}.encode(b);
  auto m = ChannelOpenFailureMsg::decode(b);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->recipient_channel, 7u);
  EXPECT_EQ(m->description, "no");
  for (size_t n = 0; n < b.size(); ++n) {
    EXPECT_FALSE(ChannelOpenFailureMsg::decode(ByteView(b).first(n)));
  }
  b.push_back(0);
  EXPECT_FALSE(ChannelOpenFailureMsg::decode(b));

  Bytes d;
  ChannelDataMsg{3, as_bytes("hello")}.encode(d);
  ASSERT_TRUE(ChannelDataMsg::decode(d));
  EXPECT_FALSE(ChannelWindowAdjustMsg::decode(d));  // wrong message number
  d.push_back(1);
  EXPECT_FALSE(ChannelDataMsg::decode(d));
}

TEST(Connection, OpenSessionExecAndExitStatus) {
  Pair p;
  uint32_t ch = p.open();
  EXPECT_EQ(ch, 0u);
  EXPECT_EQ(p.server_h.events, (std::vector<std::string>{"open_request 0 session"}));
  EXPECT_EQ(p.client_h.events, (std::vector<std::string>{"open_confirmed 0"}));
  EXPECT_EQ(p.client.send_window(ch), kDefaultWindowSize);
  EXPECT_EQ(p.client.open_channels(), 1u);
  EXPECT_EQ(p.server.open_channels(), 1u);

  ASSERT_TRUE(p.client.send_request(ch, {EnvRequest{"LANG", "C"}}, false));
  ASSERT_TRUE(p.client.send_request(ch, {ExecRequest{"echo hi"}}, true));
  p.pump();
  ASSERT_EQ(p.server_h.requests.size(), 2u);
  EXPECT_EQ(std::get<ExecRequest>(p.server_h.requests[1].body).command, "echo hi");
  EXPECT_EQ(p.client_h.replies, (std::vector<std::pair<uint32_t, bool>>{{0, true}}));

  // Server: output, stderr, exit-status, EOF, CLOSE; client answers CLOSE.
  EXPECT_EQ(p.server.send_data(0, as_bytes("hi\n")), 3u);
  EXPECT_EQ(p.server.send_extended_data(0, kExtendedDataStderr, as_bytes("warn\n")), 5u);
  ASSERT_TRUE(p.server.send_request(0, {ExitStatusRequest{3}}, false));
  ASSERT_TRUE(p.server.send_eof(0));
  EXPECT_EQ(p.server.send_data(0, as_bytes("late")), 0u);  // nothing after our EOF
  ASSERT_TRUE(p.server.close(0));
  p.pump();
  EXPECT_EQ(p.client_h.data[ch], "hi\n");
  EXPECT_EQ(p.client_h.ext[ch], "warn\n");
  ASSERT_EQ(p.client_h.requests.size(), 1u);
  EXPECT_EQ(std::get<ExitStatusRequest>(p.client_h.requests[0].body).status, 3u);
  EXPECT_EQ(p.client_h.events, (std::vector<std::string>{"open_confirmed 0", "request 0 exit-status",
                                                         "eof 0", "close 0"}));
  EXPECT_EQ(p.server_h.events.back(), "close 0");
  EXPECT_EQ(p.client.open_channels(), 0u);
  EXPECT_EQ(p.server.open_channels(), 0u);
  // Ids are reused after both CLOSEs.
  EXPECT_EQ(p.open(), 0u);
}

TEST(Connection, RefusedOpensAndChannelLimit) {
  ConnLimits small;
  small.max_channels = 2;
  Pair p({}, small);
  p.server_h.accept_opens = false;
  auto ch = p.client.open_session();
  auto ch2 = p.client.open_channel("frobnicate@example.com");
  p.pump();
  EXPECT_EQ(p.client_h.events, (std::vector<std::string>{"open_failed 0 1", "open_failed 1 3"}));
  EXPECT_EQ(p.client.open_channels(), 0u);
  EXPECT_EQ(p.server.open_channels(), 0u);
  (void)ch;
  (void)ch2;

  p.server_h.accept_opens = true;
  p.client_h.events.clear();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(p.client.open_session());
  p.pump();
  EXPECT_EQ(p.client_h.events,
            (std::vector<std::string>{"open_confirmed 0", "open_confirmed 1", "open_failed 2 4"}));

  // The client refuses session opens from the server (RFC 4254 6.1) without asking its handler.
  ASSERT_TRUE(p.client.close(0));
  p.pump();
  p.client_h.events.clear();
  ASSERT_TRUE(p.server.open_session());
  p.pump();
  EXPECT_TRUE(p.client_h.events.empty());
  EXPECT_EQ(p.server_h.events.back(), "open_failed 0 1");
}

TEST(Connection, FlowControlHoldsBothWays) {
  ConnLimits small;
  small.window_size = 1000;
  small.max_packet = 300;
  Pair p(small, small);
  p.client_h.auto_consume = false;
  p.server_h.auto_consume = false;
  uint32_t ch = p.open();
  EXPECT_EQ(p.client.send_window(ch), 1000u);

  Bytes big = pattern(10000);
  // Client -> server: the window stops the sender at 1000 bytes, split into <= 300-byte packets.
  size_t sent = p.client.send_data(ch, big);
  EXPECT_EQ(sent, 1000u);
  EXPECT_EQ(p.to_server.queue.size(), 4u);
  for (const auto& m : p.to_server.queue) EXPECT_LE(m.size(), 9u + 300u);
  EXPECT_EQ(p.client.send_window(ch), 0u);
  EXPECT_EQ(p.client.send_data(ch, ByteView(big).subspan(sent)), 0u);
  p.pump();
  EXPECT_EQ(p.server_h.data[0].size(), 1000u);
  EXPECT_EQ(p.client.send_window(ch), 0u);  // nothing consumed: no adjust
  // Consuming less than half the window returns nothing yet.
  p.server.consume(0, 499);
  p.pump();
  EXPECT_EQ(p.client.send_window(ch), 0u);
  size_t before = p.client_h.window_events;
  p.server.consume(0, 1);
  p.pump();
  EXPECT_EQ(p.client.send_window(ch), 500u);
  EXPECT_GT(p.client_h.window_events, before);

  // Loop until everything has crossed, both directions at once.
  size_t s2c_sent = 0;
  while (sent < big.size() || s2c_sent < big.size()) {
    sent += p.client.send_data(ch, ByteView(big).subspan(sent));
    s2c_sent += p.server.send_data(0, ByteView(big).subspan(s2c_sent));
    p.pump();
    // Application reads everything it has received so far.
    p.server.consume(0, 1000);
    p.client.consume(ch, 1000);
    p.pump();
  }
  EXPECT_EQ(p.server_h.data[0], as_string(big));
  EXPECT_EQ(p.client_h.data[ch], as_string(big));
}

TEST(Connection, NoPerPacketCopyIntoScratch) {
  Pair p;
  uint32_t ch = p.open();
  size_t sends = p.to_server.sends;
  Bytes big = pattern(100000);
  EXPECT_EQ(p.client.send_data(ch, big), big.size());
  // 32 KiB chunks: 4 messages.
  EXPECT_EQ(p.to_server.sends - sends, 4u);
  p.pump();
  EXPECT_EQ(p.server_h.data[0], as_string(big));
}

TEST(Connection, CloseFromClientWhileServerSends) {
  Pair p;
  uint32_t ch = p.open();
  ASSERT_TRUE(p.client.close(ch));
  EXPECT_FALSE(p.client.send_request(ch, {ShellRequest{}}, true));
  EXPECT_EQ(p.client.send_data(ch, as_bytes("x")), 0u);
  // Server data crossing our CLOSE is accepted (not delivered), then the CLOSE reply frees both.
  EXPECT_EQ(p.server.send_data(0, as_bytes("crossing")), 8u);
  p.pump();
  EXPECT_TRUE(p.client_h.data[ch].empty());
  EXPECT_EQ(p.client_h.events.back(), "close 0");
  EXPECT_EQ(p.server_h.events.back(), "close 0");
  EXPECT_EQ(p.client.open_channels(), 0u);
  EXPECT_EQ(p.server.open_channels(), 0u);
}

TEST(Connection, GlobalRequests) {
  Pair p;
  ASSERT_TRUE(p.client.send_global_request("keepalive@openssh.com", {}, true));
  ASSERT_TRUE(p.client.send_global_request("tcpip-forward", {}, true));
  ASSERT_TRUE(p.client.send_global_request("no-more-sessions@openssh.com", {}, false));
  p.pump();
  EXPECT_EQ(p.client_h.events,
            (std::vector<std::string>{"global_reply ok", "global_reply fail"}));
  EXPECT_EQ(p.server_h.events.size(), 3u);
}

TEST(Connection, UnknownChannelRequestGetsFailure) {
  Pair p;
  uint32_t ch = p.open();
  ASSERT_TRUE(p.client.send_request(ch, {UnknownRequest{"x-frob@example.com", {1, 2}}}, true));
  p.pump();
  EXPECT_EQ(p.client_h.replies, (std::vector<std::pair<uint32_t, bool>>{{0, false}}));
}

// A handler that calls back into the mux from its callbacks (the channel table may grow).
struct Reentrant : Recorder {
  size_t sent_during_open = 99;
  connection::Decision on_open_request(uint32_t ch, std::string_view type, ByteView d) override {
    sent_during_open = mux->send_data(ch, as_bytes("too early"));
    return Recorder::on_open_request(ch, type, d);
  }
  void on_data(uint32_t ch, ByteView d) override {
    Recorder::on_data(ch, d);
    for (int i = 0; i < 10; ++i) (void)mux->open_channel("direct-tcpip");
    mux->send_data(ch, d);  // echo
  }
};

TEST(Connection, HandlerMayReenter) {
  QueueSink to_server, to_client;
  Recorder ch_client;
  Reentrant ch_server;
  ConnectionMux client(to_server, Role::kClient, ch_client);
  ConnectionMux server(to_client, Role::kServer, ch_server);
  ch_client.mux = &client;
  ch_server.mux = &server;
  ch_client.accept_opens = false;
  auto id = client.open_session();
  ASSERT_TRUE(id);
  auto deliver = [](QueueSink& q, ConnectionMux& m) {
    while (!q.queue.empty()) {
      Bytes p = std::move(q.queue.front());
      q.queue.pop_front();
      ConnResult r = m.on_message(p);
      ASSERT_TRUE(r.ok()) << r.reason;
    }
  };
  deliver(to_server, server);
  EXPECT_EQ(ch_server.sent_during_open, 0u);  // nothing may be sent before the confirmation
  deliver(to_client, client);
  EXPECT_EQ(client.send_data(*id, as_bytes("ping")), 4u);
  deliver(to_server, server);
  EXPECT_EQ(server.open_channels(), 11u);
  deliver(to_client, client);  // echo arrives; the 10 direct-tcpip opens are refused
  EXPECT_EQ(ch_client.data[*id], "ping");
  deliver(to_server, server);
  EXPECT_EQ(server.open_channels(), 1u);
}

// ---- Protocol errors: the server mux gets hand-built messages ----

struct ServerOnly {
  QueueSink sink;
  Recorder h;
  ConnectionMux mux;
  explicit ServerOnly(ConnLimits limits = {}) : mux(sink, Role::kServer, h, limits) { h.mux = &mux; }
  // Opens channel 0 with peer id 5.
  void open() {
    Bytes b;
    ChannelOpenMsg{"session", 5, 1000, 32768, {}}.encode(b);
    ConnResult r = mux.on_message(b);
    ASSERT_TRUE(r.ok());
    sink.queue.clear();
  }
  ConnResult data(uint32_t ch, size_t n) {
    Bytes b;
    Bytes d(n, 'x');
    ChannelDataMsg{ch, d}.encode(b);
    return mux.on_message(b);
  }
  ConnResult only(uint8_t type, uint32_t ch) {
    Bytes b;
    ChannelOnlyMsg{type, ch}.encode(b);
    return mux.on_message(b);
  }
};

TEST(ConnectionErrors, DataBeyondWindow) {
  ConnLimits l;
  l.window_size = 100;
  ServerOnly s(l);
  s.h.auto_consume = false;
  s.open();
  EXPECT_TRUE(s.data(0, 60).ok());
  ConnResult r = s.data(0, 41);
  EXPECT_EQ(r.error, ConnError::kWindowExceeded);
  EXPECT_EQ(r.disconnect_reason(), msg::DisconnectReason::kProtocolError);
  EXPECT_FALSE(r.reason.empty());
}

TEST(ConnectionErrors, DataLargerThanMaxPacket) {
  ConnLimits l;
  l.max_packet = 100;
  ServerOnly s(l);
  s.open();
  EXPECT_TRUE(s.data(0, 100).ok());
  EXPECT_EQ(s.data(0, 101).error, ConnError::kPacketTooLarge);
}

TEST(ConnectionErrors, UnknownChannel) {
  ServerOnly s;
  EXPECT_EQ(s.data(0, 1).error, ConnError::kUnknownChannel);
  s.open();
  EXPECT_EQ(s.data(1, 1).error, ConnError::kUnknownChannel);
  EXPECT_EQ(s.data(0xffffffff, 1).error, ConnError::kUnknownChannel);
  EXPECT_EQ(s.only(msg::kChannelEof, 9).error, ConnError::kUnknownChannel);
  EXPECT_EQ(s.only(msg::kChannelClose, 9).error, ConnError::kUnknownChannel);
  Bytes b;
  ChannelOpenConfirmationMsg{0, 1, 1, 1, {}}.encode(b);  // not opening: confirmed already
  EXPECT_EQ(s.mux.on_message(b).error, ConnError::kUnknownChannel);
}

TEST(ConnectionErrors, DataAfterEofAndClose) {
  ServerOnly s;
  s.open();
  EXPECT_TRUE(s.only(msg::kChannelEof, 0).ok());
  EXPECT_EQ(s.h.events.back(), "eof 0");
  EXPECT_EQ(s.data(0, 1).error, ConnError::kDataAfterEof);
  Bytes e;
  ChannelExtendedDataMsg{0, 1, as_bytes("x")}.encode(e);
  EXPECT_EQ(s.mux.on_message(e).error, ConnError::kDataAfterEof);
  // Requests after EOF are fine (exit-status comes after EOF).
  Bytes req;
  ChannelRequestMsg{0, "exit-status", false, Bytes{0, 0, 0, 0}}.encode(req);
  EXPECT_TRUE(s.mux.on_message(req).ok());
  EXPECT_TRUE(s.only(msg::kChannelClose, 0).ok());
  // Our CLOSE reply went out, addressed to the peer's id.
  ASSERT_EQ(s.sink.queue.size(), 1u);
  EXPECT_EQ(s.sink.queue.back(), (Bytes{msg::kChannelClose, 0, 0, 0, 5}));
  EXPECT_EQ(s.data(0, 1).error, ConnError::kUnknownChannel);
}

TEST(ConnectionErrors, WindowAdjustOverflow) {
  ServerOnly s;
  s.open();  // peer window 1000
  Bytes b;
  ChannelWindowAdjustMsg{0, 0xffffffffu - 1000}.encode(b);
  EXPECT_TRUE(s.mux.on_message(b).ok());
  EXPECT_EQ(s.mux.send_window(0), 0xffffffffu);
  b.clear();
  ChannelWindowAdjustMsg{0, 1}.encode(b);
  EXPECT_EQ(s.mux.on_message(b).error, ConnError::kWindowOverflow);
}

TEST(ConnectionErrors, TruncatedAndTrailing) {
  ServerOnly s;
  s.open();
  std::vector<Bytes> good;
  auto add = [&](auto m) {
    Bytes b;
    m.encode(b);
    good.push_back(b);
  };
  add(ChannelDataMsg{0, as_bytes("abc")});
  add(ChannelExtendedDataMsg{0, 1, as_bytes("abc")});
  add(ChannelWindowAdjustMsg{0, 5});
  add(ChannelOnlyMsg{msg::kChannelEof, 0});
  add(ChannelOnlyMsg{msg::kChannelClose, 0});
  add(ChannelOpenFailureMsg{0, 1, "x", ""});
  for (const Bytes& g : good) {
    for (size_t n = 0; n < g.size(); ++n) {
      ConnResult r = s.mux.on_message(ByteView(g).first(n));
      EXPECT_EQ(r.error, ConnError::kMalformed) << int(g[0]) << " cut at " << n;
    }
    Bytes extra = g;
    extra.push_back(0);
    EXPECT_EQ(s.mux.on_message(extra).error, ConnError::kMalformed) << int(g[0]);
  }
  // A known request with bad fields.
  Bytes req;
  ChannelRequestMsg{0, "exec", true, Bytes{0, 0, 0, 9, 'a'}}.encode(req);
  EXPECT_EQ(s.mux.on_message(req).error, ConnError::kMalformed);
  // Unknown message number.
  EXPECT_EQ(s.mux.on_message(Bytes{101}).error, ConnError::kUnexpectedMessage);
}

TEST(ConnectionErrors, UnexpectedReplies) {
  ServerOnly s;
  s.open();
  EXPECT_EQ(s.only(msg::kChannelSuccess, 0).error, ConnError::kUnexpectedReply);
  EXPECT_EQ(s.mux.on_message(Bytes{msg::kRequestFailure}).error, ConnError::kUnexpectedReply);
}

}  // namespace
}  // namespace hashi::connection
