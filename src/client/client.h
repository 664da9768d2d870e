// Client: one client connection on the net::Driver — any number of session channels (exec or
// shell, each bound to descriptors), or none (-N), with the client's policy around the client-role
// session::Session: debug lines and banners, exit status / exit signal per channel, and
// UpdateHostKeys (hostkeys-00@openssh.com, proved with hostkeys-prove-00 before anything is
// learned). Host-key verification is the caller's session::HostKeyVerifier (HostTrustVerifier).
//
// Threading: the driver's thread; every method is called there (before io.run() or from it).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/host_trust.h"
#include "client/hostkeys_update.h"
#include "keys/key.h"
#include "net/driver.h"
#include "session/policy.h"

namespace hashi::client {

// What one session channel runs, and where its bytes go.
struct SessionSpec {
  std::optional<std::string> command;  // nullopt: the user's shell
  std::vector<std::pair<std::string, std::string>> env;
  // stdin (read_fd, -1: EOF at once), stdout and stderr of the remote command; owned by the
  // channel's endpoint once the channel opens (closed by the Client if it never does).
  net::PipeFds fds;
};

// How one session channel ended.
struct SessionOutcome {
  bool opened = false;
  bool closed = false;
  std::optional<uint32_t> exit_status;   // exit-status (RFC 4254 section 6.10)
  std::optional<std::string> exit_signal;  // exit-signal's name
  std::string error;  // open refused, exec/shell refused
};

// HostTrustVerifier answers the Session's host-key question from known_hosts (HostTrust); it may
// prompt on the terminal, synchronously, as ssh does.
class HostTrustVerifier final : public session::HostKeyVerifier {
 public:
  HostTrustVerifier(HostTrust& trust, bool verbose) : trust_(trust), verbose_(verbose) {}
  void check(const keys::PublicKey& key, std::function<void(session::Status)> done) override {
    done(trust_.check(key, verbose_));
  }

 private:
  HostTrust& trust_;
  bool verbose_;
};

class Client final : public net::ConnectionHandler {
 public:
  using Log = std::function<void(int level, const std::string& message)>;

  // `log` gets debug lines (level >= 1) and banners (level 0, printed as they are);
  // `host_key_algorithms` are the ones offered (keys of other types are not learned, and RSA
  // proofs may use SHA-1 only if no rsa-sha2-* was offered).
  Client(Log log, std::vector<std::string> host_key_algorithms);
  ~Client() override;

  // add_session queues a session channel, opened once authenticated (at once if already);
  // returns its index for outcome(). With no session added the connection stays up until the
  // server or stop() ends it (-N).
  size_t add_session(SessionSpec spec);
  // Enables UpdateHostKeys handling.
  void set_hostkeys_hooks(HostKeysHooks hooks) { hostkeys_ = std::move(hooks); }
  // When every session channel has closed (if there was one), disconnect (default true).
  void set_disconnect_when_done(bool yes) { disconnect_when_done_ = yes; }

  // start adds the connection to `driver` over `socket`.
  void start(net::Driver& driver, net::Socket socket, session::SessionConfig config,
             session::Policies policies);
  // stop ends the connection cleanly (DISCONNECT "disconnected by user"); a user's stop is no
  // error.
  void stop();

  const SessionOutcome& outcome(size_t index) const { return sessions_[index].outcome; }
  size_t num_sessions() const { return sessions_.size(); }
  // Empty unless the connection ended with an error before everything asked was done.
  const std::string& error() const { return error_; }
  // True once the connection is over (on_finished).
  bool finished() const { return finished_; }
  net::Connection* connection() { return connection_.get(); }

  void on_event(net::Connection& connection, session::Event& event) override;
  void on_finished(net::Connection& connection) override;

 private:
  struct SessionState {
    SessionSpec spec;
    SessionOutcome outcome;
    std::optional<uint32_t> channel;
    bool fds_taken = false;
  };

  void open_sessions();
  SessionState* by_channel(uint32_t channel);
  void on_opened(uint32_t channel);
  void on_request(const session::ChannelRequestEvent& request);
  void on_hostkeys(const Bytes& data);
  void on_global_reply(const session::GlobalReply& reply);
  bool all_sessions_done() const;
  void maybe_done();
  void close_unused_fds();

  Log log_;
  std::vector<std::string> host_key_algorithms_;
  std::vector<SessionState> sessions_;
  std::shared_ptr<net::Connection> connection_;
  bool authenticated_ = false;
  bool disconnect_when_done_ = true;
  bool done_ = false;  // we disconnected on purpose (sessions done, stop())
  bool finished_ = false;
  std::string error_;
  HostKeysHooks hostkeys_;
  bool hostkeys_seen_ = false;  // one announcement per connection
  std::optional<std::vector<keys::PublicKey>> hostkeys_offered_;  // awaiting the proof
  std::vector<keys::PublicKey> hostkeys_to_prove_;
  bool done_after_prove_ = false;  // the sessions ended while a proof was outstanding
};

}  // namespace hashi::client
