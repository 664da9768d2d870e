// ServerConnection: one server-side connection as a sans-I/O core — transport, user
// authentication and session channels. What a channel runs (a process) is the driver's business,
// reached through SessionHost; the core only moves bytes and decisions.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/server_auth.h"
#include "connection/mux.h"
#include "transport/transport.h"
#include "wire/byte_queue.h"

namespace hashi::server {

using OutputQueue = ByteQueue;

// What a session channel asks the program to run.
struct SessionStart {
  std::optional<std::string> command;  // nullopt: the login shell
  std::optional<std::string> subsystem;
  std::vector<std::pair<std::string, std::string>> env;
};

// How a channel's program ended (RFC 4254 section 6.10).
struct SessionExit {
  bool signaled = false;
  uint32_t status = 0;
  std::string signal_name;  // without "SIG"
  bool core_dumped = false;
};

class SessionHost {
 public:
  virtual ~SessionHost() = default;
  // Starts what the channel asked for; false refuses the request.
  virtual bool start_session(uint32_t channel, const SessionStart& start) = 0;
  // A "signal" request for the channel's program.
  virtual void signal_session(uint32_t channel, const std::string& name) {}
  // The channel is gone: release what the program holds for it.
  virtual void session_closed(uint32_t channel) = 0;
  // Whether the client may set environment variable `name` (AcceptEnv; none by default).
  virtual bool accept_env(const std::string& name) { return false; }
  // Whether one more session channel may open while `open_sessions` are open (MaxSessions).
  virtual bool may_open_session(size_t open_sessions) { return true; }
};

class ServerConnection final : public transport::TransportListener,
                               public connection::ConnectionHandler {
 public:
  ServerConnection(transport::TransportConfig config, auth::Authenticator& authenticator,
                   auth::ServerAuthLimits limits, SessionHost& host, std::string peer_address,
                   uint16_t peer_port);
  ~ServerConnection() override;

  void start(TimePoint now);
  transport::Transport& transport() { return *transport_; }
  bool authenticated() const { return authenticated_; }
  const std::string& user() const { return user_; }
  // The options of the authorized_keys entry that let the user in (command=, environment=,
  // no-pty, ...); defaults before authentication.
  const keys::KeyOptions& key_options() const { return key_options_; }

  // Data the client sent to channel `ch`, waiting for the program's stdin.
  OutputQueue* input_queue(uint32_t ch);
  // The driver wrote `n` bytes of input to the program.
  void drained_input(uint32_t ch, size_t n);
  // Bytes the channel can take now from the program's output.
  size_t output_window(uint32_t ch) const;
  // The program's stdout / stderr data; returns what was taken (up to output_window).
  size_t send_output(uint32_t ch, ByteView data);
  size_t send_stderr(uint32_t ch, ByteView data);
  // The program closed its output and ended: sends EOF, exit-status/exit-signal and CLOSE.
  void session_finished(uint32_t ch, const SessionExit& exit);
  // Channels that are open.
  std::vector<uint32_t> channels() const;

  // Log lines for the driver (OpenSSH wording), collected as they happen.
  std::vector<std::string> take_log();

  // TransportListener
  void on_kex_complete(bool first) override;
  transport::Status on_message(ByteView payload) override;
  void on_debug(int level, const std::string& message) override;
  void on_closed(const transport::Status& why) override;

  // ConnectionHandler
  connection::Decision on_open_request(uint32_t channel, std::string_view type, ByteView type_specific) override;
  void on_data(uint32_t channel, ByteView data) override;
  void on_extended_data(uint32_t channel, uint32_t type, ByteView data) override;
  void on_eof(uint32_t channel) override;
  void on_close(uint32_t channel) override;
  connection::Decision on_channel_request(uint32_t channel, const connection::ChannelRequest& request, bool) override;
  connection::Decision on_global_request(uint64_t, std::string_view name, ByteView data, bool) override;

 private:
  struct Channel {
    OutputQueue input;
    std::vector<std::pair<std::string, std::string>> env;
    bool started = false;
  };

  transport::TransportConfig config_;
  auth::Authenticator& authenticator_;
  SessionHost& host_;
  std::unique_ptr<transport::Transport> transport_;
  std::unique_ptr<auth::ServerAuth> auth_;
  std::unique_ptr<connection::ConnectionMux> mux_;
  bool authenticated_ = false;
  void announce_hostkeys();
  void answer_hostkeys_prove(ByteView data);

  std::string user_;
  keys::KeyOptions key_options_;
  std::string peer_address_;
  uint16_t peer_port_;
  std::map<uint32_t, Channel> channels_;
  std::vector<std::string> log_;
};

}  // namespace hashi::server
