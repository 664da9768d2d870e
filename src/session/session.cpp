#include "session/session.h"

#include <algorithm>
#include <map>

#include "auth/client_auth.h"
#include "auth/server_auth.h"
#include "session/hostkeys.h"
#include "wire/byte_queue.h"
#include "wire/messages.h"

namespace hashi::session {

namespace {

bool is_auth_message(uint8_t t) {
  return t == msg::kServiceRequest || t == msg::kServiceAccept || (t >= 50 && t <= 79);
}
bool is_connection_message(uint8_t t) { return t >= 80 && t <= 127; }

Status unexpected(uint8_t t, const char* when) {
  return Status::protocol_error("unexpected message type " + std::to_string(t) + when);
}

}  // namespace

// The routing: the transport hands every message numbered 50 and up (and SERVICE_*) to
// on_message; auth gets its range before authentication, the mux its range after; the
// listener and handler callbacks turn into Events.
struct Session::Impl final : transport::TransportListener, connection::ConnectionHandler {
  struct Channel {
    ByteQueue input[2];  // data, stderr
    bool eof = false;
    bool input_signalled = false;  // a ChannelInput is queued and not yet looked at
    bool blocked = false;          // the program was told "not writable": wake it later
    bool peer_closed = false;  // the peer's CLOSE came while input was queued: our reply waits
                               // until the program consumed it (or closes the channel)
    bool closed = false;  // CLOSE both ways; kept until ChannelClosed is popped, so the input
                          // queued before it can still be read
    bool drained() const { return input[0].pending().empty() && input[1].pending().empty(); }
  };

  explicit Impl(SessionConfig c) : config(std::move(c)) {
    config.transport.role = config.role;
    if (is_server()) config.transport.host_public_keys = config.host_public_keys;
    transport = std::make_unique<transport::Transport>(config.transport, *this);
    auto mux_role =
        is_server() ? connection::Role::kServer : connection::Role::kClient;
    mux = std::make_unique<connection::ConnectionMux>(*transport, mux_role, *this,
                                                      config.channels);
    if (is_server()) {
      auth::ServerAuthLimits limits;
      limits.max_auth_tries = config.max_auth_tries;
      if (!config.pubkey_algorithms.empty()) limits.pubkey_algorithms = config.pubkey_algorithms;
      server_auth = std::make_unique<auth::ServerAuth>(*transport, std::move(limits));
    } else {
      client_auth =
          std::make_unique<auth::ClientAuth>(*transport, config.user, config.identities);
    }
  }

  bool is_server() const { return config.role == Role::kServer; }
  uint64_t new_id() { return next_id++; }
  void emit(Event e) { events.push_back(std::move(e)); }
  bool auth_waiting() const { return user_query || key_query; }

  // ---- routing ----

  Status on_message(ByteView payload) override {
    if (auth_waiting() || !held.empty()) return hold(payload);
    return route(payload);
  }

  Status hold(ByteView payload) {
    if (held.size() >= kMaxHeldMessages || held_bytes + payload.size() > kMaxHeldBytes) {
      return Status::protocol_error("too many messages while authentication is decided");
    }
    held.emplace_back(payload.begin(), payload.end());
    held_bytes += payload.size();
    return Status::ok();
  }

  Status route(ByteView payload) {
    uint8_t t = payload[0];
    if (is_auth_message(t)) {
      if (authenticated) return Status::ok();  // late auth messages are ignored, as sshd does
      return is_server() ? to_server_auth(payload) : to_client_auth(payload);
    }
    if (!is_connection_message(t)) return unexpected(t, "");
    if (!authenticated) return unexpected(t, " before authentication");
    connection::ConnResult r = mux->on_message(payload);
    if (!r.ok()) return Status::fail(r.disconnect_reason(), r.reason);
    return Status::ok();
  }

  // Routes the messages held while a decision was outstanding, in order.
  void release_held() {
    while (!held.empty() && !auth_waiting() && !transport->closed()) {
      Bytes m = std::move(held.front());
      held.pop_front();
      held_bytes -= m.size();
      Status s = route(m);
      if (!s) transport->disconnect(s.reason(), s.message());
    }
  }

  // ---- authentication ----

  Status to_server_auth(ByteView payload) {
    return after_server_auth(server_auth->on_message(payload));
  }

  Status after_server_auth(auth::ServerAuthStatus r) {
    for (const auto& e : r.events) {
      emit(LogLine{0, e.log_line(config.peer_address, config.peer_port)});
    }
    using Kind = auth::ServerAuthStatus::Kind;
    switch (r.kind) {
      case Kind::kDisconnect:
        return Status::fail(r.disconnect_reason, r.message);
      case Kind::kQuery:
        ask(*r.query);
        return Status::ok();
      case Kind::kSuccess: {
        const auth::AuthResult& result = *server_auth->result();
        authenticated_as(result.user, result.method, result.key_options);
        announce_hostkeys();
        return Status::ok();
      }
      case Kind::kInProgress:
        return Status::ok();
    }
    return Status::ok();
  }

  void ask(const auth::AuthQuery& q) {
    uint64_t id = new_id();
    if (q.kind == auth::AuthQuery::Kind::kUser) {
      user_query = id;
      emit(UserQuery{id, q.user});
    } else {
      key_query = id;
      emit(KeyQuery{id, q.user, *q.key});
    }
  }

  // The answer to a UserQuery / KeyQuery: the request goes on, then the held messages.
  void answered(auth::ServerAuthStatus r) {
    Status s = after_server_auth(std::move(r));
    if (!s) {
      transport->disconnect(s.reason(), s.message());
      return;
    }
    release_held();
  }

  Status to_client_auth(ByteView payload) {
    auth::ClientAuthStatus r = client_auth->on_message(payload);
    if (r.banner) emit(LogLine{0, *r.banner});
    using Kind = auth::ClientAuthStatus::Kind;
    switch (r.kind) {
      case Kind::kFailed:
        return Status::fail(msg::DisconnectReason::kNoMoreAuthMethodsAvailable, r.message);
      case Kind::kProtocolError:
        return Status::protocol_error(r.message);
      case Kind::kSuccess:
        emit(LogLine{1, "Authentication succeeded (publickey)."});
        authenticated_as(config.user, auth::AuthMethod::kPublickey, {});
        return Status::ok();
      case Kind::kInProgress:
        return Status::ok();
    }
    return Status::ok();
  }

  void authenticated_as(const std::string& name, auth::AuthMethod method,
                        const keys::KeyOptions& options) {
    authenticated = true;
    user = name;
    emit(Authenticated{name, method, options});
  }

  // ---- host keys (OpenSSH PROTOCOL section 2.5) ----

  void announce_hostkeys() {
    if (config.transport.host_keys.empty()) return;
    (void)mux->send_global_request(kHostkeysRequest,
                                   hostkeys_announcement(config.transport.host_keys), false);
  }

  void answer_hostkeys_prove(uint64_t id, ByteView data) {
    const auto& negotiated = transport->negotiated();
    auto proof = prove_hostkeys(config.transport.host_keys, data, transport->session_id(),
                                negotiated ? negotiated->host_key : std::string());
    if (!proof) emit(LogLine{1, "hostkeys-prove-00@openssh.com: refused"});
    (void)mux->reply_global(id, proof.has_value(), proof ? ByteView(*proof) : ByteView());
  }

  // ---- TransportListener ----

  std::optional<Status> check_host_key(const keys::PublicKey& key) override {
    emit(LogLine{1, "Server host key: " + std::string(key.type_name()) + " " +
                        key.fingerprint_sha256()});
    host_key_query = new_id();
    emit(HostKeyQuery{*host_key_query, key});
    return std::nullopt;
  }

  void on_sign_request(const keys::PublicKey& key, const std::string& algorithm,
                       ByteView data) override {
    sign_query = new_id();
    emit(SignQuery{*sign_query, key, algorithm, Bytes(data.begin(), data.end())});
  }

  void on_kex_complete(bool first) override {
    if (!first) return;
    if (is_server()) {
      server_auth->set_session_id(transport->session_id());
    } else {
      client_auth->start(transport->session_id());
    }
  }

  void on_server_sig_algs(const std::vector<std::string>& algorithms) override {
    if (client_auth) client_auth->set_server_sig_algs(algorithms);
  }

  void on_closed(const Status& why) override {
    held.clear();
    held_bytes = 0;
    emit(Closed{why, transport->peer_disconnect().has_value()});
  }

  void on_debug(int level, const std::string& message) override {
    emit(LogLine{level, message});
  }

  // ---- ConnectionHandler ----

  connection::Decision on_open_request(uint32_t channel, std::string_view type,
                                       ByteView type_specific) override {
    channels[channel] = Channel{};
    emit(ChannelOpenRequest{channel, std::string(type),
                            Bytes(type_specific.begin(), type_specific.end())});
    return connection::Decision::defer();
  }

  void on_open_confirmed(uint32_t channel) override {
    channels[channel];
    emit(ChannelOpened{channel});
  }

  void on_open_failed(uint32_t channel, uint32_t reason, std::string_view description) override {
    channels.erase(channel);
    emit(ChannelOpenFailed{channel, reason, std::string(description)});
  }

  void on_data(uint32_t channel, ByteView data) override { queue_input(channel, 0, data); }

  void on_extended_data(uint32_t channel, uint32_t type, ByteView data) override {
    if (type == connection::kExtendedDataStderr) {
      queue_input(channel, 1, data);
    } else {
      mux->consume(channel, data.size());  // no stream for other types: dropped, window returned
    }
  }

  void queue_input(uint32_t channel, int stream, ByteView data) {
    Channel& c = channels[channel];
    c.input[stream].append(data);
    if (c.input_signalled) return;
    c.input_signalled = true;
    emit(ChannelInput{channel});
  }

  void on_eof(uint32_t channel) override {
    channels[channel].eof = true;
    emit(ChannelEof{channel});
  }

  void on_close(uint32_t channel) override {
    channels[channel].closed = true;
    emit(ChannelClosed{channel});
  }

  // No byte delivered before the peer's CLOSE is lost: while the channel holds input, our CLOSE
  // (and ChannelClosed) wait until the program consumed it (finish_peer_close).
  bool on_peer_close(uint32_t channel) override {
    Channel& c = channels[channel];
    if (c.drained()) return false;
    c.peer_closed = true;
    return true;
  }

  void finish_peer_close(uint32_t channel) {
    auto it = channels.find(channel);
    if (it == channels.end() || !it->second.peer_closed || !it->second.drained()) return;
    it->second.peer_closed = false;
    (void)mux->close(channel);  // sends the held CLOSE; on_close emits ChannelClosed
  }

  void on_window_available(uint32_t channel) override { wake(channel); }

  connection::Decision on_channel_request(uint32_t channel,
                                          const connection::ChannelRequest& request,
                                          bool want_reply) override {
    emit(ChannelRequestEvent{channel, request, want_reply});
    return connection::Decision::defer();  // ignored without want_reply
  }

  void on_request_reply(uint32_t channel, bool success) override {
    emit(ChannelRequestReply{channel, success});
  }

  connection::Decision on_global_request(uint64_t id, std::string_view name, ByteView data,
                                         bool want_reply) override {
    if (is_server() && want_reply && name == kHostkeysProveRequest) {
      answer_hostkeys_prove(id, data);
      return connection::Decision::defer();  // answered already, with data
    }
    emit(GlobalRequest{id, std::string(name), Bytes(data.begin(), data.end()), want_reply});
    return connection::Decision::defer();
  }

  void on_global_reply(bool success, ByteView data) override {
    emit(GlobalReply{success, Bytes(data.begin(), data.end())});
  }

  // ---- output flow control ----

  size_t send_window(uint32_t channel) {
    auto it = channels.find(channel);
    if (it == channels.end() || it->second.closed || it->second.peer_closed) return 0;
    size_t pending = transport->pending_output().size();
    size_t room = pending < kOutputHighWater ? kOutputHighWater - pending : 0;
    size_t window = transport->congested() ? 0 : std::min(room, mux->send_window(channel));
    if (window == 0) it->second.blocked = true;
    return window;
  }

  // Tells a blocked channel that it may write again, once it may.
  void wake(uint32_t channel) {
    auto it = channels.find(channel);
    if (it == channels.end() || !it->second.blocked) return;
    size_t pending = transport->pending_output().size();
    if (pending >= kOutputHighWater || transport->congested() || mux->send_window(channel) == 0) {
      return;
    }
    it->second.blocked = false;
    emit(ChannelWritable{channel});
  }

  void wake_all() {
    for (const auto& [id, c] : channels) {
      if (c.blocked) wake(id);
    }
  }

  SessionConfig config;
  std::unique_ptr<transport::Transport> transport;
  std::unique_ptr<connection::ConnectionMux> mux;
  std::unique_ptr<auth::ServerAuth> server_auth;
  std::unique_ptr<auth::ClientAuth> client_auth;
  std::deque<Event> events;
  bool authenticated = false;
  std::string user;
  uint64_t next_id = 1;
  std::optional<uint64_t> host_key_query, sign_query, user_query, key_query;
  std::deque<Bytes> held;  // upper-layer messages that arrived while a decision was outstanding
  size_t held_bytes = 0;
  std::map<uint32_t, Channel> channels;
};

// ---- Session: thin forwarding to Impl ----

Session::Session(SessionConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Session::~Session() = default;

void Session::start(TimePoint now) { impl_->transport->start(now); }

Status Session::feed(ByteView data, TimePoint now) { return impl_->transport->feed(data, now); }
MutableByteView Session::prepare_read(size_t max) { return impl_->transport->prepare_read(max); }
Status Session::commit_read(size_t n, TimePoint now) {
  return impl_->transport->commit_read(n, now);
}
ByteView Session::pending_output() const { return impl_->transport->pending_output(); }

void Session::consume_output(size_t n) {
  impl_->transport->consume_output(n);
  impl_->wake_all();
}

TimePoint Session::next_deadline() const { return impl_->transport->next_deadline(); }
void Session::on_timeout(TimePoint now) { impl_->transport->on_timeout(now); }

bool Session::wants_input() const {
  return !impl_->transport->closed() && !impl_->transport->waiting() && !impl_->auth_waiting() &&
         impl_->transport->pending_output().size() < kOutputHardLimit;
}

bool Session::finished() const {
  return closed() && impl_->events.empty() && impl_->transport->pending_output().empty();
}
bool Session::closed() const { return impl_->transport->closed(); }

void Session::disconnect(msg::DisconnectReason reason, const std::string& description) {
  impl_->transport->disconnect(reason, description);
}

std::optional<Event> Session::next_event() {
  if (impl_->events.empty()) return std::nullopt;
  Event e = std::move(impl_->events.front());
  impl_->events.pop_front();
  if (auto* c = std::get_if<ChannelClosed>(&e)) {
    auto it = impl_->channels.find(c->channel);
    if (it != impl_->channels.end() && it->second.closed) impl_->channels.erase(it);
  }
  return e;
}
bool Session::has_events() const { return !impl_->events.empty(); }

// ---- answers: each ignores an id that is not the outstanding question's ----

namespace {
bool take(std::optional<uint64_t>& pending, uint64_t id) {
  if (pending != id) return false;
  pending.reset();
  return true;
}
}  // namespace

void Session::answer_host_key(uint64_t id, Status verdict) {
  if (take(impl_->host_key_query, id)) impl_->transport->answer_host_key(verdict);
}
void Session::answer_signature(uint64_t id, Bytes signature) {
  if (take(impl_->sign_query, id)) impl_->transport->answer_signature(signature);
}
void Session::fail_signature(uint64_t id) {
  if (take(impl_->sign_query, id)) impl_->transport->fail_signature();
}
void Session::answer_user(uint64_t id, bool may_log_in, std::optional<uint32_t> max_auth_tries) {
  if (take(impl_->user_query, id)) {
    impl_->answered(impl_->server_auth->answer_user(may_log_in, max_auth_tries));
  }
}
void Session::answer_key(uint64_t id, std::optional<keys::KeyOptions> options) {
  if (take(impl_->key_query, id)) {
    impl_->answered(impl_->server_auth->answer_key(std::move(options)));
  }
}

// ---- channels ----

std::optional<uint32_t> Session::open_channel(std::string_view type, ByteView type_specific) {
  if (!impl_->authenticated || closed()) return std::nullopt;
  std::optional<uint32_t> id = impl_->mux->open_channel(type, type_specific);
  if (id) impl_->channels[*id] = Impl::Channel{};
  return id;
}

void Session::accept_channel(uint32_t channel) { (void)impl_->mux->confirm_open(channel); }

void Session::reject_channel(uint32_t channel, connection::OpenFailureReason reason,
                             std::string_view description) {
  if (impl_->mux->reject_open(channel, reason, description)) impl_->channels.erase(channel);
}

bool Session::send_request(uint32_t channel, const connection::ChannelRequest& request,
                           bool want_reply) {
  return impl_->mux->send_request(channel, request, want_reply);
}
void Session::reply_request(uint32_t channel, bool success) {
  (void)impl_->mux->reply_request(channel, success);
}
bool Session::send_global_request(std::string_view name, ByteView data, bool want_reply) {
  if (!impl_->authenticated || closed()) return false;
  return impl_->mux->send_global_request(name, data, want_reply);
}
void Session::reply_global(uint64_t id, bool success, ByteView data) {
  (void)impl_->mux->reply_global(id, success, data);
}

ByteView Session::channel_input(uint32_t channel, int stream) const {
  auto it = impl_->channels.find(channel);
  if (it == impl_->channels.end() || stream < 0 || stream > 1) return {};
  it->second.input_signalled = false;  // looked at: the next arrival is news again
  return it->second.input[stream].pending();
}

void Session::consume_input(uint32_t channel, int stream, size_t n) {
  auto it = impl_->channels.find(channel);
  if (it == impl_->channels.end() || stream < 0 || stream > 1) return;
  ByteQueue& q = it->second.input[stream];
  n = std::min(n, q.pending().size());
  q.consume(n);
  it->second.input_signalled = false;
  impl_->mux->consume(channel, n);
  impl_->finish_peer_close(channel);
}

bool Session::input_eof(uint32_t channel) const {
  auto it = impl_->channels.find(channel);
  if (it == impl_->channels.end()) return true;
  const Impl::Channel& c = it->second;
  return (c.eof || c.peer_closed) && c.input[0].pending().empty() && c.input[1].pending().empty();
}

size_t Session::send_window(uint32_t channel) const { return impl_->send_window(channel); }

size_t Session::send(uint32_t channel, ByteView data) {
  size_t n = std::min(data.size(), impl_->send_window(channel));
  size_t taken = impl_->mux->send_data(channel, data.first(n));
  // Marks the channel blocked if this used up its room (whether or not the caller wanted more:
  // an endpoint that sent exactly the window it was told waits for ChannelWritable too).
  (void)impl_->send_window(channel);
  return taken;
}

size_t Session::send_stderr(uint32_t channel, ByteView data) {
  size_t n = std::min(data.size(), impl_->send_window(channel));
  size_t taken = impl_->mux->send_extended_data(channel, connection::kExtendedDataStderr,
                                                data.first(n));
  (void)impl_->send_window(channel);
  return taken;
}

bool Session::send_eof(uint32_t channel) { return impl_->mux->send_eof(channel); }
bool Session::close_channel(uint32_t channel) {
  auto it = impl_->channels.find(channel);
  if (it != impl_->channels.end() && it->second.peer_closed) {
    // The program is done with the channel: what it did not read is dropped.
    for (ByteQueue& q : it->second.input) q.consume(q.pending().size());
    it->second.peer_closed = false;
  }
  return impl_->mux->close(channel);
}

std::vector<uint32_t> Session::channels() const {
  std::vector<uint32_t> out;
  for (const auto& [id, c] : impl_->channels) {
    if (!c.closed) out.push_back(id);
  }
  return out;
}

// ---- state ----

Role Session::role() const { return impl_->config.role; }
bool Session::authenticated() const { return impl_->authenticated; }
const std::string& Session::user() const { return impl_->user; }
transport::Transport& Session::transport() { return *impl_->transport; }
const transport::Transport& Session::transport() const { return *impl_->transport; }

}  // namespace hashi::session
