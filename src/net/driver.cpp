#include "net/driver.h"

#include <algorithm>

namespace hashi::net {

namespace {

bool would_block(const std::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// Socket reads per readiness before other descriptors get a turn.
constexpr int kSocketReadTurns = 4;

}  // namespace

// The program's policies, with every completion followed by a kick: an answer given later (a
// PAM conversation, a prompt) must get its output written and its events pulled.
struct Connection::WrappedPolicies final : session::Authenticator,
                                           session::HostKeySigner,
                                           session::HostKeyVerifier {
  session::Policies inner;
  std::weak_ptr<Connection> connection;

  session::Policies policies() {
    return {inner.authenticator ? this : nullptr, inner.signer ? this : nullptr,
            inner.verifier ? this : nullptr};
  }
  template <typename Done>
  auto then_kick(Done done) {
    return [done = std::move(done), weak = connection](auto result) {
      done(std::move(result));
      if (auto c = weak.lock()) c->kick();
    };
  }
  void check_user(const std::string& user, std::function<void(bool)> done) override {
    inner.authenticator->check_user(user, then_kick(std::move(done)));
  }
  std::optional<uint32_t> max_auth_tries() const override {
    return inner.authenticator->max_auth_tries();
  }
  void check_key(const std::string& user, const keys::PublicKey& key,
                 std::function<void(std::optional<keys::KeyOptions>)> done) override {
    inner.authenticator->check_key(user, key, then_kick(std::move(done)));
  }
  void sign(const keys::PublicKey& key, const std::string& algorithm, const Bytes& data,
            std::function<void(std::optional<Bytes>)> done) override {
    inner.signer->sign(key, algorithm, data, then_kick(std::move(done)));
  }
  void check(const keys::PublicKey& key, std::function<void(session::Status)> done) override {
    inner.verifier->check(key, then_kick(std::move(done)));
  }
};

std::shared_ptr<Connection> Connection::create(Socket socket,
                                               std::shared_ptr<session::Session> session,
                                               session::Policies policies,
                                               ConnectionHandler& handler) {
  std::shared_ptr<Connection> c(
      new Connection(std::move(socket), std::move(session), policies, handler));
  c->policies_->connection = c;
  return c;
}

Connection::Connection(Socket socket, std::shared_ptr<session::Session> session,
                       session::Policies policies, ConnectionHandler& handler)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      session_(std::move(session)),
      policies_(std::make_unique<WrappedPolicies>()),
      handler_(handler) {
  policies_->inner = policies;
}

Connection::~Connection() = default;

void Connection::start() {
  if (started_) return;
  started_ = true;
  std::error_code ignored;
  socket_.non_blocking(true, ignored);
  session_->start(Clock::now());
  service();
}

void Connection::bind(uint32_t channel, std::shared_ptr<Endpoint> endpoint) {
  if (finished_ || !endpoint) return;
  endpoints_[channel] = endpoint;
  endpoint->attach(*this, channel);
  request_service();
}

void Connection::kick() { request_service(); }

void Connection::stop() {
  if (finished_) return;
  socket_open_ = false;
  finish();
}

size_t Connection::driver_buffer_bytes() const {
  size_t total = 0;
  for (const auto& [channel, endpoint] : endpoints_) total += endpoint->buffer_bytes();
  return total;
}

// ---- ChannelPort -------------------------------------------------------------------------

size_t Connection::send_window(uint32_t channel) const {
  return finished_ ? 0 : session_->send_window(channel);
}

size_t Connection::send(uint32_t channel, int stream, ByteView data) {
  size_t n = stream == 0 ? session_->send(channel, data) : session_->send_stderr(channel, data);
  request_service();
  return n;
}

ByteView Connection::input(uint32_t channel, int stream) const {
  return session_->channel_input(channel, stream);
}

void Connection::consume_input(uint32_t channel, int stream, size_t n) {
  session_->consume_input(channel, stream, n);
  request_service();
}

bool Connection::input_eof(uint32_t channel) const { return session_->input_eof(channel); }

void Connection::send_eof(uint32_t channel) {
  session_->send_eof(channel);
  request_service();
}

void Connection::send_exit(uint32_t channel, const ProcessExit& exit) {
  connection::ChannelRequest request;
  if (exit.signaled) {
    request.body = connection::ExitSignalRequest{exit_signal_name(exit.signal), exit.core_dumped,
                                                 "", ""};
  } else {
    request.body = connection::ExitStatusRequest{uint32_t(exit.status)};
  }
  session_->send_request(channel, request, false);
  request_service();
}

void Connection::close_channel(uint32_t channel) {
  session_->close_channel(channel);
  request_service();
}

// ---- the loop ----------------------------------------------------------------------------

// Endpoints and policies call in from their own completions; the work is done once, after
// them, so no endpoint is re-entered from its own call.
void Connection::request_service() {
  if (finished_) return;
  if (in_service_) {
    dirty_ = true;
    return;
  }
  if (service_posted_) return;
  service_posted_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->service_posted_ = false;
    self->service();
  });
}

void Connection::service() {
  if (finished_ || in_service_) return;
  in_service_ = true;
  do {
    dirty_ = false;
    dispatch_events();
    flush_output();
  } while (dirty_ && !finished_);
  in_service_ = false;
  if (finished_) return;
  bool output_left = socket_open_ && !session_->pending_output().empty();
  if (!socket_open_ || (session_->finished() && !output_left)) {
    finish();
    return;
  }
  arm_read();
  arm_timer();
}

void Connection::dispatch_events() {
  while (!finished_) {
    std::optional<session::Event> event = session_->next_event();
    if (!event) return;
    if (session::route_query(session_, *event, policies_->policies())) continue;
    dispatch(*event);
  }
}

void Connection::dispatch(session::Event& event) {
  auto bound = [this](uint32_t channel) -> Endpoint* {
    auto it = endpoints_.find(channel);
    return it == endpoints_.end() ? nullptr : it->second.get();
  };
  if (auto* e = std::get_if<session::ChannelInput>(&event)) {
    if (Endpoint* endpoint = bound(e->channel)) return endpoint->on_input();
  } else if (auto* e = std::get_if<session::ChannelEof>(&event)) {
    if (Endpoint* endpoint = bound(e->channel)) return endpoint->on_input();
  } else if (auto* e = std::get_if<session::ChannelWritable>(&event)) {
    if (Endpoint* endpoint = bound(e->channel)) return endpoint->on_writable();
  } else if (auto* e = std::get_if<session::ChannelClosed>(&event)) {
    auto it = endpoints_.find(e->channel);
    if (it != endpoints_.end()) {
      std::shared_ptr<Endpoint> endpoint = std::move(it->second);
      endpoints_.erase(it);
      endpoint->on_closed();
    }
  }
  handler_.on_event(*this, event);
}

void Connection::flush_output() {
  if (!socket_open_ || writing_) return;
  size_t before = session_->pending_output().size();
  while (true) {
    ByteView out = session_->pending_output();
    if (out.empty()) break;
    std::error_code ec;
    size_t n = socket_.write_some(asio::buffer(out.data(), out.size()), ec);
    if (would_block(ec)) {
      writing_ = true;
      socket_.async_wait(Socket::wait_write, [self = shared_from_this()](std::error_code ec) {
        self->writing_ = false;
        if (!ec) self->service();
      });
      break;
    }
    if (ec == asio::error::interrupted) continue;
    if (ec) {
      socket_lost();
      return;
    }
    session_->consume_output(n);
  }
  // Crossing back under the high-water mark makes every channel writable again; the Session
  // says so with ChannelWritable events too, but one pass over the endpoints costs little.
  if (before >= session::kOutputHighWater &&
      session_->pending_output().size() < session::kOutputHighWater) {
    dirty_ = true;
    for (auto& [channel, endpoint] : endpoints_) endpoint->on_writable();
  }
}

void Connection::arm_read() {
  if (reading_ || !socket_open_ || !session_->wants_input()) return;
  reading_ = true;
  socket_.async_wait(Socket::wait_read, [self = shared_from_this()](std::error_code ec) {
    self->reading_ = false;
    if (ec) return;
    // A WINDOW_ADJUST that re-opens a blocked channel comes out as ChannelWritable.
    self->read_socket();
    self->service();
  });
}

void Connection::read_socket() {
  for (int turn = 0; turn < kSocketReadTurns && socket_open_ && session_->wants_input(); ++turn) {
    MutableByteView space = session_->prepare_read(kSocketReadSize);
    std::error_code ec;
    size_t n = socket_.read_some(asio::buffer(space.data(), space.size()), ec);
    if (ec == asio::error::interrupted) {
      (void)session_->commit_read(0, Clock::now());
      continue;
    }
    if (ec) {
      (void)session_->commit_read(0, Clock::now());
      if (!would_block(ec)) socket_lost();
      return;
    }
    if (!session_->commit_read(n, Clock::now())) return;  // closed; the events say why
  }
}

void Connection::arm_timer() {
  TimePoint deadline = session_->next_deadline();
  if (deadline == armed_deadline_) return;
  armed_deadline_ = deadline;
  if (deadline == TimePoint::max()) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(deadline);
  timer_.async_wait([self = shared_from_this(), deadline](std::error_code ec) {
    if (ec || self->finished_ || self->armed_deadline_ != deadline) return;
    self->armed_deadline_ = TimePoint::max();
    self->session_->on_timeout(Clock::now());
    self->service();
  });
}

// The peer went away without DISCONNECT (EOF, reset): end the Session so its Closed event
// reaches the handler; what it queued cannot be sent.
void Connection::socket_lost() {
  socket_open_ = false;
  if (!session_->closed()) {
    session_->disconnect(msg::DisconnectReason::kConnectionLost, "Connection closed by peer");
  }
  dirty_ = true;
}

void Connection::finish() {
  if (finished_) return;
  // Deliver what the Session still has to say (Closed last).
  dispatch_events();
  finished_ = true;
  std::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
  auto endpoints = std::move(endpoints_);
  endpoints_.clear();
  for (auto& [channel, endpoint] : endpoints) endpoint->on_closed();
  auto self = shared_from_this();  // the handler may drop its reference
  handler_.on_finished(*this);
}

// ---- Driver ------------------------------------------------------------------------------

std::shared_ptr<Connection> Driver::add(Socket socket, std::shared_ptr<session::Session> session,
                                        session::Policies policies, ConnectionHandler& handler) {
  std::erase_if(connections_, [](const std::weak_ptr<Connection>& c) {
    auto live = c.lock();
    return !live || live->finished();
  });
  auto connection = Connection::create(std::move(socket), std::move(session), policies, handler);
  connections_.push_back(connection);
  connection->start();
  return connection;
}

void Driver::stop_on_signals(std::initializer_list<int> signals, std::function<void()> then) {
  for (int sig : signals) signals_.add(sig);
  signals_.async_wait([this, then = std::move(then)](std::error_code ec, int) {
    if (ec) return;
    for (auto& weak : connections_) {
      if (auto c = weak.lock(); c && !c->finished()) {
        c->session().disconnect(msg::DisconnectReason::kByApplication, "Received signal");
        c->kick();
      }
    }
    if (then) then();
  });
}

size_t Driver::size() {
  return size_t(std::count_if(connections_.begin(), connections_.end(),
                              [](const std::weak_ptr<Connection>& c) {
                                auto live = c.lock();
                                return live && !live->finished();
                              }));
}

}  // namespace hashi::net
