#include "client/client.h"

#include <unistd.h>

#include "session/hostkeys.h"
#include "wire/messages.h"

namespace hashi::client {

Client::Client(Log log, std::vector<std::string> host_key_algorithms)
    : log_(std::move(log)), host_key_algorithms_(std::move(host_key_algorithms)) {}

Client::~Client() { close_unused_fds(); }

size_t Client::add_session(SessionSpec spec) {
  sessions_.push_back(SessionState{std::move(spec), {}, std::nullopt, false});
  if (authenticated_) open_sessions();
  return sessions_.size() - 1;
}

void Client::start(net::Driver& driver, net::Socket socket, session::SessionConfig config,
                   session::Policies policies) {
  config.role = session::Role::kClient;
  connection_ = driver.add(std::move(socket),
                           std::make_shared<session::Session>(std::move(config)), policies,
                           *this);
}

void Client::stop() {
  if (!connection_ || finished_) return;
  done_ = true;
  connection_->session().disconnect(msg::DisconnectReason::kByApplication,
                                    "disconnected by user");
  connection_->kick();
}

void Client::open_sessions() {
  for (size_t i = 0; i < sessions_.size(); ++i) {
    SessionState& s = sessions_[i];
    if (s.channel || s.outcome.closed) continue;
    s.channel = connection_->session().open_channel("session");
    if (!s.channel) {
      s.outcome.error = "cannot open a channel";
      s.outcome.closed = true;
    }
  }
}

Client::SessionState* Client::by_channel(uint32_t channel) {
  for (SessionState& s : sessions_) {
    if (s.channel == channel && !s.outcome.closed) return &s;
  }
  return nullptr;
}

void Client::on_event(net::Connection& c, session::Event& event) {
  session::Session& session = c.session();
  if (auto* line = std::get_if<session::LogLine>(&event)) {
    if (log_) log_(line->level, line->text);
  } else if (std::holds_alternative<session::Authenticated>(event)) {
    authenticated_ = true;
    if (sessions_.empty()) {
      if (log_) log_(1, "No session requested (-N): waiting for the connection to end.");
    }
    open_sessions();
    maybe_done();
  } else if (auto* opened = std::get_if<session::ChannelOpened>(&event)) {
    on_opened(opened->channel);
  } else if (auto* failed = std::get_if<session::ChannelOpenFailed>(&event)) {
    if (SessionState* s = by_channel(failed->channel)) {
      s->outcome.error = "channel open failed: " + failed->description;
      s->outcome.closed = true;
      if (error_.empty()) error_ = s->outcome.error;
      maybe_done();
    }
  } else if (auto* reply = std::get_if<session::ChannelRequestReply>(&event)) {
    SessionState* s = by_channel(reply->channel);
    if (s && !reply->success) {
      s->outcome.error = std::string(s->spec.command ? "exec" : "shell") +
                         " request failed on channel " + std::to_string(reply->channel);
      if (log_) log_(0, s->outcome.error + "\n");
      session.close_channel(reply->channel);
    }
  } else if (auto* request = std::get_if<session::ChannelRequestEvent>(&event)) {
    on_request(*request);
    if (request->want_reply) session.reply_request(request->channel, false);
  } else if (auto* closed = std::get_if<session::ChannelClosed>(&event)) {
    if (SessionState* s = by_channel(closed->channel)) {
      s->outcome.closed = true;
      maybe_done();
    }
  } else if (auto* global = std::get_if<session::GlobalRequest>(&event)) {
    if (global->name == session::kHostkeysRequest) on_hostkeys(global->data);
    // A client answers no global request with success (OpenSSH's client_input_global_request).
    if (global->want_reply) session.reply_global(global->id, false);
  } else if (auto* global_reply = std::get_if<session::GlobalReply>(&event)) {
    on_global_reply(*global_reply);
  } else if (auto* ended = std::get_if<session::Closed>(&event)) {
    if (!done_ && error_.empty()) {
      error_ = ended->why.message();
      if (error_.empty()) error_ = "Connection closed";
    }
  }
}

void Client::on_opened(uint32_t channel) {
  SessionState* s = by_channel(channel);
  if (!s) return;
  s->outcome.opened = true;
  session::Session& session = connection_->session();
  for (const auto& [name, value] : s->spec.env) {
    session.send_request(channel, {connection::EnvRequest{name, value}}, false);
  }
  if (s->spec.command) {
    if (log_) log_(1, "Sending command: " + *s->spec.command);
    session.send_request(channel, {connection::ExecRequest{*s->spec.command}}, true);
  } else {
    session.send_request(channel, {connection::ShellRequest{}}, true);
  }
  s->fds_taken = true;
  connection_->bind(channel, net::make_pipe_endpoint(connection_->executor(), s->spec.fds));
}

void Client::on_request(const session::ChannelRequestEvent& request) {
  SessionState* s = by_channel(request.channel);
  if (!s) return;
  if (auto* st = std::get_if<connection::ExitStatusRequest>(&request.request.body)) {
    s->outcome.exit_status = st->status;
    if (log_) log_(1, "Exit status " + std::to_string(st->status));
  } else if (auto* sig = std::get_if<connection::ExitSignalRequest>(&request.request.body)) {
    s->outcome.exit_signal = sig->signal_name;
    std::string text = "Remote command killed by signal " + sig->signal_name;
    if (!sig->error_message.empty()) text += ": " + sig->error_message;
    if (log_) log_(1, text);
  }
}

bool Client::all_sessions_done() const {
  for (const SessionState& s : sessions_) {
    if (!s.outcome.closed) return false;
  }
  return true;
}

// Once every session channel has closed, the connection ends (a -N connection has none and
// stays). An UpdateHostKeys proof still outstanding is waited for first.
void Client::maybe_done() {
  if (done_ || !disconnect_when_done_ || !authenticated_ || sessions_.empty()) return;
  if (!all_sessions_done()) return;
  if (hostkeys_offered_) {
    done_after_prove_ = true;
    return;
  }
  stop();
}

void Client::on_finished(net::Connection&) {
  finished_ = true;
  close_unused_fds();
}

void Client::close_unused_fds() {
  for (SessionState& s : sessions_) {
    if (s.fds_taken) continue;
    s.fds_taken = true;
    for (int fd : {s.spec.fds.read_fd, s.spec.fds.write_fd, s.spec.fds.write_err_fd}) {
      if (fd >= 0) close(fd);
    }
  }
}

// ---- UpdateHostKeys (OpenSSH PROTOCOL section 2.5, clientloop.c client_input_hostkeys) ----

void Client::on_hostkeys(const Bytes& data) {
  if (hostkeys_seen_ || !hostkeys_.unknown_keys || !hostkeys_.update) return;
  hostkeys_seen_ = true;
  auto debug = [this](const std::string& m) {
    if (log_) log_(1, m);
  };
  session::Session& session = connection_->session();
  std::vector<keys::PublicKey> offered;
  auto unknown = keys_to_prove(data, session.transport().host_key(), host_key_algorithms_,
                               hostkeys_, debug, offered);
  if (!unknown) return;
  if (unknown->empty()) {
    hostkeys_.update(offered, {});  // only removals (or nothing) to do
    return;
  }
  Bytes request = session::encode_hostkeys(*unknown);
  if (!session.send_global_request(session::kHostkeysProveRequest, request, true)) return;
  debug("client_input_hostkeys: asking server to prove ownership of " +
        std::to_string(unknown->size()) + " keys");
  hostkeys_offered_ = std::move(offered);
  hostkeys_to_prove_ = std::move(*unknown);
}

void Client::on_global_reply(const session::GlobalReply& reply) {
  if (!hostkeys_offered_) return;
  auto offered = std::move(*hostkeys_offered_);
  hostkeys_offered_.reset();
  auto debug = [this](const std::string& m) {
    if (log_) log_(1, m);
  };
  if (proof_accepted(reply.success, reply.data, hostkeys_to_prove_,
                     connection_->session().transport().session_id(), host_key_algorithms_,
                     debug)) {
    hostkeys_.update(offered, hostkeys_to_prove_);
  }
  hostkeys_to_prove_.clear();
  if (done_after_prove_) {
    done_after_prove_ = false;
    maybe_done();
  }
}

}  // namespace hashi::client
