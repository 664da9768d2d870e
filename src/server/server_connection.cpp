#include "server/server_connection.h"


#include "connection/messages.h"
#include "session/hostkeys.h"
#include "wire/messages.h"

namespace hashi::server {

ServerConnection::ServerConnection(transport::TransportConfig config,
                                   auth::Authenticator& authenticator,
                                   auth::ServerAuthLimits limits, SessionHost& host,
                                   std::string peer_address, uint16_t peer_port)
    : config_(std::move(config)),
      authenticator_(authenticator),
      host_(host),
      peer_address_(std::move(peer_address)),
      peer_port_(peer_port) {
  config_.role = transport::Role::kServer;
  transport_ = std::make_unique<transport::Transport>(config_, *this);
  auth_ = std::make_unique<auth::ServerAuth>(*transport_, limits);
  mux_ = std::make_unique<connection::ConnectionMux>(*transport_, connection::Role::kServer,
                                                     *this);
}

ServerConnection::~ServerConnection() = default;

void ServerConnection::start(TimePoint now) { transport_->start(now); }

std::vector<std::string> ServerConnection::take_log() { return std::exchange(log_, {}); }

void ServerConnection::on_debug(int level, const std::string& message) {
  if (level <= 1) log_.push_back("debug1: " + message);
}

void ServerConnection::on_closed(const transport::Status&) {
  // No CLOSE will come for the open channels: release their programs now.
  std::vector<uint32_t> ids = channels();
  for (uint32_t id : ids) host_.session_closed(id);
  channels_.clear();
}

void ServerConnection::on_kex_complete(bool first) {
  if (first) auth_->set_session_id(transport_->session_id());
}

transport::Status ServerConnection::on_message(ByteView payload) {
  uint8_t t = payload[0];
  if (!authenticated_) {
    if (t != msg::kServiceRequest && (t < 50 || t > 79)) {
      return transport::Status::protocol_error("unexpected message " + std::to_string(t) +
                                               " before authentication");
    }
    auto r = auth::answer_query(*auth_, authenticator_, auth_->on_message(payload));
    for (const auto& e : r.events) log_.push_back(e.log_line(peer_address_, peer_port_));
    using Kind = auth::ServerAuthStatus::Kind;
    if (r.kind == Kind::kDisconnect) return transport::Status::fail(r.disconnect_reason, r.message);
    if (r.kind == Kind::kSuccess) {
      authenticated_ = true;
      user_ = auth_->result()->user;
      key_options_ = auth_->result()->key_options;
      announce_hostkeys();
    }
    return transport::Status::ok();
  }
  if (t >= 50 && t <= 79) return transport::Status::ok();  // auth after success: ignored, as sshd
  if (t < 80 || t > 127) {
    return transport::Status::protocol_error("unexpected message " + std::to_string(t));
  }
  if (t == msg::kGlobalRequest) {
    // hostkeys-prove-00's reply carries data, which the mux's boolean answer cannot.
    auto m = connection::GlobalRequestMsg::decode(payload);
    if (m && m->name == session::kHostkeysProveRequest && m->want_reply) {
      answer_hostkeys_prove(m->data);
      return transport::Status::ok();
    }
  }
  auto r = mux_->on_message(payload);
  if (!r.ok()) return transport::Status::fail(r.disconnect_reason(), r.reason);
  return transport::Status::ok();
}

void ServerConnection::announce_hostkeys() {
  if (config_.host_keys.empty()) return;
  Bytes data = session::hostkeys_announcement(config_.host_keys);
  (void)mux_->send_global_request(session::kHostkeysRequest, data, false);
}

void ServerConnection::answer_hostkeys_prove(ByteView data) {
  const auto& negotiated = transport_->negotiated();
  auto proof = session::prove_hostkeys(config_.host_keys, data, transport_->session_id(),
                              negotiated ? negotiated->host_key : std::string());
  Bytes out;
  if (proof) {
    connection::RequestSuccessMsg{*proof}.encode(out);
  } else {
    on_debug(1, "hostkeys-prove-00@openssh.com: refused");
    out.push_back(msg::kRequestFailure);
  }
  transport_->send(out);
}

connection::Decision ServerConnection::on_open_request(uint32_t channel, std::string_view type,
                                                       ByteView) {
  if (type != "session" || !host_.may_open_session(channels_.size())) return false;
  channels_[channel];
  return true;
}

connection::Decision ServerConnection::on_channel_request(uint32_t channel,
                                          const connection::ChannelRequest& request, bool) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return false;
  Channel& ch = it->second;
  SessionStart start;
  if (auto* e = std::get_if<connection::EnvRequest>(&request.body)) {
    if (!host_.accept_env(e->name) || ch.env.size() >= 64) return false;
    ch.env.emplace_back(e->name, e->value);
    return true;
  }
  if (auto* s = std::get_if<connection::SignalRequest>(&request.body)) {
    if (ch.started) host_.signal_session(channel, s->name);
    return ch.started;
  }
  if (auto* x = std::get_if<connection::ExecRequest>(&request.body)) {
    start.command = x->command;
  } else if (std::get_if<connection::ShellRequest>(&request.body)) {
    // the login shell
  } else if (auto* sub = std::get_if<connection::SubsystemRequest>(&request.body)) {
    start.subsystem = sub->name;
  } else {
    return false;  // pty-req, x11-req, ... come with their own issues
  }
  if (ch.started) return false;
  start.env = ch.env;
  ch.started = host_.start_session(channel, start);
  return ch.started;
}

connection::Decision ServerConnection::on_global_request(uint64_t, std::string_view name, ByteView, bool) {
  return false;  // keepalive@openssh.com and unknown requests get REQUEST_FAILURE, as sshd
}

OutputQueue* ServerConnection::input_queue(uint32_t ch) {
  auto it = channels_.find(ch);
  return it == channels_.end() ? nullptr : &it->second.input;
}

void ServerConnection::drained_input(uint32_t ch, size_t n) {
  auto it = channels_.find(ch);
  if (it == channels_.end()) return;
  it->second.input.consume(n);
  mux_->consume(ch, n);
}

size_t ServerConnection::output_window(uint32_t ch) const {
  return transport_->congested() ? 0 : mux_->send_window(ch);
}

size_t ServerConnection::send_output(uint32_t ch, ByteView data) { return mux_->send_data(ch, data); }

size_t ServerConnection::send_stderr(uint32_t ch, ByteView data) {
  return mux_->send_extended_data(ch, connection::kExtendedDataStderr, data);
}

void ServerConnection::session_finished(uint32_t ch, const SessionExit& exit) {
  mux_->send_eof(ch);
  if (exit.signaled) {
    mux_->send_request(ch,
                       {connection::ExitSignalRequest{exit.signal_name, exit.core_dumped, "", ""}},
                       false);
  } else {
    mux_->send_request(ch, {connection::ExitStatusRequest{exit.status}}, false);
  }
  mux_->close(ch);
}

std::vector<uint32_t> ServerConnection::channels() const {
  std::vector<uint32_t> out;
  for (const auto& [id, ch] : channels_) out.push_back(id);
  return out;
}

void ServerConnection::on_data(uint32_t channel, ByteView data) {
  if (auto* q = input_queue(channel)) q->append(data);
}

void ServerConnection::on_extended_data(uint32_t channel, uint32_t, ByteView data) {
  mux_->consume(channel, data.size());  // a session has no use for the client's extended data
}

void ServerConnection::on_eof(uint32_t channel) {
  if (auto* q = input_queue(channel)) q->eof = true;
}

void ServerConnection::on_close(uint32_t channel) {
  host_.session_closed(channel);
  channels_.erase(channel);
}

}  // namespace hashi::server
