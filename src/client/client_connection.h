// ClientConnection: one client connection as a sans-I/O core — transport, user authentication and
// one session channel running a command (or a shell), or no channel at all (-N), wired together.
// Superseded by session::Session (client role) + client::Client, which the hashi program uses;
// kept only for the in-memory tests of tests/session/session_pair.h until they are ported.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/client_auth.h"
#include "client/hostkeys_update.h"
#include "connection/mux.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "wire/byte_queue.h"

namespace hashi::client {

struct ClientConnectionConfig {
  transport::TransportConfig transport;
  std::string user;
  std::vector<std::shared_ptr<const keys::PrivateKey>> identities;
  std::optional<std::string> command;  // nullopt: the user's shell
  // -N (SessionType none): authenticate, open no channel, stay until the server or the user
  // ends the connection.
  bool no_session = false;
  std::vector<std::pair<std::string, std::string>> env;
};

using OutputQueue = ByteQueue;

class ClientConnection final : public transport::TransportListener,
                               public connection::ConnectionHandler {
 public:
  using HostKeyCheck = std::function<transport::Status(const keys::PublicKey&)>;
  using DebugLog = std::function<void(int level, const std::string& message)>;

  ClientConnection(ClientConnectionConfig config, HostKeyCheck check, DebugLog debug);

  // Enables UpdateHostKeys handling (off unless set, and once a key was accepted untrusted).
  void set_hostkeys_hooks(HostKeysHooks hooks) { hostkeys_ = std::move(hooks); }
  ~ClientConnection() override;

  void start(TimePoint now);
  transport::Transport& transport() { return *transport_; }

  // Standard input: true while the remote side can take more.
  bool wants_stdin() const;
  // Sends up to the channel window; returns the bytes taken.
  size_t write_stdin(ByteView data);
  // Our stdin reached EOF: sends CHANNEL_EOF (everything written before has been sent).
  void stdin_eof();

  OutputQueue& stdout_queue() { return stdout_; }
  OutputQueue& stderr_queue() { return stderr_; }
  // The driver wrote `n` bytes of stdout/stderr: return them to the channel window.
  void drained_stdout(size_t n);
  void drained_stderr(size_t n);

  // Whether a session channel is (to be) opened; false with -N.
  bool has_session() const { return !config_.no_session; }
  // The user asked to leave (-N: SIGINT/SIGTERM): disconnects; exit_status() becomes 0.
  void close_by_user();

  // The session channel closed (or never opened) and the connection can end.
  bool finished() const { return finished_; }
  // The remote command's exit status; 255 if none arrived (signal, error).
  int exit_status() const { return exit_status_; }
  // Set when the connection failed at the protocol or authentication level.
  const std::string& error() const { return error_; }

  // TransportListener
  std::optional<transport::Status> check_host_key(const keys::PublicKey& key) override;
  void on_kex_complete(bool first) override;
  void on_server_sig_algs(const std::vector<std::string>& algorithms) override;
  transport::Status on_message(ByteView payload) override;
  void on_debug(int level, const std::string& message) override;
  void on_closed(const transport::Status& why) override;

  // ConnectionHandler
  connection::Decision on_open_request(uint32_t, std::string_view,
                                       ByteView) override { return false; }
  void on_open_confirmed(uint32_t channel) override;
  void on_open_failed(uint32_t channel, uint32_t reason, std::string_view description) override;
  void on_data(uint32_t channel, ByteView data) override;
  void on_extended_data(uint32_t channel, uint32_t type, ByteView data) override;
  void on_eof(uint32_t channel) override;
  void on_close(uint32_t channel) override;
  connection::Decision on_channel_request(uint32_t channel,
                                          const connection::ChannelRequest& request, bool) override;
  void on_request_reply(uint32_t channel, bool success) override;
  connection::Decision on_global_request(uint64_t, std::string_view name, ByteView data,
                                         bool) override;
  void on_global_reply(bool success, ByteView data) override;

 private:
  void finish(const std::string& error);
  void on_hostkeys(ByteView data);

  ClientConnectionConfig config_;
  HostKeyCheck host_key_check_;
  DebugLog debug_;
  std::unique_ptr<transport::Transport> transport_;
  std::unique_ptr<auth::ClientAuth> auth_;
  std::unique_ptr<connection::ConnectionMux> mux_;
  bool authenticated_ = false;
  std::optional<uint32_t> channel_;
  bool channel_open_ = false;
  bool stdin_closed_ = false;
  bool eof_sent_ = false;
  bool finished_ = false;
  int exit_status_ = 255;
  std::string error_;
  OutputQueue stdout_, stderr_;
  HostKeysHooks hostkeys_;
  bool hostkeys_seen_ = false;                   // one announcement per connection
  std::optional<std::vector<keys::PublicKey>> hostkeys_offered_;  // awaiting the proof
  std::vector<keys::PublicKey> hostkeys_to_prove_;
  bool finish_after_prove_ = false;  // the session ended while a proof was outstanding
};

}  // namespace hashi::client
