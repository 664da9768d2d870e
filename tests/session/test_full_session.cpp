// A client-role Session talking to a server-role Session in memory: key exchange, publickey
// authentication, a session channel running a command, data both ways under flow control,
// exit-status / exit-signal, EOF and CLOSE, disconnect. The test plays both the client's driver
// (stdin, stdout, stderr) and the program the server would have spawned.
#include <gtest/gtest.h>

#include <algorithm>

#include "session/session_pair.h"

namespace hashi::test {
namespace {

Bytes take_all(ByteView v) { return Bytes(v.begin(), v.end()); }

// One command's worth of traffic and both ends of it: the client's driver and the program.
struct Transfer {
  Bytes stdin_data;
  Bytes stdout_data;
  Bytes stderr_data;
  SessionExit exit{false, 42, "", false};

  // Knobs: stop consuming on one side to exercise flow control.
  bool program_drains_input = true;
  bool client_drains_output = true;
  bool program_finishes = true;
  size_t max_piece = 64 * 1024;  // largest piece either side hands over at once
  // Pieces each side hands over per round before the network moves (0: as many as fit), as a
  // driver that reads one buffer per poll would.
  int pieces_per_round = 0;

  // Client-side progress.
  size_t stdin_written = 0;
  bool stdin_eof_sent = false;
  Bytes client_stdout, client_stderr;
  // Program-side progress.
  Bytes program_input;
  bool program_saw_eof = false;
  size_t stdout_sent = 0, stderr_sent = 0;
  bool session_finished = false;

  std::mt19937 rng{7};

  size_t piece(size_t left) { return std::min(left, 1 + size_t(rng() % max_piece)); }

  // The client's driver: feed stdin while the channel takes it, drain stdout/stderr.
  bool client_round(SessionPair& p) {
    bool progress = false;
    ClientSide& c = *p.client;
    for (int i = 0; (pieces_per_round == 0 || i < pieces_per_round) &&
                    stdin_written < stdin_data.size() && c.wants_stdin();
         ++i) {
      size_t n = piece(stdin_data.size() - stdin_written);
      size_t taken = c.write_stdin(ByteView(stdin_data.data() + stdin_written, n));
      if (taken == 0) break;
      stdin_written += taken;
      progress = true;
    }
    if (stdin_written == stdin_data.size() && !stdin_eof_sent && !c.finished()) {
      c.stdin_eof();
      stdin_eof_sent = true;
      progress = true;
    }
    if (client_drains_output) {
      for (auto [stream, sink] : {std::pair{0, &client_stdout}, std::pair{1, &client_stderr}}) {
        ByteView pending = c.output(stream);
        if (pending.empty()) continue;
        sink->insert(sink->end(), pending.begin(), pending.end());
        c.drained(stream, pending.size());
        progress = true;
      }
    }
    return progress;
  }

  // The program: read stdin, write stdout and stderr within the window, exit when done.
  bool program_round(SessionPair& p, uint32_t ch) {
    bool progress = false;
    ServerSide& s = *p.server;
    if (session_finished) return false;
    if (const ServerInput* in = s.input_queue(ch)) {
      if (program_drains_input && !in->pending().empty()) {
        program_input.insert(program_input.end(), in->pending().begin(), in->pending().end());
        s.drained_input(ch, in->pending().size());
        progress = true;
      }
      if (in->eof && in->pending().empty()) program_saw_eof = true;
    }
    for (int i = 0; (pieces_per_round == 0 || i < pieces_per_round) && s.output_window(ch) > 0 &&
                    (stdout_sent < stdout_data.size() || stderr_sent < stderr_data.size());
         ++i) {
      bool err =
          stderr_sent < stderr_data.size() && (stdout_sent == stdout_data.size() || rng() % 8 == 0);
      const Bytes& src = err ? stderr_data : stdout_data;
      size_t& sent = err ? stderr_sent : stdout_sent;
      size_t n = std::min(piece(src.size() - sent), s.output_window(ch));
      ByteView chunk(src.data() + sent, n);
      size_t taken = err ? s.send_stderr(ch, chunk) : s.send_output(ch, chunk);
      if (taken == 0) break;
      sent += taken;
      progress = true;
    }
    if (program_finishes && program_saw_eof && stdout_sent == stdout_data.size() &&
        stderr_sent == stderr_data.size()) {
      s.session_finished(ch, exit);
      session_finished = true;
      progress = true;
    }
    return progress;
  }

  // Runs both ends and the network until the client finishes or nothing moves any more.
  void run(SessionPair& p, uint32_t ch, int max_idle = 3) {
    int idle = 0;
    while (!p.client->finished() && idle < max_idle) {
      bool progress = client_round(p);
      progress |= program_round(p, ch);
      progress |= p.step() > 0;
      idle = progress ? 0 : idle + 1;
    }
    // Whatever is left in the pipes (the final CLOSE / DISCONNECT).
    p.pump();
    client_round(p);
  }
};

Transfer big_transfer(uint32_t seed) {
  Transfer t;
  t.stdin_data = random_bytes(1024 * 1024, seed);
  t.stdout_data = random_bytes(1024 * 1024, seed + 1);
  t.stderr_data = random_bytes(100 * 1024, seed + 2);
  t.rng.seed(seed + 3);
  return t;
}

void expect_complete(SessionPair& p, const Transfer& t) {
  EXPECT_TRUE(p.client->finished());
  EXPECT_EQ(p.client->error(), "");
  EXPECT_EQ(p.client->exit_status(), 42);
  EXPECT_TRUE(t.program_saw_eof);
  // Exact bytes (gtest prints only the sizes when they differ in length).
  EXPECT_EQ(t.program_input.size(), t.stdin_data.size());
  EXPECT_TRUE(t.program_input == t.stdin_data) << "stdin corrupted";
  EXPECT_EQ(t.client_stdout.size(), t.stdout_data.size());
  EXPECT_TRUE(t.client_stdout == t.stdout_data) << "stdout corrupted";
  EXPECT_EQ(t.client_stderr.size(), t.stderr_data.size());
  EXPECT_TRUE(t.client_stderr == t.stderr_data) << "stderr corrupted";
  EXPECT_TRUE(p.client->output_eof());
  // The channel closed on both sides and the session was released exactly once; nobody asked
  // for a signal.
  EXPECT_EQ(p.host.closed.size(), 1u);
  EXPECT_TRUE(p.host.signals.empty());
  EXPECT_TRUE(p.server->channels().empty());
  // The client ends the connection after the channel closes.
  EXPECT_TRUE(p.ct().closed());
  EXPECT_TRUE(p.st().closed());
  ASSERT_TRUE(p.st().peer_disconnect().has_value());
  EXPECT_EQ(p.st().peer_disconnect()->reason, uint32_t(msg::DisconnectReason::kByApplication));
}

TEST(FullSession, CommandRunsWithEveryStreamCutAtRandomPoints) {
  struct Cut {
    const char* name;
    size_t min_chunk, max_chunk;
  };
  for (Cut cut : {Cut{"whole", 1, 0}, Cut{"1..4096", 1, 4096}, Cut{"1..7", 1, 7}, Cut{"1", 1, 1}}) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      // Byte-at-a-time is slow; one seed covers it.
      if (cut.max_chunk == 1 && seed > 1) continue;
      SCOPED_TRACE(std::string(cut.name) + " seed " + std::to_string(seed));
      SessionPair p;
      p.rng.seed(seed);
      p.min_chunk = cut.min_chunk;
      p.max_chunk = cut.max_chunk;
      auto ch = p.start_session();
      ASSERT_TRUE(ch.has_value()) << p.client->error() << " / " << p.client_status.message()
                                  << " / " << p.server_status.message();
      EXPECT_TRUE(p.server->authenticated());
      EXPECT_EQ(p.server->user(), "alice");
      ASSERT_EQ(p.host.started.size(), 1u);
      EXPECT_EQ(p.host.started.at(*ch).command, std::optional<std::string>("run-the-test"));
      Transfer t = big_transfer(seed * 10);
      t.run(p, *ch);
      expect_complete(p, t);
    }
  }
}

TEST(FullSession, FlowControlStopsTheClientWhenTheProgramDoesNotRead) {
  SessionPair p;
  auto ch = p.start_session();
  ASSERT_TRUE(ch.has_value());
  Transfer t;
  t.stdin_data = random_bytes(5 * 1024 * 1024, 11);
  t.program_drains_input = false;
  t.program_finishes = false;
  t.run(p, *ch);
  // Exactly the 2 MiB window went out, and it all reached the server's queue.
  EXPECT_FALSE(p.client->wants_stdin());
  EXPECT_EQ(t.stdin_written, size_t(connection::kDefaultWindowSize));
  const ServerInput* in = p.server->input_queue(*ch);
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->pending().size(), size_t(connection::kDefaultWindowSize));
  EXPECT_EQ(p.client->write_stdin(ByteView(t.stdin_data.data() + t.stdin_written, 1)), 0u);

  // The program reads again: the window comes back and the rest flows.
  t.program_drains_input = true;
  ASSERT_TRUE(t.program_round(p, *ch));
  p.pump();
  EXPECT_TRUE(p.client->wants_stdin());
  t.program_finishes = true;
  t.run(p, *ch);
  EXPECT_TRUE(p.client->finished());
  EXPECT_TRUE(t.program_input == t.stdin_data);
  EXPECT_EQ(p.client->exit_status(), 42);
}

TEST(FullSession, FlowControlStopsTheProgramWhenTheClientDoesNotDrain) {
  SessionPair p;
  auto ch = p.start_session();
  ASSERT_TRUE(ch.has_value());
  Transfer t;
  t.stdout_data = random_bytes(5 * 1024 * 1024, 12);
  t.client_drains_output = false;
  t.run(p, *ch);
  EXPECT_EQ(p.server->output_window(*ch), 0u);
  EXPECT_EQ(t.stdout_sent, size_t(connection::kDefaultWindowSize));
  EXPECT_EQ(p.client->output(0).size(), size_t(connection::kDefaultWindowSize));
  EXPECT_EQ(p.server->send_output(*ch, ByteView(t.stdout_data.data(), 1)), 0u);

  // The client's driver writes its stdout again: the program may go on.
  t.client_drains_output = true;
  ASSERT_TRUE(t.client_round(p));
  p.pump();
  EXPECT_GT(p.server->output_window(*ch), 0u);
  t.run(p, *ch);
  EXPECT_TRUE(p.client->finished());
  EXPECT_TRUE(t.client_stdout == t.stdout_data);
  EXPECT_EQ(p.client->exit_status(), 42);
}

TEST(FullSession, RekeyInTheMiddleOfTheTransfer) {
  SessionPairOptions o;
  o.server_transport.rekey_bytes = 256 * 1024;
  o.client_transport.rekey_bytes = 300 * 1024;
  for (uint32_t seed : {4u, 5u}) {
    SCOPED_TRACE(seed);
    SessionPair p(o);
    p.rng.seed(seed);
    p.max_chunk = seed == 4 ? 0 : 4096;
    auto ch = p.start_session();
    ASSERT_TRUE(ch.has_value());
    Transfer t = big_transfer(seed * 10);
    t.pieces_per_round = 1;
    t.run(p, *ch);
    expect_complete(p, t);
    EXPECT_GT(p.ct().kex_count(), 3u);
    EXPECT_GT(p.st().kex_count(), 3u);
  }
}

TEST(FullSession, ExitSignalGivesStatus255) {
  SessionPair p;
  auto ch = p.start_session();
  ASSERT_TRUE(ch.has_value());
  Transfer t;
  t.stdout_data = random_bytes(1000, 13);
  t.exit = SessionExit{true, 0, "TERM", false};
  t.run(p, *ch);
  EXPECT_TRUE(p.client->finished());
  EXPECT_EQ(p.client->error(), "");
  EXPECT_EQ(p.client->exit_status(), 255);
  EXPECT_TRUE(t.client_stdout == t.stdout_data);
  EXPECT_EQ(p.client->exit_signal(), std::optional<std::string>("TERM"));
  EXPECT_NE(std::find(p.client->log().begin(), p.client->log().end(),
                      "Remote command killed by signal TERM"),
            p.client->log().end());
}

// A "signal" channel request (RFC 4254 section 6.9) reaches the program of that channel, once,
// by name; the session then ends normally.
TEST(FullSession, SignalRequestReachesTheProgram) {
  SessionPair p;
  auto ch = p.start_session();
  ASSERT_TRUE(ch.has_value());
  EXPECT_TRUE(p.host.signals.empty());
  connection::ChannelRequest request{connection::SignalRequest{"INT"}};
  Bytes fields;
  request.encode_fields(fields);
  Bytes payload;
  connection::ChannelRequestMsg{*ch, request.name(), false, fields}.encode(payload);
  p.ct().send(payload);
  p.pump();
  ASSERT_TRUE(p.server_status) << p.server_status.message();
  using Signals = std::vector<std::pair<uint32_t, std::string>>;
  EXPECT_EQ(p.host.signals, (Signals{{*ch, "INT"}}));
  Transfer t;
  t.run(p, *ch);
  EXPECT_TRUE(p.client->finished());
  EXPECT_EQ(p.client->exit_status(), 42);
  EXPECT_EQ(p.host.signals, (Signals{{*ch, "INT"}}));
  EXPECT_EQ(p.host.closed, std::vector<uint32_t>{*ch});
}

// A signal for a channel whose program never started (the exec was refused) reaches nobody.
TEST(FullSession, SignalBeforeTheProgramStartsIsDropped) {
  SessionPair p;
  p.host.refuse = true;
  p.start();
  p.pump();
  connection::ChannelRequest request{connection::SignalRequest{"TERM"}};
  Bytes fields;
  request.encode_fields(fields);
  Bytes payload;
  connection::ChannelRequestMsg{0, request.name(), false, fields}.encode(payload);
  p.ct().send(payload);
  p.pump();
  EXPECT_TRUE(p.host.signals.empty());
}

struct FailedLogin {
  std::string error;
  std::vector<std::string> lookups;  // users the Authenticator was asked about
  std::vector<std::string> server_log;
};

// Runs a connection that must fail authentication.
FailedLogin failed_login(SessionPairOptions o) {
  SessionPair p(std::move(o));
  EXPECT_FALSE(p.start_session().has_value());
  EXPECT_TRUE(p.client->finished());
  EXPECT_FALSE(p.server->authenticated());
  EXPECT_TRUE(p.host.started.empty());
  EXPECT_TRUE(p.host.signals.empty());
  EXPECT_TRUE(p.host.closed.empty());
  EXPECT_TRUE(p.ct().closed());
  EXPECT_TRUE(p.st().closed());
  EXPECT_FALSE(p.client->wants_stdin());
  EXPECT_TRUE(p.client->output(0).empty());
  return {p.client->error(), p.authenticator.lookups, p.server->take_log()};
}

bool log_has(const std::vector<std::string>& log, std::string_view text) {
  return std::any_of(log.begin(), log.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

TEST(FullSession, WrongKeyAndUnknownUserGetTheSameRefusal) {
  SessionPairOptions wrong_key;
  wrong_key.identity = &stranger_key();
  FailedLogin f1 = failed_login(wrong_key);
  EXPECT_NE(f1.error.find("Permission denied"), std::string::npos) << f1.error;
  EXPECT_TRUE(log_has(f1.server_log, "Failed publickey for alice"))
      << ::testing::PrintToString(f1.server_log);

  SessionPairOptions unknown_user;
  unknown_user.user = "bob";
  FailedLogin f2 = failed_login(unknown_user);
  EXPECT_NE(f2.error.find("Permission denied"), std::string::npos) << f2.error;
  EXPECT_TRUE(log_has(f2.server_log, "Invalid user bob"))
      << ::testing::PrintToString(f2.server_log);
  // No user enumeration: the client cannot tell the two apart, and the server did the same
  // key lookup work for the unknown user.
  EXPECT_EQ(f1.error, f2.error);
  EXPECT_EQ(f2.lookups.size(), f1.lookups.size());
  EXPECT_TRUE(std::all_of(f2.lookups.begin(), f2.lookups.end(),
                          [](const std::string& u) { return u == "bob"; }));

  SessionPairOptions no_key;
  no_key.identity = nullptr;
  FailedLogin f3 = failed_login(no_key);
  EXPECT_NE(f3.error.find("Permission denied"), std::string::npos) << f3.error;
}

// The server refuses the exec: the client gets the failure reply for its request and closes.
TEST(FullSession, RefusedExecIsReportedToTheClient) {
  SessionPair p;
  p.host.refuse = true;
  p.start();
  p.pump();
  Transfer t;
  t.run(p, 0);
  EXPECT_TRUE(p.client->finished());
  EXPECT_EQ(p.client->exit_status(), 255);
  EXPECT_EQ(p.client->exec_accepted(), std::optional<bool>(false));
  EXPECT_NE(
      std::find(p.client->log().begin(), p.client->log().end(), "exec request failed on channel 0"),
      p.client->log().end())
      << ::testing::PrintToString(p.client->log());
  EXPECT_TRUE(t.client_stdout.empty());
  EXPECT_TRUE(t.client_stderr.empty());
  EXPECT_TRUE(p.host.started.empty());
  EXPECT_TRUE(p.host.signals.empty());
  // The channel itself is gone, once (session_closed is about the channel, started or not).
  EXPECT_EQ(p.host.closed.size(), 1u);
  EXPECT_TRUE(p.server->channels().empty());
  EXPECT_TRUE(p.ct().closed());
}

TEST(FullSession, ClientDisconnectMidTransferReleasesTheSession) {
  SessionPair p;
  auto ch = p.start_session();
  ASSERT_TRUE(ch.has_value());
  Transfer t = big_transfer(20);
  t.program_finishes = false;
  t.pieces_per_round = 1;
  // Run until some data moved both ways, then the client goes away.
  for (int i = 0; i < 50 && (t.program_input.size() < 100000 || t.client_stdout.size() < 100000);
       ++i) {
    t.client_round(p);
    t.program_round(p, *ch);
    p.step();
  }
  ASSERT_GE(t.program_input.size(), 100000u);
  ASSERT_GE(t.client_stdout.size(), 100000u);
  ASSERT_FALSE(t.session_finished);
  p.ct().disconnect(msg::DisconnectReason::kByApplication, "user went away");
  p.pump();
  EXPECT_FALSE(p.server_status);
  EXPECT_TRUE(p.st().closed());
  ASSERT_TRUE(p.st().peer_disconnect().has_value());
  EXPECT_EQ(p.st().peer_disconnect()->reason, uint32_t(msg::DisconnectReason::kByApplication));
  EXPECT_EQ(p.st().peer_disconnect()->description, "user went away");
  // The transport's on_closed releases the channel's program, exactly once.
  EXPECT_EQ(p.host.closed, std::vector<uint32_t>{*ch});
  EXPECT_TRUE(p.server->channels().empty());
}

// After the transport closes (peer DISCONNECT, MAC error, ...) no CLOSE will arrive: the core
// must release the programs of the channels still open.
TEST(FullSession, CoreReleasesSessionsWhenTheTransportCloses) {
  SessionPair p;
  auto ch = p.start_session();
  ASSERT_TRUE(ch.has_value());
  p.ct().disconnect(msg::DisconnectReason::kByApplication, "user went away");
  p.pump();
  ASSERT_TRUE(p.st().closed());
  EXPECT_EQ(p.host.closed, std::vector<uint32_t>{*ch});
  EXPECT_TRUE(p.server->channels().empty());
}

TEST(FullSession, CorruptedServerByteIsAMacErrorAndNothingBadIsDelivered) {
  struct Suite {
    const char* cipher;
    const char* mac;
  };
  for (Suite suite : {Suite{"chacha20-poly1305@openssh.com", "hmac-sha2-256"},
                      Suite{"aes256-gcm@openssh.com", "hmac-sha2-256"},
                      Suite{"aes128-ctr", "hmac-sha2-256-etm@openssh.com"},
                      Suite{"aes256-ctr", "hmac-sha2-512"}}) {
    for (uint32_t seed : {30u, 31u, 32u}) {
      SCOPED_TRACE(std::string(suite.cipher) + " " + suite.mac + " seed " + std::to_string(seed));
      SessionPairOptions o;
      o.client_transport.ciphers = {suite.cipher};
      o.client_transport.macs = {suite.mac};
      SessionPair p(o);
      p.rng.seed(seed);
      auto ch = p.start_session();
      ASSERT_TRUE(ch.has_value());
      Transfer t;
      t.stdout_data = random_bytes(512 * 1024, seed);
      t.rng.seed(seed);
      t.pieces_per_round = 1;
      // Let some output through untouched, then flip one byte in a later server -> client
      // batch, away from its first packet's length field (a corrupted length is a different
      // failure: "bad packet length", or a wait for bytes that never come).
      int batches = 0;
      p.server_to_client_mutate = [&](Bytes& b) {
        if (++batches == 3 && b.size() > 64) b[16 + p.rng() % (b.size() - 16)] ^= 0x40;
      };
      t.run(p, *ch);
      ASSERT_GE(batches, 3);
      EXPECT_FALSE(p.client_status);
      EXPECT_EQ(p.client_status.reason(), msg::DisconnectReason::kMacError)
          << p.client_status.message();
      EXPECT_TRUE(p.ct().closed());
      EXPECT_NE(p.client->exit_status(), 42);
      // Everything the client delivered is an exact prefix of what the program wrote.
      Bytes got = t.client_stdout;
      Bytes rest = take_all(p.client->output(0));
      got.insert(got.end(), rest.begin(), rest.end());
      ASSERT_LT(got.size(), t.stdout_data.size());
      EXPECT_TRUE(std::equal(got.begin(), got.end(), t.stdout_data.begin()));
    }
  }
}

}  // namespace
}  // namespace hashi::test
