#include "server/server_session.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "config/config_text.h"
#include "server/log.h"
#include "server/process.h"
#include "server/users.h"

namespace hashi::server {

namespace {

// "env" requests kept per channel; more are refused (the client gets a failure reply).
constexpr size_t kMaxEnvPerChannel = 64;
// After the connection ended, how long its programs (sent SIGHUP) are waited for so they are
// reaped here; what is still running then is left to init.
constexpr auto kReapWait = std::chrono::seconds(2);

}  // namespace

// ---- ServerPolicy --------------------------------------------------------------------------

void ServerPolicy::check_user(const std::string& user, std::function<void(bool)> done) {
  done(keys_.user_exists(user));
}

void ServerPolicy::check_key(const std::string& user, const keys::PublicKey& key,
                             std::function<void(std::optional<keys::KeyOptions>)> done) {
  done(keys_.authorize_key(user, key));
}

// ---- ServerHandler -------------------------------------------------------------------------

ServerHandler::ServerHandler(asio::io_context& io, const ServerPolicy& policy, PeerInfo peer)
    : io_(io), grace_timer_(io), policy_(policy), peer_(std::move(peer)) {}

void ServerHandler::start(net::Connection& connection) {
  if (options().login_grace_time == 0) return;
  grace_timer_.expires_after(std::chrono::seconds(options().login_grace_time));
  grace_timer_.async_wait([this, weak = connection.weak_from_this()](std::error_code ec) {
    auto c = weak.lock();
    if (ec || !c || c->finished() || c->session().authenticated()) return;
    log_info("Timeout before authentication for %s port %u", peer_.remote_ip.c_str(),
             peer_.remote_port);
    we_ended_ = true;
    c->session().disconnect(msg::DisconnectReason::kProtocolError,
                            "Timeout before authentication");
    c->kick();
  });
}

void ServerHandler::on_event(net::Connection& c, session::Event& event) {
  session::Session& s = c.session();
  if (auto* line = std::get_if<session::LogLine>(&event)) {
    if (line->level == 0) {
      log_info("%s", line->text.c_str());
    } else if (line->level == 1) {
      log_debug("%s", line->text.c_str());
    } else if (line->level == 2) {
      log_debug2("%s", line->text.c_str());
    } else {
      log_debug3("%s", line->text.c_str());
    }
  } else if (auto* done = std::get_if<session::Authenticated>(&event)) {
    authenticated_ = true;
    user_ = done->user;
    key_options_ = done->key_options;
    grace_timer_.cancel();
  } else if (auto* open = std::get_if<session::ChannelOpenRequest>(&event)) {
    if (open->type != "session") {
      s.reject_channel(open->channel, connection::OpenFailureReason::kUnknownChannelType,
                       "unknown channel type");
    } else if (channels_.size() >= options().max_sessions) {  // MaxSessions
      s.reject_channel(open->channel, connection::OpenFailureReason::kAdministrativelyProhibited,
                       "open failed");
    } else {
      channels_[open->channel];
      s.accept_channel(open->channel);
    }
  } else if (auto* request = std::get_if<session::ChannelRequestEvent>(&event)) {
    on_channel_request(c, *request);
  } else if (auto* input = std::get_if<session::ChannelInput>(&event)) {
    drop_unclaimed_input(s, input->channel);
  } else if (auto* eof = std::get_if<session::ChannelEof>(&event)) {
    drop_unclaimed_input(s, eof->channel);
  } else if (auto* closed = std::get_if<session::ChannelClosed>(&event)) {
    channels_.erase(closed->channel);  // the endpoint hung up its program, if still running
  } else if (auto* global = std::get_if<session::GlobalRequest>(&event)) {
    // keepalive@openssh.com and unknown requests get REQUEST_FAILURE, as sshd.
    if (global->want_reply) s.reply_global(global->id, false);
  } else if (auto* end = std::get_if<session::Closed>(&event)) {
    log_closed(c, *end);
  }
}

// Input for a session channel that runs no program (none asked for yet, or refused) is dropped:
// kept, it would hold back the client's window and, the Session holding a CLOSE until queued
// input is consumed, a CLOSE the client sent. (A client sends its data after exec/shell, which
// starts the program at once, so nothing meant for a program is lost.)
void ServerHandler::drop_unclaimed_input(session::Session& s, uint32_t channel) {
  auto it = channels_.find(channel);
  if (it != channels_.end() && it->second.started) return;  // the endpoint reads it
  for (int stream : {0, 1}) {
    s.consume_input(channel, stream, s.channel_input(channel, stream).size());
  }
}

void ServerHandler::log_closed(net::Connection& c, const session::Closed& closed) {
  const char* preauth = authenticated_ ? "" : " [preauth]";
  if (closed.by_peer) {
    const auto& pd = c.session().transport().peer_disconnect();
    log_info("Received disconnect from %s port %u:%u: %s%s", peer_.remote_ip.c_str(),
             peer_.remote_port, pd ? pd->reason : 0, pd ? pd->description.c_str() : "", preauth);
    return;
  }
  // The socket went away without DISCONNECT, or we ended it for a reason already logged.
  if (we_ended_ || closed.why.reason() == msg::DisconnectReason::kConnectionLost) return;
  std::string who = authenticated_ ? "user " + user_ + " " : "";
  log_info("Disconnecting %s%s port %u: %s%s", who.c_str(), peer_.remote_ip.c_str(),
           peer_.remote_port, closed.why.message().c_str(), preauth);
}

void ServerHandler::on_finished(net::Connection&) {
  finished_ = true;
  if (authenticated_) {
    log_info("Disconnected from user %s %s port %u", user_.c_str(), peer_.remote_ip.c_str(),
             peer_.remote_port);
  } else {
    log_info("Connection closed by %s port %u [preauth]", peer_.remote_ip.c_str(),
             peer_.remote_port);
  }
  // The endpoints hung up the programs still running and wait on their pidfds to reap them;
  // give them a moment, then stop waiting.
  grace_timer_.cancel();
  if (running_programs_ == 0) return;
  grace_timer_.expires_after(kReapWait);
  grace_timer_.async_wait([this](std::error_code ec) {
    if (!ec) io_.stop();
  });
}

void ServerHandler::program_exited() {
  --running_programs_;
  if (finished_ && running_programs_ == 0) grace_timer_.cancel();
}

void ServerHandler::on_channel_request(net::Connection& c, session::ChannelRequestEvent& event) {
  session::Session& s = c.session();
  auto reply = [&](bool ok) {
    if (event.want_reply) s.reply_request(event.channel, ok);
  };
  auto it = channels_.find(event.channel);
  if (it == channels_.end()) return reply(false);
  Channel& ch = it->second;
  const auto& body = event.request.body;
  if (auto* e = std::get_if<connection::EnvRequest>(&body)) {
    bool ok = accept_env(e->name) && ch.env.size() < kMaxEnvPerChannel;
    if (ok) ch.env.emplace_back(e->name, e->value);
    return reply(ok);
  }
  if (auto* sig = std::get_if<connection::SignalRequest>(&body)) {
    auto number = signal_from_name(sig->name);
    bool running = ch.started && ch.exited && !*ch.exited;
    if (running && number) kill_session(ch.pid, *number);
    return reply(ch.started);
  }
  SessionStart start;
  if (auto* x = std::get_if<connection::ExecRequest>(&body)) {
    start.command = x->command;
  } else if (std::get_if<connection::ShellRequest>(&body)) {
    // the login shell
  } else if (auto* sub = std::get_if<connection::SubsystemRequest>(&body)) {
    start.subsystem = sub->name;
  } else {
    return reply(false);  // pty-req, x11-req, window-change, ... come with their own issues
  }
  if (ch.started) return reply(false);
  start.env = ch.env;
  ch.started = start_session(c, event.channel, start);
  reply(ch.started);
}

bool ServerHandler::accept_env(const std::string& name) const {
  const auto& patterns = options().accept_env;
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return config::match_pattern(name, p); });
}

std::string ServerHandler::session_command(const std::string& force_command,
                                           const keys::KeyOptions& key_options,
                                           const SessionStart& start,
                                           std::optional<std::string>& command,
                                           std::string& original_command) {
  if (force_command.empty() && !key_options.command) {
    return start.command ? "command '" + *start.command + "'" : std::string("shell");
  }
  if (command) original_command = start.subsystem ? *start.subsystem : *command;
  command = force_command.empty() ? *key_options.command : force_command;
  return std::string(force_command.empty() ? "forced-command (key-option)"
                                           : "forced-command (config)") +
         " '" + *command + "'";
}

bool ServerHandler::start_session(net::Connection& c, uint32_t channel,
                                  const SessionStart& start) {
  auto user = lookup_user(user_);
  if (!user) return false;
  SpawnRequest req;
  req.user = *user;
  req.command = start.command;
  if (start.subsystem) {
    auto it = options().subsystems.find(*start.subsystem);
    if (it == options().subsystems.end() || it->second == "internal-sftp") {
      log_info("subsystem request for %s by user %s failed, subsystem not found",
               start.subsystem->c_str(), user_.c_str());
      return false;
    }
    req.command = it->second;
  }
  const std::string what = session_command(options().force_command, key_options_, start,
                                           req.command, req.original_command);
  req.env = start.env;
  // authorized_keys environment="NAME=value": only with PermitUserEnvironment (yes or a pattern
  // list the name must match).
  const std::string& permit = options().permit_user_environment;
  if (permit != "no") {
    for (const auto& entry : key_options_.environment) {
      auto eq = entry.find('=');
      if (eq == std::string::npos || eq == 0) continue;
      std::string name = entry.substr(0, eq);
      if (permit != "yes" && !from_allowed(permit, name)) continue;
      req.env.emplace_back(name, entry.substr(eq + 1));
    }
  }
  // SetEnv (sshd_config): "NAME=value" entries the server adds to every session.
  for (const auto& entry : options().set_env) {
    auto eq = entry.find('=');
    if (eq != std::string::npos) req.env.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }
  req.ssh_connection = peer_.remote_ip + " " + std::to_string(peer_.remote_port) + " " +
                       peer_.local_ip + " " + std::to_string(peer_.local_port);
  req.ssh_client = peer_.remote_ip + " " + std::to_string(peer_.remote_port) + " " +
                   std::to_string(peer_.local_port);
  std::string error;
  auto proc = spawn_session(req, error);
  if (!proc) {
    log_error("session for %s: %s", user_.c_str(), error.c_str());
    return false;
  }
  auto exited = std::make_shared<bool>(false);
  // The endpoint moves the program's stdin/stdout/stderr with back-pressure and reports its exit
  // (EOF, exit-status or exit-signal, CLOSE); if the channel closes first it hangs the program
  // up and still reaps it.
  auto endpoint = net::make_process_endpoint(
      c.executor(), {proc->pid, proc->stdin_fd, proc->stdout_fd, proc->stderr_fd}, error,
      [this, exited](const net::ProcessExit&) {
        *exited = true;
        program_exited();
      });
  if (!endpoint) {
    log_error("session for %s: %s", user_.c_str(), error.c_str());
    kill_session(proc->pid, SIGKILL);
    int status = 0;
    while (waitpid(proc->pid, &status, 0) < 0 && errno == EINTR) {
    }
    return false;
  }
  log_verbose("Starting session: %s for %s from %s port %u id %u", what.c_str(), user_.c_str(),
              peer_.remote_ip.c_str(), peer_.remote_port, channel);
  ++running_programs_;
  Channel& ch = channels_[channel];
  ch.pid = proc->pid;
  ch.exited = exited;
  c.bind(channel, endpoint);
  return true;
}

// ---- serve_connection ----------------------------------------------------------------------

void serve_connection(int fd, const PeerInfo& peer, const config::ServerOptions& options,
                      transport::TransportConfig transport_config) {
  asio::io_context io;
  sockaddr_storage address{};
  socklen_t address_len = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_len) != 0) {
    log_error("getsockname: %s", std::strerror(errno));
    close(fd);
    return;
  }
  std::error_code ec;
  net::Socket socket(io);
  socket.assign(asio::generic::stream_protocol(address.ss_family, IPPROTO_TCP), fd, ec);
  if (ec) {
    log_error("socket: %s", ec.message().c_str());
    close(fd);
    return;
  }

  ServerPolicy policy(options, peer);
  ServerHandler handler(io, policy, peer);
  session::SessionConfig config;
  config.role = session::Role::kServer;
  config.transport = std::move(transport_config);
  config.transport.role = session::Role::kServer;
  for (const auto& key : config.transport.host_keys) {
    config.host_public_keys.push_back(key->public_key());
  }
  config.peer_address = peer.remote_ip;
  config.peer_port = peer.remote_port;
  config.max_auth_tries = options.max_auth_tries;
  config.pubkey_algorithms = options.pubkey_accepted_algorithms;

  auto connection = net::Connection::create(
      std::move(socket), std::make_shared<session::Session>(std::move(config)),
      {.authenticator = &policy}, handler);
  connection->start();
  handler.start(*connection);
  io.run();
}

}  // namespace hashi::server
