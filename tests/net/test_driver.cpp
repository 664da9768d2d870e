// The driver with real Session cores: a client and a server Connection on the two ends of a
// socketpair, on one io_context; programs on the server side through process endpoints; a peer
// that never reads; programs left running when their channel closes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "config/algorithms.h"
#include "net/driver.h"
#include "server/process.h"
#include "server/users.h"

namespace hashi::net {
namespace {

using namespace std::chrono_literals;
using session::Role;
using session::Status;

const keys::PrivateKey& user_key() {
  static const keys::PrivateKey key = keys::PrivateKey::generate(keys::KeyType::kEd25519);
  return key;
}
std::shared_ptr<const keys::PrivateKey> host_key() {
  static auto key =
      std::make_shared<const keys::PrivateKey>(keys::PrivateKey::generate(keys::KeyType::kEd25519));
  return key;
}

transport::TransportConfig transport_config(Role role) {
  using config::AlgorithmKind;
  transport::TransportConfig c;
  c.role = role;
  c.kex_algorithms = config::default_algorithms(AlgorithmKind::kKex);
  c.host_key_algorithms = config::default_algorithms(AlgorithmKind::kHostKey);
  c.ciphers = config::default_algorithms(AlgorithmKind::kCipher);
  c.macs = config::default_algorithms(AlgorithmKind::kMac);
  if (role == Role::kServer) c.host_keys = {host_key()};
  return c;
}

struct AcceptAll : session::Authenticator, session::HostKeyVerifier {
  void check_user(const std::string& user, std::function<void(bool)> done) override {
    done(user == "alice");
  }
  void check_key(const std::string& user, const keys::PublicKey& key,
                 std::function<void(std::optional<keys::KeyOptions>)> done) override {
    if (user == "alice" && key == user_key().public_key()) return done(keys::KeyOptions{});
    done(std::nullopt);
  }
  void check(const keys::PublicKey& key, std::function<void(Status)> done) override {
    done(key == host_key()->public_key() ? Status::ok()
                                         : Status::fail(msg::DisconnectReason::kHostKeyNotVerifiable,
                                                        "wrong host key"));
  }
};

// Server side: accepts session channels and runs exec requests with /bin/sh -c.
struct ServerHandler : ConnectionHandler {
  std::map<uint32_t, pid_t> pids;
  bool finished = false;
  void on_event(Connection& c, session::Event& event) override {
    if (auto* open = std::get_if<session::ChannelOpenRequest>(&event)) {
      c.session().accept_channel(open->channel);
    } else if (auto* req = std::get_if<session::ChannelRequestEvent>(&event)) {
      auto* exec = std::get_if<connection::ExecRequest>(&req->request.body);
      bool ok = exec && run(c, req->channel, exec->command);
      if (req->want_reply) c.session().reply_request(req->channel, ok);
    }
  }
  bool run(Connection& c, uint32_t channel, const std::string& command) {
    server::SpawnRequest spawn;
    spawn.user = *server::lookup_uid(getuid());
    spawn.user.shell = "/bin/sh";
    spawn.command = command;
    std::string error;
    auto proc = server::spawn_session(spawn, error);
    if (!proc) return false;
    pids[channel] = proc->pid;
    auto endpoint = make_process_endpoint(
        c.executor(), {proc->pid, proc->stdin_fd, proc->stdout_fd, proc->stderr_fd}, error);
    if (!endpoint) return false;
    c.bind(channel, endpoint);
    return true;
  }
  void on_finished(Connection&) override { finished = true; }
};

// Collects one client channel's output; `paused` stops taking it (a slow consumer).
struct Collector : ChannelHandler {
  std::string out, err;
  bool paused = false;
  bool eof = false;
  std::string input;  // sent once, then EOF
  size_t on_data(HandlerChannel&, ByteView data) override {
    if (paused) return 0;
    out.append(as_string(data));
    return data.size();
  }
  size_t on_extended(HandlerChannel&, ByteView data) override {
    err.append(as_string(data));
    return data.size();
  }
  void on_eof(HandlerChannel&) override { eof = true; }
  void on_writable(HandlerChannel& channel) override { push(channel); }
  void push(HandlerChannel& channel) {
    if (input_sent) return;
    size_t n = channel.send(as_bytes(input).subspan(input_pos));
    input_pos += n;
    if (input_pos == input.size()) {
      input_sent = true;
      channel.send_eof();
    }
  }
  size_t input_pos = 0;
  bool input_sent = false;
};

// Client side: once authenticated, opens one session channel per command.
struct ClientHandler : ConnectionHandler {
  std::vector<std::string> commands;
  std::map<uint32_t, std::shared_ptr<Collector>> collectors;
  std::map<uint32_t, std::shared_ptr<HandlerEndpoint>> endpoints;
  std::map<uint32_t, std::string> command_of;
  std::map<uint32_t, int> exit_status;
  std::vector<uint32_t> closed;
  std::map<std::string, std::string> inputs;  // command -> its stdin
  bool authenticated = false;
  bool finished = false;

  void on_event(Connection& c, session::Event& event) override {
    if (std::holds_alternative<session::Authenticated>(event)) {
      authenticated = true;
      for (const auto& command : commands) {
        auto ch = c.session().open_channel("session");
        ASSERT_TRUE(ch.has_value());
        command_of[*ch] = command;
      }
    } else if (auto* opened = std::get_if<session::ChannelOpened>(&event)) {
      uint32_t ch = opened->channel;
      auto collector = std::make_shared<Collector>();
      collector->input = inputs[command_of[ch]];
      collectors[ch] = collector;
      auto endpoint = make_handler_endpoint(collector);
      endpoints[ch] = endpoint;
      c.session().send_request(ch, {connection::ExecRequest{command_of[ch]}}, true);
      c.bind(ch, endpoint);
      collector->push(*endpoint);
    } else if (auto* req = std::get_if<session::ChannelRequestEvent>(&event)) {
      if (auto* st = std::get_if<connection::ExitStatusRequest>(&req->request.body)) {
        exit_status[req->channel] = int(st->status);
      }
    } else if (auto* cl = std::get_if<session::ChannelClosed>(&event)) {
      closed.push_back(cl->channel);
    }
  }
  void on_finished(Connection&) override { finished = true; }
  const Collector* of(const std::string& command) const {
    for (const auto& [ch, cmd] : command_of) {
      if (cmd == command && collectors.count(ch)) return collectors.at(ch).get();
    }
    return nullptr;
  }
  int status_of(const std::string& command) const {
    for (const auto& [ch, cmd] : command_of) {
      if (cmd == command && exit_status.count(ch)) return exit_status.at(ch);
    }
    return -1;
  }
};

template <typename Pred>
bool run_until(asio::io_context& io, Pred done, std::chrono::milliseconds limit = 10000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.restart();
    io.run_for(10ms);
  }
  return done();
}

std::shared_ptr<session::Session> make_session(Role role) {
  session::SessionConfig config;
  config.role = role;
  config.transport = transport_config(role);
  if (role == Role::kClient) {
    config.user = "alice";
    config.identities = {std::make_shared<const keys::PrivateKey>(user_key())};
  } else {
    config.host_public_keys = {host_key()->public_key()};
  }
  return std::make_shared<session::Session>(std::move(config));
}

struct Pair {
  asio::io_context io;
  AcceptAll policy;
  ServerHandler server_handler;
  ClientHandler client_handler;
  std::shared_ptr<Connection> server, client;
  Driver driver{io};

  void start() {
    asio::local::stream_protocol::socket a(io), b(io);
    asio::local::connect_pair(a, b);
    session::Policies server_policies;
    server_policies.authenticator = &policy;
    session::Policies client_policies;
    client_policies.verifier = &policy;
    server = driver.add(Socket(std::move(a)), make_session(Role::kServer), server_policies,
                        server_handler);
    client = driver.add(Socket(std::move(b)), make_session(Role::kClient), client_policies,
                        client_handler);
  }
};

bool process_gone(pid_t pid) { return !std::filesystem::exists("/proc/" + std::to_string(pid)); }

TEST(NetDriver, ClientAndServerOnOneIoContextRunTwoChannels) {
  Pair p;
  p.client_handler.commands = {"echo one; echo e1 >&2; exit 3", "tr a-z A-Z"};
  p.client_handler.inputs["tr a-z A-Z"] = "shout\n";
  p.start();
  EXPECT_EQ(p.driver.size(), 2u);
  ASSERT_TRUE(run_until(p.io, [&] { return p.client_handler.closed.size() == 2; }));
  const Collector* one = p.client_handler.of("echo one; echo e1 >&2; exit 3");
  const Collector* tr = p.client_handler.of("tr a-z A-Z");
  ASSERT_TRUE(one && tr);
  EXPECT_EQ(one->out, "one\n");
  EXPECT_EQ(one->err, "e1\n");
  EXPECT_TRUE(one->eof);
  EXPECT_EQ(p.client_handler.status_of("echo one; echo e1 >&2; exit 3"), 3);
  EXPECT_EQ(tr->out, "SHOUT\n");
  EXPECT_EQ(p.client_handler.status_of("tr a-z A-Z"), 0);
  for (auto [ch, pid] : p.server_handler.pids) EXPECT_TRUE(process_gone(pid));
  p.client->session().disconnect(msg::DisconnectReason::kByApplication, "bye");
  p.client->kick();
  ASSERT_TRUE(run_until(p.io, [&] {
    return p.client_handler.finished && p.server_handler.finished;
  }));
}

TEST(NetDriver, BulkTransferBothWays) {
  Pair p;
  const std::string up(3 << 20, 'u');
  p.client_handler.commands = {"head -c 8000000 /dev/zero", "wc -c"};
  p.client_handler.inputs["wc -c"] = up;
  p.start();
  ASSERT_TRUE(run_until(p.io, [&] { return p.client_handler.closed.size() == 2; }, 30000ms))
      << "pulled " << p.client_handler.of("head -c 8000000 /dev/zero")->out.size() << ", pushed "
      << p.client_handler.of("wc -c")->input_pos;
  EXPECT_EQ(p.client_handler.of("head -c 8000000 /dev/zero")->out.size(), 8000000u);
  EXPECT_EQ(p.client_handler.of("wc -c")->out, std::to_string(up.size()) + "\n");
}

// One channel's consumer stops taking data; the other channel still runs to its end.
TEST(NetDriver, SlowConsumerDoesNotStallAnotherChannel) {
  Pair p;
  p.client_handler.commands = {"cat /dev/zero", "echo fine"};
  p.start();
  ASSERT_TRUE(run_until(p.io, [&] { return p.client_handler.collectors.size() == 2; }));
  for (auto& [ch, c] : p.client_handler.collectors) {
    if (p.client_handler.command_of[ch] == "cat /dev/zero") c->paused = true;
  }
  ASSERT_TRUE(run_until(p.io, [&] { return p.client_handler.closed.size() == 1; }));
  EXPECT_EQ(p.client_handler.of("echo fine")->out, "fine\n");
  EXPECT_EQ(p.client_handler.status_of("echo fine"), 0);
  // The stalled channel holds at most its window on the client side.
  EXPECT_LE(p.client_handler.of("cat /dev/zero")->out.size(), size_t(4) << 20);
}

// The client closes a channel whose program still runs: the server hangs it up and reaps it.
TEST(NetDriver, ProgramStillRunningWhenChannelClosesIsReaped) {
  Pair p;
  p.client_handler.commands = {"sleep 100"};
  p.start();
  ASSERT_TRUE(run_until(p.io, [&] { return p.server_handler.pids.size() == 1; }));
  pid_t pid = p.server_handler.pids.begin()->second;
  run_until(p.io, [] { return false; }, 100ms);
  EXPECT_FALSE(process_gone(pid));
  uint32_t ch = p.client_handler.collectors.begin()->first;
  p.client->session().close_channel(ch);
  p.client->kick();
  ASSERT_TRUE(run_until(p.io, [&] { return process_gone(pid); }));
  errno = 0;
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

// The client side played by hand over the raw socket end, so the test decides when it stops
// reading: it authenticates, runs `command` and takes the output until `stop_after` bytes came.
struct ManualClient {
  std::shared_ptr<session::Session> session = make_session(Role::kClient);
  int fd;
  std::string command;
  size_t received = 0;

  void step() {
    ByteView out = session->pending_output();
    if (!out.empty()) {
      ssize_t n = ::send(fd, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) session->consume_output(size_t(n));
    }
    uint8_t buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) (void)session->feed(ByteView(buf, size_t(n)), Clock::now());
    while (auto event = session->next_event()) {
      if (auto* q = std::get_if<session::HostKeyQuery>(&*event)) {
        session->answer_host_key(q->id, Status::ok());
      } else if (std::holds_alternative<session::Authenticated>(*event)) {
        (void)session->open_channel("session");
      } else if (auto* o = std::get_if<session::ChannelOpened>(&*event)) {
        session->send_request(o->channel, {connection::ExecRequest{command}}, false);
      } else if (auto* in = std::get_if<session::ChannelInput>(&*event)) {
        ByteView data = session->channel_input(in->channel, 0);
        received += data.size();
        session->consume_input(in->channel, 0, data.size());
      }
    }
  }
};

// A peer that stops reading: the server's memory stays bounded (Session output under its hard
// limit, the driver's buffers fixed), the program's output is simply not read any more.
TEST(NetDriver, NeverReadingPeerLeavesServerMemoryBounded) {
  asio::io_context io;
  AcceptAll policy;
  ServerHandler handler;
  asio::local::stream_protocol::socket a(io), b(io);
  asio::local::connect_pair(a, b);
  session::Policies policies;
  policies.authenticator = &policy;
  Driver driver(io);
  auto server = driver.add(Socket(std::move(a)), make_session(Role::kServer), policies, handler);
  ManualClient client;
  client.fd = b.native_handle();
  client.command = "cat /dev/zero";
  client.session->start(Clock::now());
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (client.received < (8u << 20) && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.poll();
    client.step();
  }
  ASSERT_GE(client.received, 8u << 20) << "the bulk transfer did not get going";
  // From now on the client never reads again (its socket stays open).
  size_t peak = 0;
  for (int i = 0; i < 20; ++i) {
    run_until(io, [] { return false; }, 50ms);
    size_t held = server->session().pending_output().size() + server->driver_buffer_bytes();
    peak = std::max(peak, held);
  }
  std::printf("never-reading peer: server Session pending_output + driver buffers = %zu bytes "
              "(peak over 1 s; hard limit %zu)\n",
              peak, session::kOutputHardLimit);
  EXPECT_LE(peak, session::kOutputHardLimit + kEndpointReadSize);
  run_until(io, [] { return false; }, 300ms);
  EXPECT_LE(server->session().pending_output().size() + server->driver_buffer_bytes(), peak);
  ASSERT_FALSE(server->finished());
  pid_t pid = handler.pids.begin()->second;
  server->stop();  // the program is hung up and reaped
  ASSERT_TRUE(run_until(io, [&] { return process_gone(pid); }));
}

}  // namespace
}  // namespace hashi::net
