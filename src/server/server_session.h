// The server's side of one connection on the shared session core and Asio driver: the policy
// (who may log in, what a session channel runs) and the wiring (channel opens and requests to
// spawned programs, the grace timer, sshd-worded log lines). The protocol itself is
// session::Session's; the byte moving is net::Connection's.
#pragma once

#include <asio.hpp>

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/server_config.h"
#include "net/driver.h"
#include "server/key_authenticator.h"
#include "session/policy.h"
#include "transport/transport.h"

namespace hashi::server {

struct PeerInfo {
  std::string remote_ip;
  uint16_t remote_port = 0;
  std::string local_ip;
  uint16_t local_port = 0;
};

// ServerPolicy answers the Session's authentication questions with KeyAuthenticator (the system's
// users, AllowUsers/DenyUsers/..., PermitRootLogin, AuthorizedKeysFile, RevokedKeys, Match). It
// answers at once; the interface would let a privileged monitor answer later.
class ServerPolicy final : public session::Authenticator {
 public:
  ServerPolicy(const config::ServerOptions& options, const PeerInfo& peer)
      : keys_(options, {peer.remote_ip, peer.local_ip, peer.local_port}) {}

  void check_user(const std::string& user, std::function<void(bool)> done) override;
  void check_key(const std::string& user, const keys::PublicKey& key,
                 std::function<void(std::optional<keys::KeyOptions>)> done) override;
  std::optional<uint32_t> max_auth_tries() const override { return keys_.max_auth_tries(); }

  // The options in force (Match blocks for the user applied once check_user ran).
  const config::ServerOptions& options() const { return keys_.options(); }

 private:
  KeyAuthenticator keys_;
};

// What a session channel asks to run.
struct SessionStart {
  std::optional<std::string> command;  // nullopt: the login shell
  std::optional<std::string> subsystem;
  std::vector<std::pair<std::string, std::string>> env;
};

// ServerHandler handles what the driver passes up for one connection: session channel opens
// (MaxSessions), env / exec / shell / subsystem / signal requests, the authentication log lines,
// LoginGraceTime, and the connection's end in sshd's words.
class ServerHandler final : public net::ConnectionHandler {
 public:
  ServerHandler(asio::io_context& io, const ServerPolicy& policy, PeerInfo peer);

  // Arms the LoginGraceTime timer for `connection` (call after starting it).
  void start(net::Connection& connection);

  void on_event(net::Connection& connection, session::Event& event) override;
  void on_finished(net::Connection& connection) override;

  bool finished() const { return finished_; }

  // ForceCommand (config) wins over the key's command=; either replaces what the client asked
  // for (exec, shell or subsystem), which the command then finds in SSH_ORIGINAL_COMMAND.
  // Returns how the session is described in the log ("command 'ls'", "shell", ...).
  static std::string session_command(const std::string& force_command,
                                     const keys::KeyOptions& key_options,
                                     const SessionStart& start,
                                     std::optional<std::string>& command,
                                     std::string& original_command);

 private:
  struct Channel {
    std::vector<std::pair<std::string, std::string>> env;
    bool started = false;
    pid_t pid = -1;
    std::shared_ptr<bool> exited;  // set by the endpoint's on_exit
  };

  const config::ServerOptions& options() const { return policy_.options(); }
  void on_channel_request(net::Connection& c, session::ChannelRequestEvent& request);
  bool start_session(net::Connection& c, uint32_t channel, const SessionStart& start);
  bool accept_env(const std::string& name) const;
  void drop_unclaimed_input(session::Session& s, uint32_t channel);
  void log_closed(net::Connection& c, const session::Closed& closed);

  void program_exited();

  asio::io_context& io_;
  asio::steady_timer grace_timer_;  // LoginGraceTime, then the wait for programs to be reaped
  const ServerPolicy& policy_;
  PeerInfo peer_;
  std::string user_;
  keys::KeyOptions key_options_;
  bool authenticated_ = false;
  bool we_ended_ = false;  // we ended the connection (grace timeout): no "Disconnecting" line
  bool finished_ = false;
  size_t running_programs_ = 0;
  std::map<uint32_t, Channel> channels_;
};

// Serves one accepted connection (socket descriptor `fd`, owned from then on) until it ends and
// its programs were told; runs its own io_context. Logs in sshd's words.
void serve_connection(int fd, const PeerInfo& peer, const config::ServerOptions& options,
                      transport::TransportConfig transport_config);

}  // namespace hashi::server
