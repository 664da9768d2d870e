#include "client/client_connection.h"

#include "session/hostkeys.h"
#include "wire/messages.h"

namespace hashi::client {

ClientConnection::ClientConnection(ClientConnectionConfig config, HostKeyCheck check,
                                   DebugLog debug)
    : config_(std::move(config)), host_key_check_(std::move(check)), debug_(std::move(debug)) {
  config_.transport.role = transport::Role::kClient;
  transport_ = std::make_unique<transport::Transport>(config_.transport, *this);
  auth_ = std::make_unique<auth::ClientAuth>(*transport_, config_.user, config_.identities);
  mux_ = std::make_unique<connection::ConnectionMux>(*transport_, connection::Role::kClient,
                                                     *this);
}

ClientConnection::~ClientConnection() = default;

void ClientConnection::start(TimePoint now) { transport_->start(now); }

void ClientConnection::on_debug(int level, const std::string& message) {
  if (debug_) debug_(level, message);
}

std::optional<transport::Status> ClientConnection::check_host_key(const keys::PublicKey& key) {
  on_debug(1, "Server host key: " + std::string(key.type_name()) + " " + key.fingerprint_sha256());
  return host_key_check_ ? host_key_check_(key) : transport::Status::ok();
}

void ClientConnection::on_closed(const transport::Status& why) {
  if (!finished_) {
    finished_ = true;
    error_ = why.message();
  }
}

void ClientConnection::on_kex_complete(bool first) {
  if (first) auth_->start(transport_->session_id());
}

void ClientConnection::on_server_sig_algs(const std::vector<std::string>& algorithms) {
  auth_->set_server_sig_algs(algorithms);
}

transport::Status ClientConnection::on_message(ByteView payload) {
  uint8_t t = payload[0];
  if (!authenticated_) {
    if (t != msg::kServiceAccept && (t < 50 || t > 79)) {
      return transport::Status::protocol_error("unexpected message " + std::to_string(t) +
                                               " before authentication");
    }
    auto r = auth_->on_message(payload);
    using Kind = auth::ClientAuthStatus::Kind;
    if (r.banner) stderr_.append(as_bytes(*r.banner));
    if (r.kind == Kind::kFailed) {
      finish(r.message);
      return transport::Status::fail(msg::DisconnectReason::kNoMoreAuthMethodsAvailable,
                                     r.message);
    }
    if (r.kind == Kind::kProtocolError) return transport::Status::protocol_error(r.message);
    if (r.kind == Kind::kSuccess) {
      authenticated_ = true;
      on_debug(1, "Authentication succeeded (publickey).");
      if (config_.no_session) {
        on_debug(1, "No session requested (-N): waiting for the connection to end.");
      } else {
        channel_ = mux_->open_session();
      }
    }
    return transport::Status::ok();
  }
  if (t < 80 || t > 127) {
    if (t >= 50 && t <= 79) return transport::Status::ok();  // late auth messages are harmless
    return transport::Status::protocol_error("unexpected message " + std::to_string(t));
  }
  auto r = mux_->on_message(payload);
  if (!r.ok()) return transport::Status::fail(r.disconnect_reason(), r.reason);
  return transport::Status::ok();
}

void ClientConnection::on_open_confirmed(uint32_t channel) {
  channel_open_ = true;
  for (const auto& [name, value] : config_.env) {
    mux_->send_request(channel, {connection::EnvRequest{name, value}}, false);
  }
  if (config_.command) {
    on_debug(1, "Sending command: " + *config_.command);
    mux_->send_request(channel, {connection::ExecRequest{*config_.command}}, true);
  } else {
    mux_->send_request(channel, {connection::ShellRequest{}}, true);
  }
  if (stdin_closed_) stdin_eof();
}

void ClientConnection::on_open_failed(uint32_t, uint32_t reason, std::string_view description) {
  finish("channel open failed: " + std::string(description));
}

void ClientConnection::on_request_reply(uint32_t, bool success) {
  if (!success) {
    stderr_.append(as_bytes(std::string(config_.command ? "exec" : "shell") +
                            " request failed on channel " + std::to_string(*channel_) + "\n"));
    mux_->close(*channel_);
  }
}

bool ClientConnection::wants_stdin() const {
  return channel_open_ && !stdin_closed_ && mux_->send_window(*channel_) > 0 &&
         !transport_->congested();
}

size_t ClientConnection::write_stdin(ByteView data) {
  if (!channel_open_ || stdin_closed_) return 0;
  return mux_->send_data(*channel_, data);
}

void ClientConnection::stdin_eof() {
  stdin_closed_ = true;
  if (channel_open_ && !eof_sent_) {
    eof_sent_ = true;
    mux_->send_eof(*channel_);
  }
}

void ClientConnection::drained_stdout(size_t n) {
  stdout_.consume(n);
  if (channel_) mux_->consume(*channel_, n);
}

void ClientConnection::drained_stderr(size_t n) {
  stderr_.consume(n);
  if (channel_) mux_->consume(*channel_, n);
}

void ClientConnection::on_data(uint32_t, ByteView data) { stdout_.append(data); }

void ClientConnection::on_extended_data(uint32_t channel, uint32_t type, ByteView data) {
  if (type == connection::kExtendedDataStderr) {
    stderr_.append(data);
  } else {
    mux_->consume(channel, data.size());
  }
}

void ClientConnection::on_eof(uint32_t) { stdout_.eof = true; }

connection::Decision ClientConnection::on_channel_request(uint32_t,
                                                          const connection::ChannelRequest& request,
                                                          bool) {
  if (auto* s = std::get_if<connection::ExitStatusRequest>(&request.body)) {
    exit_status_ = int(s->status & 0xff);
    on_debug(1, "Exit status " + std::to_string(s->status));
    return true;
  }
  if (auto* s = std::get_if<connection::ExitSignalRequest>(&request.body)) {
    exit_status_ = 255;
    std::string text = "Remote command killed by signal " + s->signal_name;
    if (!s->error_message.empty()) text += ": " + s->error_message;
    on_debug(1, text);
    return true;
  }
  return false;
}

void ClientConnection::on_close(uint32_t) {
  channel_open_ = false;
  stdout_.eof = true;
  stderr_.eof = true;
  finish("");
}

connection::Decision ClientConnection::on_global_request(uint64_t, std::string_view name,
                                                         ByteView data, bool) {
  if (name == session::kHostkeysRequest) on_hostkeys(data);
  return false;  // no want_reply global request is answered with success by a client
}

void ClientConnection::on_hostkeys(ByteView data) {
  if (hostkeys_seen_ || !hostkeys_.unknown_keys || !hostkeys_.update) return;
  hostkeys_seen_ = true;
  auto debug = [this](const std::string& m) { on_debug(1, m); };
  std::vector<keys::PublicKey> offered;
  auto unknown = keys_to_prove(data, transport_->host_key(),
                               config_.transport.host_key_algorithms, hostkeys_, debug, offered);
  if (!unknown) return;
  if (unknown->empty()) {
    hostkeys_.update(offered, {});  // only removals (or nothing) to do
    return;
  }
  Bytes request = session::encode_hostkeys(*unknown);
  if (!mux_->send_global_request(session::kHostkeysProveRequest, request, true)) return;
  debug("client_input_hostkeys: asking server to prove ownership of " +
        std::to_string(unknown->size()) + " keys");
  hostkeys_offered_ = std::move(offered);
  hostkeys_to_prove_ = std::move(*unknown);
}

void ClientConnection::on_global_reply(bool success, ByteView data) {
  if (!hostkeys_offered_) return;
  auto offered = std::move(*hostkeys_offered_);
  hostkeys_offered_.reset();
  auto debug = [this](const std::string& m) { on_debug(1, m); };
  if (proof_accepted(success, data, hostkeys_to_prove_, transport_->session_id(),
                     config_.transport.host_key_algorithms, debug)) {
    hostkeys_.update(offered, hostkeys_to_prove_);
  }
  hostkeys_to_prove_.clear();
  if (finish_after_prove_) {
    finish_after_prove_ = false;
    finish("");
  }
}

void ClientConnection::close_by_user() {
  if (finished_) return;
  exit_status_ = 0;
  finish("");
}

void ClientConnection::finish(const std::string& error) {
  if (finished_) return;
  if (error.empty() && hostkeys_offered_ && !transport_->closed()) {
    finish_after_prove_ = true;  // let the proof arrive, then leave
    return;
  }
  finished_ = true;
  error_ = error;
  if (error.empty()) {
    transport_->disconnect(msg::DisconnectReason::kByApplication, "disconnected by user");
  }
}

}  // namespace hashi::client
