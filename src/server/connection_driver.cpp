#include "server/connection_driver.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "config/config_text.h"
#include "server/daemon.h"
#include "server/key_authenticator.h"
#include "server/log.h"
#include "server/process.h"
#include "server/users.h"

namespace hashi::server {

namespace {

constexpr size_t kSocketReadSize = 256 * 1024;
constexpr size_t kPipeReadSize = 64 * 1024;

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return int(syscall(SYS_pidfd_open, pid, 0));
#else
  return -1;
#endif
}

// One session channel's program and its pipes.
struct Session {
  SpawnedProcess proc;
  int pidfd = -1;
  bool exited = false;
  SessionExit exit;
  bool stdout_open = true;
  bool stderr_open = true;
  bool finished = false;  // exit reported to the client
};

class Driver final : public SessionHost {
 public:
  Driver(int sock, const PeerInfo& peer, const config::ServerOptions& options)
      : sock_(sock),
        peer_(peer),
        authenticator_(options, {peer.remote_ip, peer.local_ip, peer.local_port}) {}

  void run(transport::TransportConfig tc);

  bool start_session(uint32_t channel, const SessionStart& start) override;
  void signal_session(uint32_t channel, const std::string& name) override;
  void session_closed(uint32_t channel) override;
  bool accept_env(const std::string& name) override;
  bool may_open_session(size_t open_sessions) override;

 private:
  // The options in force for this connection (Match blocks applied once the user is known).
  const config::ServerOptions& options() const { return authenticator_.options(); }
  std::string session_command(const SessionStart& start, SpawnRequest& req) const;
  void flush_log();
  void pump_sessions();
  void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  void reap(Session& s);

  int sock_;
  PeerInfo peer_;
  KeyAuthenticator authenticator_;
  ServerConnection* conn_ = nullptr;
  std::map<uint32_t, Session> sessions_;
};

// ForceCommand (config) wins over the key's command=, as in sshd's do_exec; either replaces
// whatever the client asked for (exec, shell or subsystem), which the command then finds in
// SSH_ORIGINAL_COMMAND. Returns how the session is described in the log.
std::string Driver::session_command(const SessionStart& start, SpawnRequest& req) const {
  const std::string& config_command = options().force_command;
  const keys::KeyOptions& key_opts = conn_->key_options();
  if (config_command.empty() && !key_opts.command) {
    return start.command ? "command '" + *start.command + "'" : std::string("shell");
  }
  if (req.command) req.original_command = start.subsystem ? *start.subsystem : *req.command;
  req.command = config_command.empty() ? *key_opts.command : config_command;
  return std::string(config_command.empty() ? "forced-command (key-option)"
                                            : "forced-command (config)") +
         " '" + *req.command + "'";
}

bool Driver::accept_env(const std::string& name) {
  const auto& patterns = options().accept_env;
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return config::match_pattern(name, p); });
}

bool Driver::may_open_session(size_t open_sessions) {
  return open_sessions < options().max_sessions;
}

bool Driver::start_session(uint32_t channel, const SessionStart& start) {
  auto user = lookup_user(conn_->user());
  if (!user) return false;
  SpawnRequest req;
  req.user = *user;
  req.command = start.command;
  if (start.subsystem) {
    auto it = options().subsystems.find(*start.subsystem);
    if (it == options().subsystems.end() || it->second == "internal-sftp") {
      log_info("subsystem request for %s by user %s failed, subsystem not found",
               start.subsystem->c_str(), conn_->user().c_str());
      return false;
    }
    req.command = it->second;
  }
  const std::string what = session_command(start, req);
  req.env = start.env;
  // authorized_keys environment="NAME=value": only with PermitUserEnvironment (yes or a pattern
  // list the name must match).
  if (options().permit_user_environment != "no") {
    for (const auto& entry : conn_->key_options().environment) {
      auto eq = entry.find('=');
      if (eq == std::string::npos || eq == 0) continue;
      std::string name = entry.substr(0, eq);
      if (options().permit_user_environment != "yes" &&
          !from_allowed(options().permit_user_environment, name)) {
        continue;
      }
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
    log_error("session for %s: %s", conn_->user().c_str(), error.c_str());
    return false;
  }
  Session s;
  s.proc = *proc;
  s.pidfd = open_pidfd(proc->pid);
  log_verbose("Starting session: %s for %s from %s port %u id %u", what.c_str(),
              conn_->user().c_str(), peer_.remote_ip.c_str(), peer_.remote_port, channel);
  sessions_[channel] = s;
  return true;
}

void Driver::signal_session(uint32_t channel, const std::string& name) {
  auto it = sessions_.find(channel);
  auto sig = signal_from_name(name);
  if (it != sessions_.end() && sig && !it->second.exited) kill_session(it->second.proc.pid, *sig);
}

void Driver::session_closed(uint32_t channel) {
  auto it = sessions_.find(channel);
  if (it == sessions_.end()) return;
  Session& s = it->second;
  close_fd(s.proc.stdin_fd);
  close_fd(s.proc.stdout_fd);
  close_fd(s.proc.stderr_fd);
  if (!s.exited) {
    kill_session(s.proc.pid, SIGHUP);
    reap(s);
  }
  close_fd(s.pidfd);
  sessions_.erase(it);
}

void Driver::reap(Session& s) {
  if (s.exited) return;
  int status = 0;
  pid_t r = waitpid(s.proc.pid, &status, WNOHANG);
  if (r == s.proc.pid) {
    s.exited = true;
    if (auto rep = decode_wait_status(status)) {
      s.exit.signaled = rep->signaled;
      s.exit.status = uint32_t(rep->exit_status);
      s.exit.signal_name = rep->signal_name;
      s.exit.core_dumped = rep->core_dumped;
    }
  }
}

void Driver::flush_log() {
  for (const auto& line : conn_->take_log()) {
    if (line.rfind("debug1: ", 0) == 0) {
      log_debug("%s", line.c_str() + 8);
    } else {
      log_info("%s", line.c_str());
    }
  }
}

// Moves what can move without blocking between the sessions' pipes and their channels.
void Driver::pump_sessions() {
  for (auto& [ch, s] : sessions_) {
    // Client -> program stdin.
    if (OutputQueue* in = conn_->input_queue(ch); in && s.proc.stdin_fd >= 0) {
      while (!in->pending().empty()) {
        ssize_t n = write(s.proc.stdin_fd, in->pending().data(), in->pending().size());
        if (n > 0) {
          conn_->drained_input(ch, size_t(n));
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN) {  // the program closed its stdin: drop the rest
          conn_->drained_input(ch, in->pending().size());
          close_fd(s.proc.stdin_fd);
        }
        break;
      }
      if (in->eof && in->pending().empty()) close_fd(s.proc.stdin_fd);
    }
  }
}

void Driver::run(transport::TransportConfig tc) {
  auth::ServerAuthLimits limits;
  limits.max_auth_tries = options().max_auth_tries;
  limits.pubkey_algorithms = options().pubkey_accepted_algorithms;
  ServerConnection conn(std::move(tc), authenticator_, limits, *this, peer_.remote_ip,
                        peer_.remote_port);
  conn_ = &conn;
  set_nonblocking(sock_);
  TimePoint start = Clock::now();
  TimePoint grace_deadline = options().login_grace_time
                                 ? start + std::chrono::seconds(options().login_grace_time)
                                 : TimePoint::max();
  conn.start(start);
  bool socket_open = true;
  bool was_authenticated = false;
  Bytes pipe_buf(kPipeReadSize);

  while (true) {
    transport::Transport& t = conn.transport();
    pump_sessions();
    // Finished sessions: exit known and output drained -> tell the client.
    for (auto& [ch, s] : sessions_) {
      if (!s.finished && s.exited && !s.stdout_open && !s.stderr_open) {
        s.finished = true;
        conn.session_finished(ch, s.exit);
      }
    }
    flush_log();
    if (!was_authenticated && conn.authenticated()) was_authenticated = true;
    bool net_pending = !t.pending_output().empty();
    if (!socket_open) break;
    if (t.closed() && !net_pending) break;

    std::vector<pollfd> fds;
    fds.push_back({sock_, short((t.closed() ? 0 : POLLIN) | (net_pending ? POLLOUT : 0)), 0});
    struct Slot {
      uint32_t ch;
      int kind;  // 0 stdout, 1 stderr, 2 stdin, 3 pidfd
    };
    std::vector<Slot> slots;
    for (auto& [ch, s] : sessions_) {
      bool room = conn.output_window(ch) > 0;
      if (room && s.proc.stdout_fd >= 0) {
        fds.push_back({s.proc.stdout_fd, POLLIN, 0});
        slots.push_back({ch, 0});
      }
      if (room && s.proc.stderr_fd >= 0) {
        fds.push_back({s.proc.stderr_fd, POLLIN, 0});
        slots.push_back({ch, 1});
      }
      OutputQueue* in = conn.input_queue(ch);
      if (in && !in->pending().empty() && s.proc.stdin_fd >= 0) {
        fds.push_back({s.proc.stdin_fd, POLLOUT, 0});
        slots.push_back({ch, 2});
      }
      if (!s.exited && s.pidfd >= 0) {
        fds.push_back({s.pidfd, POLLIN, 0});
        slots.push_back({ch, 3});
      }
    }
    TimePoint deadline = std::min(t.next_deadline(), conn.authenticated() ? TimePoint::max()
                                                                          : grace_deadline);
    bool need_reap_poll = false;
    for (auto& [ch, s] : sessions_) need_reap_poll |= !s.exited && s.pidfd < 0;
    int timeout = -1;
    if (deadline != TimePoint::max()) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      timeout = int(std::clamp<int64_t>(ms.count() + 1, 0, 3600 * 1000));
    }
    if (need_reap_poll) timeout = timeout < 0 ? 20 : std::min(timeout, 20);
    int rc = poll(fds.data(), nfds_t(fds.size()), timeout);
    if (rc < 0 && errno != EINTR) break;
    TimePoint now = Clock::now();
    if (!conn.authenticated() && now >= grace_deadline) {
      log_info("Timeout before authentication for %s port %u", peer_.remote_ip.c_str(),
               peer_.remote_port);
      t.disconnect(msg::DisconnectReason::kProtocolError, "Timeout before authentication");
      grace_deadline = TimePoint::max();
    }
    if (now >= t.next_deadline()) t.on_timeout(now);
    for (auto& [ch, s] : sessions_) {
      if (s.pidfd < 0) reap(s);
    }
    if (rc <= 0) continue;

    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      MutableByteView space = t.prepare_read(kSocketReadSize);
      ssize_t got = recv(sock_, space.data(), space.size(), 0);
      if (got > 0) {
        transport::Status s = t.commit_read(size_t(got), now);
        if (!s) {
          flush_log();
          if (const auto& pd = t.peer_disconnect()) {
            log_info("Received disconnect from %s port %u:%u: %s%s", peer_.remote_ip.c_str(),
                     peer_.remote_port, pd->reason, pd->description.c_str(),
                     conn.authenticated() ? "" : " [preauth]");
          } else {
            std::string who = conn.authenticated() ? "user " + conn.user() + " " : "";
            log_info("Disconnecting %s%s port %u: %s%s", who.c_str(), peer_.remote_ip.c_str(),
                     peer_.remote_port, s.message().c_str(),
                     conn.authenticated() ? "" : " [preauth]");
          }
        }
      } else {
        (void)t.commit_read(0, now);
        if (got == 0 || (errno != EAGAIN && errno != EINTR)) socket_open = false;
      }
    }
    if (socket_open && (fds[0].revents & POLLOUT)) {
      ByteView out = t.pending_output();
      ssize_t sent = send(sock_, out.data(), out.size(), MSG_NOSIGNAL);
      if (sent > 0) {
        t.consume_output(size_t(sent));
      } else if (sent < 0 && errno != EAGAIN && errno != EINTR) {
        socket_open = false;
      }
    }
    for (size_t i = 0; i < slots.size(); ++i) {
      short re = fds[i + 1].revents;
      if (!re) continue;
      auto it = sessions_.find(slots[i].ch);
      if (it == sessions_.end()) continue;
      Session& s = it->second;
      uint32_t ch = slots[i].ch;
      if (slots[i].kind == 3) {
        reap(s);
        continue;
      }
      if (slots[i].kind == 2) continue;  // stdin writable: pump_sessions() writes next round
      int& fd = slots[i].kind == 0 ? s.proc.stdout_fd : s.proc.stderr_fd;
      if (fd < 0) continue;
      size_t room = std::min(conn.output_window(ch), pipe_buf.size());
      if (room == 0) continue;
      ssize_t got = read(fd, pipe_buf.data(), room);
      if (got > 0) {
        ByteView data(pipe_buf.data(), size_t(got));
        if (slots[i].kind == 0) {
          conn.send_output(ch, data);
        } else {
          conn.send_stderr(ch, data);
        }
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        close_fd(fd);
        (slots[i].kind == 0 ? s.stdout_open : s.stderr_open) = false;
      }
    }
  }
  flush_log();
  for (auto& [ch, s] : sessions_) {
    close_fd(s.proc.stdin_fd);
    close_fd(s.proc.stdout_fd);
    close_fd(s.proc.stderr_fd);
    if (!s.exited) kill_session(s.proc.pid, SIGHUP);
    close_fd(s.pidfd);
  }
  if (was_authenticated) {
    log_info("Disconnected from user %s %s port %u", conn.user().c_str(), peer_.remote_ip.c_str(),
             peer_.remote_port);
  } else {
    log_info("Connection closed by %s port %u [preauth]", peer_.remote_ip.c_str(),
             peer_.remote_port);
  }
  conn_ = nullptr;
}

}  // namespace

void serve_connection(int sock, const PeerInfo& peer, const config::ServerOptions& options,
                      transport::TransportConfig transport_config) {
  Driver driver(sock, peer, options);
  driver.run(std::move(transport_config));
}

}  // namespace hashi::server
