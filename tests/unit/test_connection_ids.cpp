// ConnectionMux channel numbering: every message we send on a channel carries the PEER's channel
// id as the recipient, and every message from the peer is addressed to OUR id (RFC 4254 section
// 5.1). Regression for the server confirming an open with its own id as the recipient, which
// broke PuTTY (it numbers its channels from 256, so the ids never coincide by luck).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "connection/messages.h"
#include "connection/mux.h"

namespace hashi::connection {
namespace {

// Records every payload the mux sends, in order.
struct RecordingSink : PayloadSink {
  std::vector<Bytes> sent;
  void send(ByteView p) override { sent.emplace_back(p.begin(), p.end()); }
  void send2(ByteView head, ByteView body) override {
    Bytes b(head.begin(), head.end());
    b.insert(b.end(), body.begin(), body.end());
    sent.push_back(std::move(b));
  }
  // Returns and forgets what was sent so far.
  std::vector<Bytes> take() { return std::exchange(sent, {}); }
};

// Accepts every open and request; records what arrives.
struct Handler : ConnectionHandler {
  ConnectionMux* mux = nullptr;
  std::vector<uint32_t> opened;  // local ids of peer opens
  std::vector<uint32_t> confirmed;
  std::string data;
  std::vector<uint32_t> eofs, closes;
  std::vector<std::string> requests;
  std::vector<std::pair<uint32_t, bool>> replies;
  connection::Decision on_open_request(uint32_t ch, std::string_view, ByteView) override {
    opened.push_back(ch);
    return true;
  }
  void on_open_confirmed(uint32_t ch) override { confirmed.push_back(ch); }
  void on_data(uint32_t ch, ByteView d) override {
    data.append(as_string(d));
    mux->consume(ch, d.size());
  }
  void on_extended_data(uint32_t ch, uint32_t, ByteView d) override {
    data.append(as_string(d));
    mux->consume(ch, d.size());
  }
  void on_eof(uint32_t ch) override { eofs.push_back(ch); }
  void on_close(uint32_t ch) override { closes.push_back(ch); }
  connection::Decision on_channel_request(uint32_t ch, const ChannelRequest& r, bool) override {
    requests.emplace_back(r.name());
    return true;
  }
  void on_request_reply(uint32_t ch, bool ok) override { replies.emplace_back(ch, ok); }
};

constexpr uint32_t kPeerWindow = 1 << 20;
constexpr uint32_t kPeerMaxPacket = 32768;

Bytes encode_open(uint32_t sender) {
  Bytes b;
  ChannelOpenMsg{"session", sender, kPeerWindow, kPeerMaxPacket, {}}.encode(b);
  return b;
}

Bytes encode_request(uint32_t recipient, std::string_view type, bool want_reply,
                     ByteView fields = {}) {
  Bytes b;
  ChannelRequestMsg{recipient, type, want_reply, fields}.encode(b);
  return b;
}

Bytes encode_data(uint32_t recipient, std::string_view text) {
  Bytes b;
  ChannelDataMsg{recipient, as_bytes(text)}.encode(b);
  return b;
}

Bytes encode_only(uint8_t type, uint32_t recipient) {
  Bytes b;
  ChannelOnlyMsg{type, recipient}.encode(b);
  return b;
}

// The recipient channel of any channel message we sent (every one has it right after the type).
uint32_t recipient_of(const Bytes& payload) {
  EXPECT_GE(payload.size(), 5u);
  if (payload.size() < 5) return 0xffffffff;
  return (uint32_t(payload[1]) << 24) | (uint32_t(payload[2]) << 16) |
         (uint32_t(payload[3]) << 8) | uint32_t(payload[4]);
}

struct ServerFixture {
  RecordingSink sink;
  Handler handler;
  ConnectionMux mux{sink, Role::kServer, handler};
  ServerFixture() { handler.mux = &mux; }

  // Opens a session from a peer that numbers it `peer_id`; returns our id from the confirmation.
  uint32_t open_from_peer(uint32_t peer_id) {
    EXPECT_TRUE(mux.on_message(encode_open(peer_id)).ok());
    auto out = sink.take();
    EXPECT_EQ(out.size(), 1u);
    if (out.empty()) return 0xffffffff;
    auto conf = ChannelOpenConfirmationMsg::decode(out[0]);
    EXPECT_TRUE(conf.has_value());
    if (!conf) return 0xffffffff;
    EXPECT_EQ(conf->recipient_channel, peer_id);
    EXPECT_EQ(conf->sender_channel, handler.opened.back());
    return conf->sender_channel;
  }
};

TEST(ConnectionIds, ServerConfirmsToPeerSenderId) {
  for (uint32_t peer_id : {256u, 1000u}) {
    ServerFixture f;
    uint32_t ours = f.open_from_peer(peer_id);
    EXPECT_NE(ours, peer_id);
    EXPECT_TRUE(f.mux.can_send(ours));
  }
}

TEST(ConnectionIds, ServerSendsEverythingToPeerId) {
  ServerFixture f;
  const uint32_t a = f.open_from_peer(256);
  const uint32_t b = f.open_from_peer(1000);
  ASSERT_NE(a, b);

  // The peer addresses our ids; a want_reply request is answered to its id.
  ASSERT_TRUE(f.mux.on_message(encode_request(a, "shell", true)).ok());
  ASSERT_TRUE(f.mux.on_message(encode_request(b, "shell", true)).ok());
  EXPECT_EQ(f.handler.requests, (std::vector<std::string>{"shell", "shell"}));
  auto replies = f.sink.take();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0][0], msg::kChannelSuccess);
  EXPECT_EQ(recipient_of(replies[0]), 256u);
  EXPECT_EQ(recipient_of(replies[1]), 1000u);

  ASSERT_TRUE(f.mux.on_message(encode_data(a, "from putty")).ok());
  ASSERT_TRUE(f.mux.on_message(encode_data(b, "!")).ok());
  EXPECT_EQ(f.handler.data, "from putty!");

  for (auto [ours, theirs] : {std::pair{a, 256u}, std::pair{b, 1000u}}) {
    EXPECT_EQ(f.mux.send_data(ours, as_bytes("out")), 3u);
    EXPECT_EQ(f.mux.send_extended_data(ours, kExtendedDataStderr, as_bytes("err")), 3u);
    EXPECT_TRUE(f.mux.send_request(ours, {ExitStatusRequest{3}}, false));
    EXPECT_TRUE(f.mux.send_eof(ours));
    EXPECT_TRUE(f.mux.close(ours));
    auto out = f.sink.take();
    ASSERT_EQ(out.size(), 5u);

    auto data = ChannelDataMsg::decode(out[0]);
    ASSERT_TRUE(data);
    EXPECT_EQ(data->recipient_channel, theirs);
    EXPECT_EQ(as_string(data->data), "out");

    auto ext = ChannelExtendedDataMsg::decode(out[1]);
    ASSERT_TRUE(ext);
    EXPECT_EQ(ext->recipient_channel, theirs);

    auto req = ChannelRequestMsg::decode(out[2]);
    ASSERT_TRUE(req);
    EXPECT_EQ(req->recipient_channel, theirs);
    EXPECT_EQ(req->request_type, "exit-status");

    auto eof = ChannelOnlyMsg::decode(out[3], msg::kChannelEof);
    ASSERT_TRUE(eof);
    EXPECT_EQ(eof->recipient_channel, theirs);

    auto close = ChannelOnlyMsg::decode(out[4], msg::kChannelClose);
    ASSERT_TRUE(close);
    EXPECT_EQ(close->recipient_channel, theirs);
  }

  // The peer's CLOSE comes addressed to our ids and completes the close.
  ASSERT_TRUE(f.mux.on_message(encode_only(msg::kChannelClose, a)).ok());
  ASSERT_TRUE(f.mux.on_message(encode_only(msg::kChannelClose, b)).ok());
  EXPECT_EQ(f.handler.closes, (std::vector<uint32_t>{a, b}));
  EXPECT_EQ(f.mux.open_channels(), 0u);
}

TEST(ConnectionIds, ServerWindowAdjustGoesToPeerId) {
  RecordingSink sink;
  Handler handler;
  ConnLimits limits;
  limits.window_size = 64;
  limits.max_packet = 64;
  ConnectionMux mux(sink, Role::kServer, handler, limits);
  handler.mux = &mux;
  ASSERT_TRUE(mux.on_message(encode_open(256)).ok());
  sink.take();
  // Consuming half the window returns it with WINDOW_ADJUST, addressed to the peer's id.
  ASSERT_TRUE(mux.on_message(encode_data(0, std::string(40, 'x'))).ok());
  auto out = sink.take();
  ASSERT_EQ(out.size(), 1u);
  auto adj = ChannelWindowAdjustMsg::decode(out[0]);
  ASSERT_TRUE(adj);
  EXPECT_EQ(adj->recipient_channel, 256u);
}

TEST(ConnectionIds, ServerRejectsMessagesAddressedToPeerId) {
  ServerFixture f;
  const uint32_t ours = f.open_from_peer(256);
  ASSERT_NE(ours, 256u);
  // A message carrying the peer's own number is for a channel we do not have.
  ConnResult r = f.mux.on_message(encode_data(256, "misaddressed"));
  EXPECT_EQ(r.error, ConnError::kUnknownChannel);
  EXPECT_TRUE(f.handler.data.empty());
}

TEST(ConnectionIds, ClientSendsToServerSenderId) {
  RecordingSink sink;
  Handler handler;
  ConnectionMux mux(sink, Role::kClient, handler);
  handler.mux = &mux;
  auto ours = mux.open_session();
  ASSERT_TRUE(ours);
  {
    auto out = sink.take();
    ASSERT_EQ(out.size(), 1u);
    auto open = ChannelOpenMsg::decode(out[0]);
    ASSERT_TRUE(open);
    EXPECT_EQ(open->sender_channel, *ours);
  }
  ASSERT_NE(*ours, 7u);
  Bytes conf;
  ChannelOpenConfirmationMsg{*ours, 7, kPeerWindow, kPeerMaxPacket, {}}.encode(conf);
  ASSERT_TRUE(mux.on_message(conf).ok());
  EXPECT_EQ(handler.confirmed, (std::vector<uint32_t>{*ours}));

  EXPECT_TRUE(mux.send_request(*ours, {ExecRequest{"true"}}, true));
  EXPECT_EQ(mux.send_data(*ours, as_bytes("in")), 2u);
  EXPECT_TRUE(mux.send_eof(*ours));
  auto out = sink.take();
  ASSERT_EQ(out.size(), 3u);
  auto req = ChannelRequestMsg::decode(out[0]);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->recipient_channel, 7u);
  EXPECT_EQ(req->request_type, "exec");
  auto data = ChannelDataMsg::decode(out[1]);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->recipient_channel, 7u);
  auto eof = ChannelOnlyMsg::decode(out[2], msg::kChannelEof);
  ASSERT_TRUE(eof);
  EXPECT_EQ(eof->recipient_channel, 7u);

  // The server answers to our id: the reply, data, exit-status, EOF and CLOSE are all accepted.
  ASSERT_TRUE(mux.on_message(encode_only(msg::kChannelSuccess, *ours)).ok());
  EXPECT_EQ(handler.replies, (std::vector<std::pair<uint32_t, bool>>{{*ours, true}}));
  ASSERT_TRUE(mux.on_message(encode_data(*ours, "output")).ok());
  EXPECT_EQ(handler.data, "output");
  Bytes status;
  ChannelRequest{ExitStatusRequest{0}}.encode_fields(status);
  ASSERT_TRUE(mux.on_message(encode_request(*ours, "exit-status", false, status)).ok());
  EXPECT_EQ(handler.requests, (std::vector<std::string>{"exit-status"}));
  ASSERT_TRUE(mux.on_message(encode_only(msg::kChannelEof, *ours)).ok());
  EXPECT_EQ(handler.eofs, (std::vector<uint32_t>{*ours}));

  // The server's CLOSE is addressed to our id; the CLOSE the mux answers with goes to 7.
  sink.take();
  ASSERT_TRUE(mux.on_message(encode_only(msg::kChannelClose, *ours)).ok());
  out = sink.take();
  ASSERT_EQ(out.size(), 1u);
  auto close = ChannelOnlyMsg::decode(out[0], msg::kChannelClose);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->recipient_channel, 7u);
  EXPECT_EQ(handler.closes, (std::vector<uint32_t>{*ours}));
}

TEST(ConnectionIds, ClientRejectsMessagesAddressedToServerId) {
  RecordingSink sink;
  Handler handler;
  ConnectionMux mux(sink, Role::kClient, handler);
  handler.mux = &mux;
  auto ours = mux.open_session();
  ASSERT_TRUE(ours);
  Bytes conf;
  ChannelOpenConfirmationMsg{*ours, 7, kPeerWindow, kPeerMaxPacket, {}}.encode(conf);
  ASSERT_TRUE(mux.on_message(conf).ok());
  ConnResult r = mux.on_message(encode_data(7, "misaddressed"));
  EXPECT_EQ(r.error, ConnError::kUnknownChannel);
  EXPECT_TRUE(handler.data.empty());
}

}  // namespace
}  // namespace hashi::connection
