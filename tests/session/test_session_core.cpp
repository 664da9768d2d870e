// The one session core in both roles: a client Session and a server Session wired in memory,
// every byte stream cut at random points, the test playing the policy (answers given late, out of
// order) and the channel endpoints (echo, source, sink, a reader that never reads).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "auth/messages.h"
#include "session/hostkeys.h"
#include "session/policy.h"
#include "session/session.h"
#include "session/session_pair.h"

namespace hashi::test {
namespace {

using session::Event;
using session::Session;
using session::SessionConfig;

// FNV-1a over a byte stream.
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  size_t n = 0;
  void add(ByteView b) {
    for (uint8_t c : b) h = (h ^ c) * 1099511628211ull;
    n += b.size();
  }
};

// Deterministic test bytes: byte i of stream `seed`.
Bytes pattern(uint32_t seed, size_t len) {
  Bytes b(len);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : b) {
    x = x * 1103515245u + 12345u;
    c = uint8_t(x >> 16);
  }
  return b;
}

std::shared_ptr<const keys::PrivateKey> shared_key(const keys::PrivateKey& k) {
  return std::shared_ptr<const keys::PrivateKey>(&k, [](const keys::PrivateKey*) {});
}

SessionConfig client_config(const keys::PrivateKey& identity = alice_key()) {
  SessionConfig c;
  c.role = transport::Role::kClient;
  c.transport = default_transport_config();
  c.user = "alice";
  c.identities = {shared_key(identity)};
  return c;
}

SessionConfig server_config() {
  SessionConfig c;
  c.role = transport::Role::kServer;
  c.transport = default_transport_config();
  c.transport.host_keys = {shared_key(test_host_key(keys::KeyType::kEd25519))};
  c.peer_address = "192.0.2.7";
  c.peer_port = 50022;
  return c;
}

// Two Sessions and the wire between them. Events are collected per side; `on_client` /
// `on_server` see each one as it is popped (the default answers the policy questions at once:
// the host key is trusted, alice with alice_key() may log in).
struct Wire {
  std::shared_ptr<Session> client, server;
  std::vector<Event> client_events, server_events;
  std::function<void(const Event&)> on_client, on_server;
  TimePoint now{};
  std::mt19937 rng{777};
  size_t max_chunk = 0;  // 0: whole; else random pieces of 1..max_chunk bytes
  bool server_reads = true, client_reads = true;

  explicit Wire(SessionConfig c = client_config(), SessionConfig s = server_config())
      : client(std::make_shared<Session>(std::move(c))),
        server(std::make_shared<Session>(std::move(s))) {
    on_client = [this](const Event& e) { default_client(e); };
    on_server = [this](const Event& e) { default_server(e); };
  }

  void default_client(const Event& e) {
    if (auto* q = std::get_if<session::HostKeyQuery>(&e)) {
      client->answer_host_key(q->id, transport::Status::ok());
    }
  }
  void default_server(const Event& e) {
    if (auto* q = std::get_if<session::UserQuery>(&e)) server->answer_user(q->id, q->user == "alice");
    if (auto* q = std::get_if<session::KeyQuery>(&e)) {
      bool ok = q->user == "alice" && q->key == alice_key().public_key();
      server->answer_key(q->id, ok ? std::optional<keys::KeyOptions>(keys::KeyOptions{})
                                   : std::nullopt);
    }
  }

  size_t move(Session& from, Session& to) {
    ByteView out = from.pending_output();
    if (out.empty() || to.closed()) {
      from.consume_output(out.size());
      return 0;
    }
    Bytes data(out.begin(), out.end());
    from.consume_output(data.size());
    size_t pos = 0;
    while (pos < data.size() && !to.closed()) {
      size_t n = data.size() - pos;
      if (max_chunk) n = std::min(n, size_t(1 + rng() % max_chunk));
      (void)to.feed(ByteView(data.data() + pos, n), now);
      pos += n;
    }
    return data.size();
  }

  bool drain_events() {
    bool any = false;
    while (auto e = client->next_event()) {
      any = true;
      client_events.push_back(*e);
      on_client(*e);
    }
    while (auto e = server->next_event()) {
      any = true;
      server_events.push_back(*e);
      on_server(*e);
    }
    return any;
  }

  // One round: events, then bytes both ways. Returns whether anything happened.
  bool step() {
    bool any = drain_events();
    size_t moved = 0;
    if (server_reads) moved += move(*client, *server);
    if (client_reads) moved += move(*server, *client);
    return any || moved > 0;
  }

  void pump(int rounds = 2000) {
    for (int i = 0; i < rounds && step(); ++i) {
    }
  }

  void start() {
    client->start(now);
    server->start(now);
  }
};

template <typename T>
std::vector<T> of(const std::vector<Event>& events) {
  std::vector<T> out;
  for (const auto& e : events) {
    if (auto* t = std::get_if<T>(&e)) out.push_back(*t);
  }
  return out;
}

std::string closed_reason(const std::vector<Event>& events) {
  auto c = of<session::Closed>(events);
  return c.empty() ? "" : c.back().why.message();
}

// ---- exec answered later, exit-status, EOF/CLOSE in every order ----

// The order in which the four ends of a channel's life happen.
enum Step { kClientEof, kServerEof, kServerClose, kClientClose };

void run_exec(const std::vector<Step>& order, uint32_t seed) {
  Wire w;
  w.max_chunk = 1 + seed % 97;
  w.rng.seed(seed);
  std::optional<uint32_t> server_ch;
  bool exec_seen = false;
  Fnv server_got, client_got;
  w.on_server = [&](const Event& e) {
    w.default_server(e);
    if (auto* o = std::get_if<session::ChannelOpenRequest>(&e)) server_ch = o->channel;
    if (auto* r = std::get_if<session::ChannelRequestEvent>(&e)) {
      exec_seen = std::holds_alternative<connection::ExecRequest>(r->request.body);
    }
    if (auto* in = std::get_if<session::ChannelInput>(&e)) {
      ByteView b = w.server->channel_input(in->channel);
      server_got.add(b);
      w.server->consume_input(in->channel, 0, b.size());
    }
  };
  uint32_t client_ch = 0;
  w.on_client = [&](const Event& e) {
    w.default_client(e);
    if (auto* in = std::get_if<session::ChannelInput>(&e)) {
      for (int stream = 0; stream < 2; ++stream) {
        ByteView b = w.client->channel_input(in->channel, stream);
        client_got.add(b);
        w.client->consume_input(in->channel, stream, b.size());
      }
    }
  };
  w.start();
  w.pump();
  ASSERT_TRUE(w.client->authenticated());
  ASSERT_TRUE(w.server->authenticated());
  client_ch = *w.client->open_channel("session");
  w.pump();
  ASSERT_TRUE(server_ch.has_value());
  EXPECT_TRUE(of<session::ChannelOpened>(w.client_events).empty());  // the server has not said
  w.server->accept_channel(*server_ch);
  w.pump();
  ASSERT_EQ(of<session::ChannelOpened>(w.client_events).size(), 1u);
  ASSERT_TRUE(w.client->send_request(client_ch, {connection::ExecRequest{"cat"}}, true));
  w.pump();
  ASSERT_TRUE(exec_seen);
  w.pump();
  EXPECT_TRUE(of<session::ChannelRequestReply>(w.client_events).empty());  // answered later
  w.server->reply_request(*server_ch, true);
  w.pump();
  auto replies = of<session::ChannelRequestReply>(w.client_events);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].success);

  Bytes up = pattern(seed, 70000), down = pattern(seed + 1, 90000), err = pattern(seed + 2, 3000);
  Fnv up_sum, down_sum;
  up_sum.add(up);
  down_sum.add(down);
  down_sum.add(err);
  size_t up_off = 0, down_off = 0, err_off = 0;
  auto push = [&] {
    up_off += w.client->send(client_ch, ByteView(up).subspan(up_off));
    down_off += w.server->send(*server_ch, ByteView(down).subspan(down_off));
    if (down_off == down.size()) err_off += w.server->send_stderr(*server_ch, ByteView(err).subspan(err_off));
  };
  for (int i = 0; i < 500 && (up_off < up.size() || err_off < err.size()); ++i) {
    push();
    w.step();
  }
  ASSERT_EQ(up_off, up.size());
  ASSERT_EQ(err_off, err.size());
  for (Step s : order) {
    switch (s) {
      case kClientEof:
        (void)w.client->send_eof(client_ch);
        break;
      case kServerEof:
        (void)w.server->send_eof(*server_ch);
        (void)w.server->send_request(*server_ch, {connection::ExitStatusRequest{3}}, false);
        break;
      case kServerClose:
        (void)w.server->close_channel(*server_ch);
        break;
      case kClientClose:
        (void)w.client->close_channel(client_ch);
        break;
    }
    w.step();
  }
  w.pump();
  EXPECT_EQ(of<session::ChannelClosed>(w.client_events).size(), 1u);
  EXPECT_EQ(of<session::ChannelClosed>(w.server_events).size(), 1u);
  EXPECT_TRUE(w.client->channels().empty());
  EXPECT_TRUE(w.server->channels().empty());
  // Every byte sent before a side's own CLOSE arrived (data/stderr go before EOF and CLOSE).
  EXPECT_EQ(server_got.n, up.size());
  EXPECT_EQ(server_got.h, up_sum.h);
  EXPECT_EQ(client_got.n, down.size() + err.size());
  EXPECT_EQ(client_got.h, down_sum.h);
  // exit-status is an ordinary channel request, seen unless the client closed before it came.
  auto requests = of<session::ChannelRequestEvent>(w.client_events);
  auto at = [&](Step s) { return std::find(order.begin(), order.end(), s) - order.begin(); };
  if (at(kServerEof) < at(kServerClose) && at(kServerEof) < at(kClientClose)) {
    ASSERT_EQ(requests.size(), 1u);
    auto* st = std::get_if<connection::ExitStatusRequest>(&requests[0].request.body);
    ASSERT_NE(st, nullptr);
    EXPECT_EQ(st->status, 3u);
  }
  EXPECT_FALSE(w.client->closed());
  EXPECT_FALSE(w.server->closed());
}

TEST(SessionCore, ExecAnsweredLaterEofCloseInEveryOrder) {
  std::vector<Step> order = {kClientEof, kServerEof, kServerClose, kClientClose};
  std::sort(order.begin(), order.end());
  uint32_t seed = 1;
  int runs = 0;
  do {
    SCOPED_TRACE("order " + std::to_string(order[0]) + std::to_string(order[1]) +
                 std::to_string(order[2]) + std::to_string(order[3]));
    run_exec(order, seed++);
    ++runs;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(runs, 24);
}

// ---- 100 channels at once ----

enum class Kind { kEcho, kSource, kSink };

struct End {
  Kind kind = Kind::kEcho;
  Bytes out;        // what this end still has to send (from out_off)
  size_t out_off = 0;
  bool produce_done = false;  // nothing more will be appended to `out`
  bool eof_sent = false, closed_sent = false;
  Fnv got;
  bool reads = true;
  bool started = false;  // exec sent (client) / received (server): data may flow
};

TEST(SessionCore, HundredChannelsMixedKindsOneNeverRead) {
  constexpr int kChannels = 100;
  constexpr uint32_t kWindow = 128 * 1024;
  constexpr size_t kStreamLen = 96 * 1024;
  SessionConfig cc = client_config(), sc = server_config();
  cc.channels.max_channels = sc.channels.max_channels = 128;
  cc.channels.window_size = sc.channels.window_size = kWindow;
  Wire w(std::move(cc), std::move(sc));
  w.max_chunk = 4000;
  std::map<uint32_t, End> client_ends, server_ends;
  std::map<uint32_t, Kind> kind_of_client;
  std::vector<uint32_t> pending_opens;
  std::vector<std::pair<uint32_t, bool>> pending_replies;
  size_t max_unread = 0;
  uint32_t unread = 0;

  auto read_input = [](Session& s, uint32_t ch, End& e) {
    if (!e.reads) return;
    for (int stream = 0; stream < 2; ++stream) {
      ByteView b = s.channel_input(ch, stream);
      e.got.add(b);
      if (e.kind == Kind::kEcho && stream == 0 && s.role() == transport::Role::kServer) {
        e.out.insert(e.out.end(), b.begin(), b.end());
      }
      s.consume_input(ch, stream, b.size());
    }
  };
  w.on_server = [&](const Event& e) {
    w.default_server(e);
    if (auto* o = std::get_if<session::ChannelOpenRequest>(&e)) pending_opens.push_back(o->channel);
    if (auto* r = std::get_if<session::ChannelRequestEvent>(&e)) {
      auto* x = std::get_if<connection::ExecRequest>(&r->request.body);
      ASSERT_NE(x, nullptr);
      End& end = server_ends[r->channel];
      bool source = x->command.rfind("source", 0) == 0;
      end.kind = x->command == "echo" ? Kind::kEcho : source ? Kind::kSource : Kind::kSink;
      if (source) {
        // "source-big": more than the window, for the channel the client never reads.
        end.out = pattern(r->channel + 1000, x->command == "source" ? kStreamLen : 4 * kWindow);
        end.produce_done = true;
      }
      if (end.kind == Kind::kSink) end.produce_done = true;
      end.started = true;
      pending_replies.emplace_back(r->channel, true);
    }
    if (auto* in = std::get_if<session::ChannelInput>(&e)) {
      read_input(*w.server, in->channel, server_ends[in->channel]);
    }
    if (auto* eof = std::get_if<session::ChannelEof>(&e)) {
      End& end = server_ends[eof->channel];
      read_input(*w.server, eof->channel, end);
      if (end.kind == Kind::kEcho) end.produce_done = true;
    }
  };
  w.on_client = [&](const Event& e) {
    w.default_client(e);
    if (auto* o = std::get_if<session::ChannelOpened>(&e)) {
      Kind k = kind_of_client[o->channel];
      const char* cmd = k == Kind::kEcho     ? "echo"
                        : o->channel == unread ? "source-big"
                        : k == Kind::kSource   ? "source"
                                               : "sink";
      ASSERT_TRUE(w.client->send_request(o->channel, {connection::ExecRequest{cmd}}, true));
      client_ends[o->channel].started = true;
    }
    if (auto* in = std::get_if<session::ChannelInput>(&e)) {
      read_input(*w.client, in->channel, client_ends[in->channel]);
    }
  };
  w.start();
  w.pump();
  ASSERT_TRUE(w.client->authenticated());
  for (int i = 0; i < kChannels; ++i) {
    uint32_t ch = *w.client->open_channel("session");
    Kind k = Kind(i % 3);
    kind_of_client[ch] = k;
    End& end = client_ends[ch];
    end.kind = k;
    if (k == Kind::kSource) end.produce_done = true;  // sends nothing
    if (k != Kind::kSource) {
      end.out = pattern(ch, kStreamLen);
      end.produce_done = true;
    }
    if (i == 1) {
      unread = ch;  // a source channel whose output the client never reads
      end.reads = false;
    }
  }
  ASSERT_EQ(kind_of_client[unread], Kind::kSource);

  auto write_side = [](Session& s, std::map<uint32_t, End>& ends) {
    for (auto& [ch, e] : ends) {
      if (!e.started || e.closed_sent) continue;
      if (e.out_off < e.out.size()) {
        e.out_off += s.send(ch, ByteView(e.out).subspan(e.out_off));
      }
      if (e.produce_done && e.out_off == e.out.size() && !e.eof_sent) {
        e.eof_sent = s.send_eof(ch);
      }
      if (e.eof_sent && s.input_eof(ch) && !e.closed_sent) e.closed_sent = s.close_channel(ch);
    }
  };
  int rounds = 0;
  for (; rounds < 20000; ++rounds) {
    // The server's policy answers opens and requests one round late.
    for (uint32_t ch : std::exchange(pending_opens, {})) w.server->accept_channel(ch);
    for (auto [ch, ok] : std::exchange(pending_replies, {})) w.server->reply_request(ch, ok);
    write_side(*w.client, client_ends);
    write_side(*w.server, server_ends);
    w.step();
    max_unread = std::max(max_unread, w.client->channel_input(unread).size());
    size_t closed = of<session::ChannelClosed>(w.client_events).size();
    if (closed == kChannels - 1 && !w.client->has_events() && !w.server->has_events()) break;
  }
  EXPECT_EQ(of<session::ChannelClosed>(w.client_events).size(), size_t(kChannels - 1));
  // Checksums: what each end received is what the other sent.
  for (const auto& [ch, ce] : client_ends) {
    if (ch == unread) continue;
    SCOPED_TRACE("channel " + std::to_string(ch));
    Fnv want;
    if (ce.kind == Kind::kEcho) want.add(pattern(ch, kStreamLen));
    if (ce.kind == Kind::kSource) want.add(pattern(ch + 1000, kStreamLen));
    EXPECT_EQ(ce.got.n, want.n);
    EXPECT_EQ(ce.got.h, want.h);
    if (ce.kind == Kind::kSink) {
      Fnv sent;
      sent.add(pattern(ch, kStreamLen));
      EXPECT_EQ(server_ends[ch].got.h, sent.h);
      EXPECT_EQ(server_ends[ch].got.n, sent.n);
    }
  }
  // The unread channel: its buffered input never went beyond the window we granted, and the
  // server, which still has data for it, may not write.
  EXPECT_LE(max_unread, kWindow);
  EXPECT_EQ(max_unread, kWindow);
  EXPECT_EQ(w.server->send_window(unread), 0u);
  EXPECT_FALSE(w.server->writable(unread));
  EXPECT_LT(server_ends[unread].out_off, 4 * kWindow);
  std::cout << "[ figures ] 100 channels in " << rounds << " rounds; unread channel buffered "
            << max_unread << " bytes (window " << kWindow << ")\n";
  ::testing::Test::RecordProperty("unread_channel_max_buffered", int(max_unread));
}

// ---- authentication answered late, out of order, while the client pipelines ----

Bytes signed_request(const Session& client, const keys::PrivateKey& key) {
  const Bytes& blob = key.public_key().blob();
  std::string alg(keys::signature_algorithms(key.public_key().type()).front());
  Bytes sig = key.sign(alg, auth::publickey_signed_data(client.transport().session_id(), "alice",
                                                        "ssh-connection", alg, blob));
  Bytes fields;
  auth::PublickeyFields{true, alg, blob, sig}.encode(fields);
  Bytes out;
  auth::UserauthRequestMsg{"alice", "ssh-connection", "publickey", fields}.encode(out);
  return out;
}

TEST(SessionCore, AuthAnsweredAfterFiftyMessagesOutOfOrderAcrossConnections) {
  constexpr int kPipelined = 50;
  Wire good(client_config(alice_key())), bad(client_config(stranger_key()));
  std::vector<std::pair<Wire*, Event>> questions;
  for (Wire* w : {&good, &bad}) {
    w->on_server = [&questions, w](const Event& e) {
      if (std::holds_alternative<session::UserQuery>(e) ||
          std::holds_alternative<session::KeyQuery>(e)) {
        questions.emplace_back(w, e);
      }
    };
    w->start();
    // Up to the end of the key exchange only (the client's first auth messages stay unsent).
    for (int i = 0; i < 50 && w->client->transport().kex_count() == 0; ++i) w->step();
    ASSERT_EQ(w->client->transport().kex_count(), 1u);
  }
  // Each client pipelines, behind its SERVICE_REQUEST and "none": a signed publickey request
  // (good: alice's key; bad: a stranger's), then 50 global requests and a channel open.
  for (Wire* w : {&good, &bad}) {
    const keys::PrivateKey& key = w == &good ? alice_key() : stranger_key();
    w->client->transport().send(signed_request(*w->client, key));
    Bytes keepalive;
    connection::GlobalRequestMsg{"keepalive@openssh.com", false, {}}.encode(keepalive);
    for (int i = 0; i < kPipelined; ++i) w->client->transport().send(keepalive);
  }
  // Deliver everything; the servers ask and hold what follows.
  for (Wire* w : {&good, &bad}) w->pump();
  // Answer in reverse order of asking, across the two connections, until no question is left.
  int answered = 0;
  while (!questions.empty()) {
    std::vector<std::pair<Wire*, Event>> batch = std::exchange(questions, {});
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      it->first->default_server(it->second);
      ++answered;
    }
    for (Wire* w : {&good, &bad}) w->pump();
  }
  // Per connection: the user (asked at "none"), then the key of the pipelined request; the good
  // one is in by then (ClientAuth's own request arrives after success and is ignored), the bad
  // one is refused and its held channel-layer messages end it.
  EXPECT_EQ(answered, 4);
  EXPECT_TRUE(good.server->authenticated());
  EXPECT_TRUE(good.client->authenticated());
  EXPECT_EQ(of<session::GlobalRequest>(good.server_events).size(), size_t(kPipelined));
  EXPECT_FALSE(good.server->closed());
  EXPECT_FALSE(bad.server->authenticated());
  EXPECT_TRUE(bad.server->closed());
  EXPECT_EQ(closed_reason(bad.server_events), "unexpected message type 80 before authentication");
  auto lines = of<session::LogLine>(bad.server_events);
  bool failed_logged = false;
  for (const auto& l : lines) failed_logged |= l.text.rfind("Failed publickey for alice", 0) == 0;
  EXPECT_TRUE(failed_logged);
  bool accepted_logged = false;
  for (const auto& l : of<session::LogLine>(good.server_events)) {
    accepted_logged |= l.level == 0 && l.text.rfind("Accepted publickey for alice from 192.0.2.7 "
                                                    "port 50022 ssh2: ED25519 SHA256:", 0) == 0;
  }
  EXPECT_TRUE(accepted_logged);
}

TEST(SessionCore, TooManyHeldMessagesDisconnects) {
  Wire w;
  w.on_server = [](const Event&) {};  // never answers
  w.start();
  for (int i = 0; i < 50 && w.client->transport().kex_count() == 0; ++i) w.step();
  Bytes keepalive;
  connection::GlobalRequestMsg{"keepalive@openssh.com", false, {}}.encode(keepalive);
  for (size_t i = 0; i < session::kMaxHeldMessages + 10; ++i) w.client->transport().send(keepalive);
  w.pump();
  EXPECT_TRUE(w.server->closed());
  EXPECT_EQ(closed_reason(w.server_events), "too many messages while authentication is decided");
}

// ---- a peer that never reads ----

// Starts `w`, logs in and opens one session channel the server accepts. Returns the client's and
// the server's ids for it.
std::optional<std::pair<uint32_t, uint32_t>> open_accepted_channel(Wire& w) {
  std::optional<uint32_t> server_ch;
  w.on_server = [&w, &server_ch](const Event& e) {
    w.default_server(e);
    if (auto* o = std::get_if<session::ChannelOpenRequest>(&e)) {
      server_ch = o->channel;
      w.server->accept_channel(o->channel);
    }
  };
  w.start();
  w.pump();
  std::optional<uint32_t> ch = w.client->open_channel("session");
  w.pump();
  w.on_server = [&w](const Event& e) { w.default_server(e); };
  if (!ch || !server_ch) return std::nullopt;
  return std::pair{*ch, *server_ch};
}

TEST(SessionCore, NeverReadingPeerBoundsServerOutput) {
  Wire w;
  auto ids = open_accepted_channel(w);
  ASSERT_TRUE(ids.has_value());
  std::optional<uint32_t> server_ch = ids->second;
  w.client_reads = false;  // from now on nothing the server writes is read
  Bytes chunk = pattern(9, 64 * 1024);
  size_t max_pending = 0, total = 0;
  int writes = 0;
  for (int i = 0; i < 1000 && w.server->writable(*server_ch); ++i) {
    total += w.server->send(*server_ch, chunk);
    ++writes;
    max_pending = std::max(max_pending, w.server->pending_output().size());
    w.step();
  }
  EXPECT_FALSE(w.server->writable(*server_ch));
  EXPECT_EQ(w.server->send(*server_ch, chunk), 0u);
  EXPECT_LE(max_pending, session::kOutputHighWater + 64 * 1024);
  std::cout << "[ figures ] never-reading peer: server accepted " << total << " bytes in "
            << writes << " writes; pending output peaked at " << max_pending
            << " bytes (high water " << session::kOutputHighWater << ")\n";
  ::testing::Test::RecordProperty("never_reading_peer_max_pending_output", int(max_pending));
  // Once the peer reads again, the channel becomes writable again (a ChannelWritable event).
  w.client_reads = true;
  w.pump();
  EXPECT_FALSE(of<session::ChannelWritable>(w.server_events).empty());
  EXPECT_TRUE(w.server->writable(*server_ch));
}

// The window alone (output drained all along): a channel that used up the peer's window hears
// ChannelWritable when the peer's WINDOW_ADJUST comes, without being asked again.
TEST(SessionCore, WindowAdjustWakesABlockedChannel) {
  Wire w;
  auto ids = open_accepted_channel(w);
  ASSERT_TRUE(ids.has_value());
  auto [ch, server_ch] = *ids;
  Bytes chunk = pattern(5, 32 * 1024);
  size_t total = 0;
  // Never more than the room it was told, as an endpoint does, and no question after the last
  // send: no short send and no zero answer said "blocked".
  while (total < size_t(connection::kDefaultWindowSize)) {
    size_t room = w.server->send_window(server_ch);
    if (room == 0) break;
    total += w.server->send(server_ch, ByteView(chunk).first(std::min(room, chunk.size())));
    w.pump();
  }
  EXPECT_EQ(total, size_t(connection::kDefaultWindowSize));
  w.server_events.clear();
  // The client's program reads it all: WINDOW_ADJUST goes out, the server hears ChannelWritable.
  ByteView in = w.client->channel_input(ch, 0);
  EXPECT_EQ(in.size(), total);
  w.client->consume_input(ch, 0, in.size());
  w.pump();
  auto writable = of<session::ChannelWritable>(w.server_events);
  ASSERT_EQ(writable.size(), 1u);
  EXPECT_EQ(writable[0].channel, server_ch);
  EXPECT_TRUE(w.server->writable(server_ch));
}

// The peer sends data, EOF and CLOSE at once while the program is not reading: our CLOSE waits
// until the program took every byte, so nothing sent before a clean close is lost.
TEST(SessionCore, PeerCloseWaitsUntilTheInputWasConsumed) {
  Wire w;
  auto ids = open_accepted_channel(w);
  ASSERT_TRUE(ids.has_value());
  auto [ch, server_ch_id] = *ids;
  std::optional<uint32_t> server_ch = server_ch_id;
  Bytes data = pattern(21, 300 * 1024);
  ASSERT_EQ(w.client->send(ch, data), data.size());
  ASSERT_TRUE(w.client->send_eof(ch));
  ASSERT_TRUE(w.client->close_channel(ch));
  w.pump();
  // Held: the server has not answered the CLOSE, the input is all there.
  EXPECT_TRUE(of<session::ChannelClosed>(w.client_events).empty());
  EXPECT_TRUE(of<session::ChannelClosed>(w.server_events).empty());
  EXPECT_EQ(w.server->send_window(*server_ch), 0u);  // nothing more may be sent on it
  Bytes got;
  while (!w.server->channel_input(*server_ch, 0).empty()) {
    ByteView in = w.server->channel_input(*server_ch, 0);
    size_t n = std::min<size_t>(in.size(), 7000);
    got.insert(got.end(), in.begin(), in.begin() + n);
    w.server->consume_input(*server_ch, 0, n);
    w.pump();
  }
  EXPECT_TRUE(got == data);
  // The last byte taken sent our CLOSE: both sides see the channel closed.
  EXPECT_EQ(of<session::ChannelClosed>(w.server_events).size(), 1u);
  EXPECT_EQ(of<session::ChannelClosed>(w.client_events).size(), 1u);
  EXPECT_FALSE(w.client->closed());
  EXPECT_FALSE(w.server->closed());
}

// ---- host-key questions answered late ----

TEST(SessionCore, SignQueryAnsweredLate) {
  SessionConfig sc = server_config();
  const keys::PrivateKey& hk = test_host_key(keys::KeyType::kEd25519);
  sc.transport.host_keys.clear();
  sc.host_public_keys = {hk.public_key()};
  Wire w(client_config(), std::move(sc));
  w.max_chunk = 13;
  std::optional<session::SignQuery> query;
  w.on_server = [&](const Event& e) {
    w.default_server(e);
    if (auto* q = std::get_if<session::SignQuery>(&e)) query = *q;
  };
  w.start();
  w.pump();
  ASSERT_TRUE(query.has_value());
  EXPECT_EQ(query->key, hk.public_key());
  EXPECT_EQ(query->algorithm, "ssh-ed25519");
  EXPECT_FALSE(w.server->wants_input());  // the key exchange waits
  for (int i = 0; i < 10; ++i) w.step();
  EXPECT_EQ(w.client->transport().kex_count(), 0u);
  w.server->answer_signature(query->id + 1, Bytes{1});  // a stale id is ignored
  EXPECT_FALSE(w.server->closed());
  w.server->answer_signature(query->id, hk.sign(query->algorithm, query->data));
  w.pump();
  EXPECT_TRUE(w.client->authenticated());
  EXPECT_TRUE(w.server->authenticated());
}

TEST(SessionCore, SignQueryFailedCloses) {
  SessionConfig sc = server_config();
  sc.transport.host_keys.clear();
  sc.host_public_keys = {test_host_key(keys::KeyType::kEd25519).public_key()};
  Wire w(client_config(), std::move(sc));
  w.on_server = [&](const Event& e) {
    if (auto* q = std::get_if<session::SignQuery>(&e)) w.server->fail_signature(q->id);
  };
  w.start();
  w.pump();
  EXPECT_TRUE(w.server->closed());
  EXPECT_EQ(closed_reason(w.server_events), "host key signing failed");
}

TEST(SessionCore, HostKeyQueryAnsweredLateAndRefused) {
  Wire w;
  w.max_chunk = 5;
  std::optional<session::HostKeyQuery> query;
  w.on_client = [&](const Event& e) {
    if (auto* q = std::get_if<session::HostKeyQuery>(&e)) query = *q;
  };
  w.start();
  w.pump();
  ASSERT_TRUE(query.has_value());
  EXPECT_EQ(query->key, test_host_key(keys::KeyType::kEd25519).public_key());
  for (int i = 0; i < 10; ++i) w.step();
  EXPECT_FALSE(w.client->closed());
  w.client->answer_host_key(query->id, transport::Status::fail(
                                           msg::DisconnectReason::kHostKeyNotVerifiable,
                                           "Host key verification failed."));
  w.pump();
  EXPECT_TRUE(w.client->closed());
  EXPECT_EQ(closed_reason(w.client_events), "Host key verification failed.");
  EXPECT_TRUE(w.server->closed());
  auto closed = of<session::Closed>(w.server_events);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_TRUE(closed[0].by_peer);
  EXPECT_TRUE(w.client->finished() || !w.client->pending_output().empty());
}

// ---- policies through route_query ----

struct LaterAuthenticator : session::Authenticator {
  std::vector<std::function<void()>> waiting;
  void check_user(const std::string& user, std::function<void(bool)> done) override {
    waiting.push_back([user, done] { done(user == "alice"); });
  }
  void check_key(const std::string& user, const keys::PublicKey& key,
                 std::function<void(std::optional<keys::KeyOptions>)> done) override {
    waiting.push_back([user, key, done] {
      done(key == alice_key().public_key() ? std::optional<keys::KeyOptions>(keys::KeyOptions{})
                                           : std::nullopt);
    });
  }
};

TEST(SessionCore, RouteQueryAnswersThroughPolicies) {
  Wire w;
  LaterAuthenticator authenticator;
  session::Policies policies;
  policies.authenticator = &authenticator;
  w.on_server = [&](const Event& e) { (void)session::route_query(w.server, e, policies); };
  w.start();
  for (int i = 0; i < 100 && !w.server->authenticated(); ++i) {
    w.pump();
    for (auto& f : std::exchange(authenticator.waiting, {})) f();
  }
  EXPECT_TRUE(w.server->authenticated());
  // A completion after the Session is gone is dropped.
  w.server.reset();
  bool called = false;
  authenticator.check_user("alice", [&](bool) { called = true; });
  for (auto& f : std::exchange(authenticator.waiting, {})) f();
  EXPECT_TRUE(called);
}

// ---- hostkeys-00 / hostkeys-prove-00 through the shared codec ----

TEST(SessionCore, HostkeysProveRoundTrip) {
  SessionConfig sc = server_config();
  sc.transport.host_keys.push_back(shared_key(test_host_key(keys::KeyType::kEcdsaP256)));
  Wire w(client_config(), std::move(sc));
  std::optional<std::vector<keys::PublicKey>> announced;
  w.on_client = [&](const Event& e) {
    w.default_client(e);
    auto* g = std::get_if<session::GlobalRequest>(&e);
    if (g == nullptr || g->name != session::kHostkeysRequest) return;
    size_t unsupported = 0;
    announced = session::parse_hostkeys(g->data, unsupported);
    ASSERT_TRUE(announced.has_value());
    EXPECT_TRUE(w.client->send_global_request(session::kHostkeysProveRequest,
                                              session::encode_hostkeys(*announced), true));
  };
  w.start();
  w.pump();
  ASSERT_TRUE(announced.has_value());
  EXPECT_EQ(announced->size(), 2u);
  auto replies = of<session::GlobalReply>(w.client_events);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].success);
  EXPECT_TRUE(session::verify_hostkeys_proof(*announced, w.client->transport().session_id(),
                                             replies[0].data, false));
  EXPECT_FALSE(session::verify_hostkeys_proof(*announced, Bytes(32, 1), replies[0].data, false));
}

// ---- global request replies keep the peer's order when answered out of order ----

TEST(SessionCore, DeferredRepliesKeepRequestOrder) {
  Wire w;
  std::vector<session::GlobalRequest> globals;
  std::vector<session::ChannelRequestEvent> requests;
  std::optional<uint32_t> server_ch;
  w.on_server = [&](const Event& e) {
    w.default_server(e);
    if (auto* g = std::get_if<session::GlobalRequest>(&e)) globals.push_back(*g);
    if (auto* r = std::get_if<session::ChannelRequestEvent>(&e)) requests.push_back(*r);
    if (auto* o = std::get_if<session::ChannelOpenRequest>(&e)) {
      server_ch = o->channel;
      w.server->accept_channel(o->channel);
    }
  };
  w.start();
  w.pump();
  uint32_t ch = *w.client->open_channel("session");
  w.pump();
  ASSERT_TRUE(w.client->send_global_request("a@example", {}, true));
  ASSERT_TRUE(w.client->send_global_request("b@example", {}, true));
  ASSERT_TRUE(w.client->send_request(ch, {connection::EnvRequest{"LANG", "C"}}, true));
  ASSERT_TRUE(w.client->send_request(ch, {connection::ShellRequest{}}, true));
  w.pump();
  ASSERT_EQ(globals.size(), 2u);
  ASSERT_EQ(requests.size(), 2u);
  w.server->reply_global(globals[1].id, true, as_bytes(std::string("second")));
  w.pump();
  EXPECT_TRUE(of<session::GlobalReply>(w.client_events).empty());  // waits for the first
  w.server->reply_global(globals[0].id, false);
  w.server->reply_request(*server_ch, false);
  w.server->reply_request(*server_ch, true);
  w.pump();
  auto greplies = of<session::GlobalReply>(w.client_events);
  ASSERT_EQ(greplies.size(), 2u);
  EXPECT_FALSE(greplies[0].success);
  EXPECT_TRUE(greplies[1].success);
  EXPECT_EQ(std::string(greplies[1].data.begin(), greplies[1].data.end()), "second");
  auto creplies = of<session::ChannelRequestReply>(w.client_events);
  ASSERT_EQ(creplies.size(), 2u);
  EXPECT_FALSE(creplies[0].success);
  EXPECT_TRUE(creplies[1].success);
}

TEST(SessionCore, PeerCloseWaitsUntilQueuedInputConsumed) {
  Wire w;
  auto ids = open_accepted_channel(w);
  ASSERT_TRUE(ids.has_value());
  auto [client_ch, server_ch] = *ids;
  Bytes down = pattern(9, 200000);
  size_t off = 0;
  // The client reads nothing yet: the window (2 MiB by default) holds all of it.
  for (int i = 0; i < 100 && off < down.size(); ++i) {
    off += w.server->send(server_ch, ByteView(down).subspan(off));
    w.step();
  }
  ASSERT_EQ(off, down.size());
  ASSERT_TRUE(w.server->send_eof(server_ch));
  ASSERT_TRUE(w.server->send_request(server_ch, {connection::ExitStatusRequest{0}}, false));
  ASSERT_TRUE(w.server->close_channel(server_ch));
  w.pump();
  EXPECT_TRUE(of<session::ChannelClosed>(w.client_events).empty());
  EXPECT_TRUE(of<session::ChannelClosed>(w.server_events).empty());  // our CLOSE is held
  EXPECT_EQ(w.client->send_window(client_ch), 0u);
  // Read it in pieces, as a slow stdout would.
  Fnv got, want;
  want.add(down);
  while (true) {
    ByteView in = w.client->channel_input(client_ch, 0);
    if (in.empty()) break;
    size_t n = std::min<size_t>(in.size(), 7000);
    got.add(in.first(n));
    w.client->consume_input(client_ch, 0, n);
    w.pump();
  }
  EXPECT_EQ(got.n, down.size());
  EXPECT_EQ(got.h, want.h);
  EXPECT_EQ(of<session::ChannelClosed>(w.client_events).size(), 1u);
  EXPECT_EQ(of<session::ChannelClosed>(w.server_events).size(), 1u);
  EXPECT_TRUE(w.client->channels().empty());
  EXPECT_TRUE(w.server->channels().empty());
  EXPECT_FALSE(w.client->closed());
}

// A program that gives up on the channel (close_channel) while the peer's CLOSE waits drops the
// rest, and both sides see the channel closed.
TEST(SessionCore, CloseChannelWhileInputHeldDropsIt) {
  Wire w;
  auto ids = open_accepted_channel(w);
  ASSERT_TRUE(ids.has_value());
  auto [client_ch, server_ch] = *ids;
  Bytes down = pattern(4, 5000);
  ASSERT_EQ(w.server->send(server_ch, down), down.size());
  ASSERT_TRUE(w.server->close_channel(server_ch));
  w.pump();
  EXPECT_TRUE(of<session::ChannelClosed>(w.client_events).empty());
  EXPECT_EQ(w.client->channel_input(client_ch, 0).size(), down.size());
  ASSERT_TRUE(w.client->close_channel(client_ch));
  w.pump();
  EXPECT_EQ(of<session::ChannelClosed>(w.client_events).size(), 1u);
  EXPECT_EQ(of<session::ChannelClosed>(w.server_events).size(), 1u);
  // The id is free again and a new channel works.
  auto again = w.client->open_channel("session");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, client_ch);
}

// A sender that ran out of window is told ChannelWritable when the peer's WINDOW_ADJUST comes.
TEST(SessionCore, WritableAfterWindowAdjust) {
  Wire w;
  auto ids = open_accepted_channel(w);
  ASSERT_TRUE(ids.has_value());
  auto [client_ch, server_ch] = *ids;
  Bytes up = pattern(5, 4 * 1024 * 1024);
  size_t off = 0;
  for (int i = 0; i < 200; ++i) {
    size_t n = w.client->send(client_ch, ByteView(up).subspan(off));
    off += n;
    w.step();
    if (n == 0 && w.client->send_window(client_ch) == 0) break;
  }
  ASSERT_LT(off, up.size());
  ASSERT_EQ(w.client->send_window(client_ch), 0u);  // window used up: blocked
  size_t writable_before = of<session::ChannelWritable>(w.client_events).size();
  ByteView in = w.server->channel_input(server_ch, 0);
  w.server->consume_input(server_ch, 0, in.size());  // WINDOW_ADJUST goes out
  w.pump();
  auto writable = of<session::ChannelWritable>(w.client_events);
  ASSERT_EQ(writable.size(), writable_before + 1);
  EXPECT_EQ(writable.back().channel, client_ch);
  EXPECT_GT(w.client->send_window(client_ch), 0u);
}

}  // namespace
}  // namespace hashi::test
