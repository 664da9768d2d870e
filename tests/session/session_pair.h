// An in-memory client-role <-> server-role session::Session pair: both sans-I/O cores, with the
// test moving the bytes between them (in chunks it chooses) on a fake clock.
// The client side (ClientSide) does what hashi's client does around its Session: it accepts the
// one expected host key, opens a session channel once authenticated, sends exec (or shell),
// keeps the exit status, and disconnects once the channel closed. The test then plays the
// client's driver through wants_stdin / write_stdin / stdin_eof / output / drained.
// The server side (ServerSide) does what hashi-server's handler and the driver do around the
// Session: it answers the authentication questions with a fake Authenticator (one user, one
// authorized key), accepts session channels, hands exec/shell/subsystem/signal requests to a
// fake SessionHost that records what it is asked to run, and releases a channel's program when
// the channel or the connection closes. The test then plays the program through
// input_queue / drained_input / send_output / send_stderr / session_finished, as a process
// endpoint does with a real process.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "auth/server_auth.h"
#include "config/algorithms.h"
#include "keys/key.h"
#include "session/session.h"
#include "session/transport_pair.h"
#include "transport/transport.h"

namespace hashi::test {

// One user with one authorized key; everyone else is unknown.
struct FakeAuthenticator : auth::Authenticator {
  std::string user = "alice";
  keys::PublicKey authorized;
  std::vector<std::string> lookups;  // users authorize_key was asked about, in order

  bool user_exists(std::string_view u) override { return u == user; }
  std::optional<keys::KeyOptions> authorize_key(std::string_view u,
                                                const keys::PublicKey& key) override {
    lookups.emplace_back(u);
    if (u == user && key == authorized) return keys::KeyOptions{};
    return std::nullopt;
  }
};

// What a session channel asked to run.
struct StartedSession {
  std::optional<std::string> command;  // nullopt: the login shell
  std::optional<std::string> subsystem;
  std::vector<std::pair<std::string, std::string>> env;
};

// How the program ended (RFC 4254 section 6.10).
struct SessionExit {
  bool signaled = false;
  uint32_t status = 0;
  std::string signal_name;  // without "SIG"
  bool core_dumped = false;
};

// Records what the server asks of the program instead of spawning one.
struct FakeSessionHost {
  bool refuse = false;  // start_session answers false
  std::map<uint32_t, StartedSession> started;
  std::vector<std::pair<uint32_t, std::string>> signals;
  std::vector<uint32_t> closed;

  bool start_session(uint32_t channel, const StartedSession& start) {
    if (refuse) return false;
    started[channel] = start;
    return true;
  }
  void signal_session(uint32_t channel, const std::string& name) {
    signals.emplace_back(channel, name);
  }
  void session_closed(uint32_t channel) { closed.push_back(channel); }
};

// The peer's data for a channel's program, as the program sees it.
struct ServerInput {
  ByteView data;
  bool eof = false;  // the client sent EOF and every byte before it was consumed
  ByteView pending() const { return data; }
};

// A server-role Session with the handler around it (see the file comment).
class ServerSide {
 public:
  ServerSide(transport::TransportConfig tc, FakeAuthenticator& authenticator, FakeSessionHost& host,
             std::string peer_address, uint16_t peer_port)
      : authenticator_(authenticator),
        host_(host),
        session_(make_config(std::move(tc), peer_address, peer_port)) {}

  void start(TimePoint now) {
    session_.start(now);
    process();
  }
  transport::Status feed(ByteView data, TimePoint now) {
    transport::Status s = session_.feed(data, now);
    process();
    return s;
  }
  session::Session& session() { return session_; }
  transport::Transport& transport() { return session_.transport(); }
  bool authenticated() const { return session_.authenticated(); }
  const std::string& user() const { return session_.user(); }

  // The program's side of channel `ch` (nullptr once the channel is gone).
  const ServerInput* input_queue(uint32_t ch) {
    if (!open_.count(ch)) return nullptr;
    input_ = {session_.channel_input(ch, 0), session_.input_eof(ch)};
    return &input_;
  }
  void drained_input(uint32_t ch, size_t n) { session_.consume_input(ch, 0, n); }
  size_t output_window(uint32_t ch) const { return session_.send_window(ch); }
  size_t send_output(uint32_t ch, ByteView data) { return session_.send(ch, data); }
  size_t send_stderr(uint32_t ch, ByteView data) { return session_.send_stderr(ch, data); }
  // The program closed its output and ended: EOF, exit-status / exit-signal, CLOSE (sshd's
  // order, as the process endpoint sends them).
  void session_finished(uint32_t ch, const SessionExit& exit) {
    session_.send_eof(ch);
    connection::ChannelRequest request;
    if (exit.signaled) {
      request.body = connection::ExitSignalRequest{exit.signal_name, exit.core_dumped, "", ""};
    } else {
      request.body = connection::ExitStatusRequest{exit.status};
    }
    session_.send_request(ch, request, false);
    session_.close_channel(ch);
  }
  // Session channels whose program has not been released.
  std::vector<uint32_t> channels() const {
    std::vector<uint32_t> out;
    for (const auto& [id, started] : open_) out.push_back(id);
    return out;
  }
  // Log lines (OpenSSH wording), collected as they happen.
  std::vector<std::string> take_log() { return std::exchange(log_, {}); }

  // Handles every event the Session has queued, as hashi-server's handler does.
  void process() {
    while (auto event = session_.next_event()) handle(*event);
  }

 private:
  static session::SessionConfig make_config(transport::TransportConfig tc,
                                            const std::string& peer_address, uint16_t peer_port) {
    session::SessionConfig c;
    c.role = session::Role::kServer;
    c.transport = std::move(tc);
    for (const auto& key : c.transport.host_keys) c.host_public_keys.push_back(key->public_key());
    c.peer_address = peer_address;
    c.peer_port = peer_port;
    return c;
  }

  void handle(session::Event& event) {
    if (auto* q = std::get_if<session::UserQuery>(&event)) {
      session_.answer_user(q->id, authenticator_.user_exists(q->user));
    } else if (auto* q = std::get_if<session::KeyQuery>(&event)) {
      session_.answer_key(q->id, authenticator_.authorize_key(q->user, q->key));
    } else if (auto* line = std::get_if<session::LogLine>(&event)) {
      if (line->level == 0) log_.push_back(line->text);
      if (line->level == 1) log_.push_back("debug1: " + line->text);
    } else if (auto* open = std::get_if<session::ChannelOpenRequest>(&event)) {
      if (open->type == "session") {
        open_[open->channel] = false;
        session_.accept_channel(open->channel);
      } else {
        session_.reject_channel(open->channel, connection::OpenFailureReason::kUnknownChannelType,
                                "unknown channel type");
      }
    } else if (auto* r = std::get_if<session::ChannelRequestEvent>(&event)) {
      bool ok = on_request(r->channel, r->request);
      if (r->want_reply) session_.reply_request(r->channel, ok);
    } else if (auto* c = std::get_if<session::ChannelClosed>(&event)) {
      if (open_.erase(c->channel)) host_.session_closed(c->channel);
    } else if (auto* g = std::get_if<session::GlobalRequest>(&event)) {
      if (g->want_reply) session_.reply_global(g->id, false);
    } else if (std::get_if<session::Closed>(&event)) {
      // No CLOSE will come for the channels still open: release their programs now.
      for (const auto& [id, started] : open_) host_.session_closed(id);
      open_.clear();
    }
  }

  bool on_request(uint32_t channel, const connection::ChannelRequest& request) {
    auto it = open_.find(channel);
    if (it == open_.end()) return false;
    bool& started = it->second;
    if (auto* s = std::get_if<connection::SignalRequest>(&request.body)) {
      if (started) host_.signal_session(channel, s->name);
      return started;
    }
    StartedSession start;
    if (auto* x = std::get_if<connection::ExecRequest>(&request.body)) {
      start.command = x->command;
    } else if (std::get_if<connection::ShellRequest>(&request.body)) {
      // the login shell
    } else if (auto* sub = std::get_if<connection::SubsystemRequest>(&request.body)) {
      start.subsystem = sub->name;
    } else {
      return false;  // env (no AcceptEnv here), pty-req, ...
    }
    if (started) return false;
    started = host_.start_session(channel, start);
    return started;
  }

  FakeAuthenticator& authenticator_;
  FakeSessionHost& host_;
  session::Session session_;
  std::map<uint32_t, bool> open_;  // open session channels: whether their program started
  ServerInput input_;
  std::vector<std::string> log_;
};

// A client-role Session with what hashi's client does around it (see the file comment).
class ClientSide {
 public:
  ClientSide(session::SessionConfig config, keys::PublicKey expected_host_key,
             std::optional<std::string> command)
      : session_(std::move(config)),
        expected_host_key_(std::move(expected_host_key)),
        command_(std::move(command)) {}

  void start(TimePoint now) {
    session_.start(now);
    process();
  }
  transport::Status feed(ByteView data, TimePoint now) {
    transport::Status s = session_.feed(data, now);
    process();
    return s;
  }
  session::Session& session() { return session_; }
  transport::Transport& transport() { return session_.transport(); }

  // Standard input: true while the channel takes more.
  bool wants_stdin() const {
    return channel_open_ && !stdin_closed_ && session_.writable(*channel_);
  }
  size_t write_stdin(ByteView data) {
    if (!channel_open_ || stdin_closed_) return 0;
    return session_.send(*channel_, data);
  }
  // Our stdin ended: EOF now, or right after the exec request if the channel is not open yet.
  void stdin_eof() {
    stdin_closed_ = true;
    if (channel_open_ && !eof_sent_) eof_sent_ = session_.send_eof(*channel_);
  }

  // What the server's program wrote and the driver has not yet taken (stream 0 stdout,
  // 1 stderr); drained() hands the window back.
  ByteView output(int stream) const {
    return channel_ ? session_.channel_input(*channel_, stream) : ByteView{};
  }
  void drained(int stream, size_t n) {
    if (channel_) session_.consume_input(*channel_, stream, n);
  }
  // The server sent EOF or closed the channel.
  bool output_eof() const { return output_eof_; }

  // The session channel closed (or never opened) and the connection ended or is ending.
  bool finished() const { return finished_; }
  // The remote command's exit status; 255 if none arrived (signal, error).
  int exit_status() const { return exit_status_; }
  const std::optional<std::string>& exit_signal() const { return exit_signal_; }
  // The reply to our exec (or shell) request, once it came.
  std::optional<bool> exec_accepted() const { return exec_accepted_; }
  // Set when the connection failed at the protocol or authentication level.
  const std::string& error() const { return error_; }
  // The Session's log lines and this side's own (ssh -v wording), as they happened.
  const std::vector<std::string>& log() const { return log_; }

  void process() {
    while (auto event = session_.next_event()) handle(*event);
  }

 private:
  void handle(session::Event& event) {
    if (auto* q = std::get_if<session::HostKeyQuery>(&event)) {
      session_.answer_host_key(
          q->id, q->key == expected_host_key_
                     ? transport::Status::ok()
                     : transport::Status::fail(msg::DisconnectReason::kHostKeyNotVerifiable,
                                               "unexpected host key"));
    } else if (std::get_if<session::Authenticated>(&event)) {
      channel_ = session_.open_channel("session");
      if (!channel_) finish("cannot open a session channel");
    } else if (auto* line = std::get_if<session::LogLine>(&event)) {
      log_.push_back(line->text);
    } else if (auto* opened = std::get_if<session::ChannelOpened>(&event)) {
      if (opened->channel != channel_) return;
      channel_open_ = true;
      if (command_) {
        session_.send_request(*channel_, {connection::ExecRequest{*command_}}, true);
      } else {
        session_.send_request(*channel_, {connection::ShellRequest{}}, true);
      }
      if (stdin_closed_) stdin_eof();
    } else if (auto* failed = std::get_if<session::ChannelOpenFailed>(&event)) {
      if (failed->channel == channel_) finish("channel open failed: " + failed->description);
    } else if (auto* reply = std::get_if<session::ChannelRequestReply>(&event)) {
      if (reply->channel != channel_ || exec_accepted_) return;
      exec_accepted_ = reply->success;
      if (!reply->success) {
        log_.push_back(std::string(command_ ? "exec" : "shell") + " request failed on channel " +
                       std::to_string(reply->channel));
        session_.close_channel(reply->channel);
      }
    } else if (auto* r = std::get_if<session::ChannelRequestEvent>(&event)) {
      if (auto* st = std::get_if<connection::ExitStatusRequest>(&r->request.body)) {
        exit_status_ = int(st->status & 0xff);
      } else if (auto* sig = std::get_if<connection::ExitSignalRequest>(&r->request.body)) {
        exit_status_ = 255;
        exit_signal_ = sig->signal_name;
        log_.push_back("Remote command killed by signal " + sig->signal_name);
      }
      if (r->want_reply) session_.reply_request(r->channel, false);
    } else if (auto* eof = std::get_if<session::ChannelEof>(&event)) {
      if (eof->channel == channel_) output_eof_ = true;
    } else if (auto* c = std::get_if<session::ChannelClosed>(&event)) {
      if (c->channel != channel_) return;
      channel_open_ = false;
      output_eof_ = true;
      finish("");
    } else if (auto* g = std::get_if<session::GlobalRequest>(&event)) {
      if (g->want_reply) session_.reply_global(g->id, false);
    } else if (auto* closed = std::get_if<session::Closed>(&event)) {
      channel_open_ = false;
      if (!finished_) {
        finished_ = true;
        error_ = closed->why.message();
      }
    }
  }

  // Ends the connection: cleanly (empty `error`, as hashi does once its sessions closed) or
  // with `error` kept for the test.
  void finish(const std::string& error) {
    if (finished_) return;
    finished_ = true;
    error_ = error;
    session_.disconnect(msg::DisconnectReason::kByApplication, "disconnected by user");
  }

  session::Session session_;
  keys::PublicKey expected_host_key_;
  std::optional<std::string> command_;
  std::optional<uint32_t> channel_;
  bool channel_open_ = false;
  bool stdin_closed_ = false;
  bool eof_sent_ = false;
  bool output_eof_ = false;
  bool finished_ = false;
  int exit_status_ = 255;
  std::optional<std::string> exit_signal_;
  std::optional<bool> exec_accepted_;
  std::string error_;
  std::vector<std::string> log_;
};

// A session key pair shared by every test (ed25519 keys are cheap, but not free under ASan).
inline const keys::PrivateKey& alice_key() {
  static const keys::PrivateKey key = keys::PrivateKey::generate(keys::KeyType::kEd25519);
  return key;
}
inline const keys::PrivateKey& stranger_key() {
  static const keys::PrivateKey key = keys::PrivateKey::generate(keys::KeyType::kEd25519);
  return key;
}

inline transport::TransportConfig default_transport_config() {
  using config::AlgorithmKind;
  transport::TransportConfig c;
  c.kex_algorithms = config::default_algorithms(AlgorithmKind::kKex);
  c.host_key_algorithms = config::default_algorithms(AlgorithmKind::kHostKey);
  c.ciphers = config::default_algorithms(AlgorithmKind::kCipher);
  c.macs = config::default_algorithms(AlgorithmKind::kMac);
  return c;
}

struct SessionPairOptions {
  std::string user = "alice";
  const keys::PrivateKey* identity = &alice_key();
  std::optional<std::string> command = "run-the-test";
  transport::TransportConfig client_transport = default_transport_config();
  transport::TransportConfig server_transport = default_transport_config();
};

struct SessionPair {
  FakeAuthenticator authenticator;
  FakeSessionHost host;
  std::unique_ptr<ClientSide> client;
  std::unique_ptr<ServerSide> server;
  TimePoint now{};
  std::mt19937 rng{1};
  // How each stream is cut: 0 = everything at once; otherwise chunks of min_chunk..max_chunk.
  size_t min_chunk = 1;
  size_t max_chunk = 0;
  // What each side's last feed() said; after a failure nothing more is fed to that side.
  transport::Status client_status = transport::Status::ok();
  transport::Status server_status = transport::Status::ok();
  // Applied to every server -> client batch before delivery (tampering tests).
  std::function<void(Bytes&)> server_to_client_mutate;

  explicit SessionPair(SessionPairOptions o = {}) {
    authenticator.authorized = alice_key().public_key();
    o.server_transport.host_keys.push_back(
        std::make_shared<keys::PrivateKey>(test_host_key(keys::KeyType::kEd25519)));
    server = std::make_unique<ServerSide>(std::move(o.server_transport), authenticator, host,
                                          "192.0.2.1", 40000);
    session::SessionConfig cc;
    cc.role = session::Role::kClient;
    cc.transport = std::move(o.client_transport);
    cc.user = o.user;
    if (o.identity) cc.identities.push_back(std::make_shared<keys::PrivateKey>(*o.identity));
    client = std::make_unique<ClientSide>(
        std::move(cc), test_host_key(keys::KeyType::kEd25519).public_key(), o.command);
  }

  transport::Transport& ct() { return client->transport(); }
  transport::Transport& st() { return server->transport(); }

  // Moves what `from` has pending into `feed`, cut as configured; returns the bytes taken.
  size_t move(session::Session& from, const std::function<transport::Status(ByteView)>& feed,
              transport::Status& status, const std::function<void(Bytes&)>& mutate) {
    ByteView out = from.pending_output();
    if (out.empty() || !status) return 0;
    Bytes data(out.begin(), out.end());
    from.consume_output(out.size());
    if (mutate) mutate(data);
    size_t pos = 0;
    while (pos < data.size() && status) {
      size_t n = data.size() - pos;
      if (max_chunk) {
        n = std::min(n, min_chunk + size_t(rng() % (max_chunk - min_chunk + 1)));
      }
      status = feed(ByteView(data.data() + pos, n));
      pos += n;
    }
    return data.size();
  }

  // One round each way; returns the bytes moved.
  size_t step() {
    server->process();
    client->process();
    size_t moved = move(client->session(), [this](ByteView d) { return server->feed(d, now); },
                        server_status, {});
    moved += move(
        server->session(), [this](ByteView d) { return client->feed(d, now); }, client_status,
        server_to_client_mutate);
    return moved;
  }

  // Moves bytes until neither side has anything to send.
  void pump(int max_rounds = 10000) {
    for (int i = 0; i < max_rounds && step() > 0; ++i) {
    }
  }

  void start() {
    client->start(now);
    server->start(now);
  }

  // Starts both sides and pumps until the server has been asked to start a session (or nothing
  // more happens). Returns the channel id, if any.
  std::optional<uint32_t> start_session() {
    start();
    pump();
    if (host.started.empty()) return std::nullopt;
    return host.started.begin()->first;
  }
};

// Deterministic pseudo-random bytes.
inline Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  Bytes b(n);
  for (auto& x : b) x = uint8_t(g());
  return b;
}

}  // namespace hashi::test
