// Session: the core of one SSH connection, for both roles, sans-I/O.
//
// It owns the Transport, the user-authentication state machine (client or server) and the
// channel mux, routes every message between them, and exposes what happens as Events and what
// can be done as methods. It never touches a socket, a clock, a process or a file: the driver
// (src/net) moves bytes, the program's policy answers questions.
//
// Bytes:   feed(data, now) / prepare_read + commit_read   — what the peer sent
//          pending_output() / consume_output(n)          — what to write to the peer
// Time:    next_deadline() / on_timeout(now)
// Events:  next_event() pops what happened, in order (see Event). Questions (auth decisions,
//          host-key checks and signatures, channel opens, channel requests) carry an id or a
//          channel and are answered later through the matching answer_* / accept_* / reply_*
//          method — now, after more input has arrived, or never (then the peer waits, and the
//          grace timer of the program ends it). Answers may come in any order across questions
//          of different kinds; replies to channel requests go out in the order the peer sent
//          the requests, as RFC 4254 section 4 requires, whatever order they are given in.
//
// Channels: numbered locally (the id the program sees). Data from the peer is kept per channel
// (bounded by the receive window we grant) until the program reads it with channel_input() and
// consume_input(); only consumed bytes re-open the peer's window, so a program that stops
// reading stops the peer, and memory stays bounded by the windows. send() takes at most
// send_window() bytes. Whether a channel's endpoint may produce more is writable(): the
// peer's window has room AND the connection's unsent output is under kOutputHighWater — a peer
// that stops reading makes every channel non-writable, not the output grow.
//
// Re-entrancy: methods may be called at any time between feeds, including while events are
// still queued. No method calls back into the caller.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "auth/types.h"
#include "connection/messages.h"
#include "connection/mux.h"
#include "keys/authorized_keys.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "wire/bytes.h"
#include "wire/time.h"

namespace hashi::session {

using transport::Role;
using transport::Status;

// Unsent output above which channels stop being writable (the driver also stops reading the
// socket above kOutputHardLimit, so even control replies cannot grow it without bound).
inline constexpr size_t kOutputHighWater = 1024 * 1024;
inline constexpr size_t kOutputHardLimit = 4 * 1024 * 1024;
// Upper-layer messages held while an authentication decision is outstanding (the peer may
// pipeline); more disconnects.
inline constexpr size_t kMaxHeldMessages = 256;
inline constexpr size_t kMaxHeldBytes = 1024 * 1024;

struct SessionConfig {
  Role role = Role::kClient;
  transport::TransportConfig transport;
  connection::ConnLimits channels;

  // Client.
  std::string user;
  std::vector<std::shared_ptr<const keys::PrivateKey>> identities;

  // Server.
  // The peer's address and port, for the authentication log lines ("... from ADDR port N").
  std::string peer_address;
  uint16_t peer_port = 0;
  uint32_t max_auth_tries = 6;
  std::vector<std::string> pubkey_algorithms;  // empty: the auth layer's defaults
  // Host keys whose private halves live elsewhere: the exchange hash's signature is asked for
  // with SignQuery. When transport.host_keys holds private keys, the Session signs itself and no
  // SignQuery is emitted; only those keys are announced (hostkeys-00) and proved
  // (hostkeys-prove-00), since a proof needs the private key.
  std::vector<keys::PublicKey> host_public_keys;
};

// ---- Events ----------------------------------------------------------------------------------

// Client: the server's host key (its signature over the exchange hash verified). Answer with
// answer_host_key(id, status); the key exchange waits.
struct HostKeyQuery {
  uint64_t id;
  keys::PublicKey key;
};
// Server: sign `data` (the exchange hash) with `key` using `algorithm`. Answer with
// answer_signature(id, signature) or fail_signature(id).
struct SignQuery {
  uint64_t id;
  keys::PublicKey key;
  std::string algorithm;
  Bytes data;
};
// Server: may `user` log in at all (exists, allowed by AllowUsers, ...)? answer_user(id, bool).
struct UserQuery {
  uint64_t id;
  std::string user;
};
// Server: does an authorized_keys entry let `user` in with `key`? answer_key(id, options or
// nullopt). Asked for unknown users too (same path, no enumeration); the answer is then ignored.
struct KeyQuery {
  uint64_t id;
  std::string user;
  keys::PublicKey key;
};
// Authentication finished (both roles).
struct Authenticated {
  std::string user;
  auth::AuthMethod method = auth::AuthMethod::kPublickey;
  keys::KeyOptions key_options;  // server: the authorized_keys entry's options
};
// Server: log lines of the authentication layer in OpenSSH's wording ("Accepted publickey...").
// Client: banners and ssh -v style diagnostics. level 0 = info, 1..3 = debug levels.
struct LogLine {
  int level = 0;
  std::string text;
};
// The peer asks to open a channel `channel` (our id). Answer accept_channel(channel) or
// reject_channel(channel, reason, description).
struct ChannelOpenRequest {
  uint32_t channel;
  std::string type;
  Bytes type_specific;
};
// Our open_channel() was confirmed / refused.
struct ChannelOpened {
  uint32_t channel;
};
struct ChannelOpenFailed {
  uint32_t channel;
  uint32_t reason;
  std::string description;
};
// A channel request from the peer. If want_reply, answer reply_request(channel, ok) (replies go
// out in the peer's order).
struct ChannelRequestEvent {
  uint32_t channel;
  connection::ChannelRequest request;
  bool want_reply = false;
};
// The reply to one of our want_reply channel requests, in order.
struct ChannelRequestReply {
  uint32_t channel;
  bool success;
};
// channel_input(channel) has new bytes (stream 0 = data, 1 = stderr / extended data type 1).
struct ChannelInput {
  uint32_t channel;
};
// The channel became writable again (window opened or output drained under the high-water mark).
struct ChannelWritable {
  uint32_t channel;
};
// The peer sent EOF: after the queued input, nothing more comes.
struct ChannelEof {
  uint32_t channel;
};
// Both sides sent CLOSE. When the peer's CLOSE comes while the channel still holds input, our
// CLOSE reply (and this event) wait until that input was consumed (consume_input) or the program
// closed the channel itself (close_channel drops it), so a clean close loses no byte, as OpenSSH
// drains a channel's output before answering CLOSE. Input still queued when this event is popped
// is dropped and the id is free.
struct ChannelClosed {
  uint32_t channel;
};
// A global request from the peer; answer reply_global(id, ok, data) if want_reply.
struct GlobalRequest {
  uint64_t id;
  std::string name;
  Bytes data;
  bool want_reply = false;
};
// The reply to one of our want_reply global requests, in order (data: e.g. a bound port).
struct GlobalReply {
  bool success;
  Bytes data;
};
// The connection is over (our error, the peer's DISCONNECT, or disconnect()). Last event.
struct Closed {
  Status why;
  bool by_peer = false;  // the peer sent DISCONNECT
};

using Event = std::variant<HostKeyQuery, SignQuery, UserQuery, KeyQuery, Authenticated, LogLine,
                           ChannelOpenRequest, ChannelOpened, ChannelOpenFailed,
                           ChannelRequestEvent, ChannelRequestReply, ChannelInput, ChannelWritable,
                           ChannelEof, ChannelClosed, GlobalRequest, GlobalReply, Closed>;

class Session {
 public:
  explicit Session(SessionConfig config);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Queues our version line and first KEXINIT. Call once.
  void start(TimePoint now);

  // ---- bytes and time ----
  Status feed(ByteView data, TimePoint now);
  MutableByteView prepare_read(size_t max);
  Status commit_read(size_t n, TimePoint now);
  ByteView pending_output() const;
  void consume_output(size_t n);
  TimePoint next_deadline() const;
  void on_timeout(TimePoint now);
  // The driver should read the socket only while this is true (unsent output under
  // kOutputHardLimit, the transport open, no host-key, signature or authentication answer
  // outstanding: what arrives meanwhile is only buffered).
  bool wants_input() const;
  // True once closed and everything pending was handed out.
  bool finished() const;
  bool closed() const;
  void disconnect(msg::DisconnectReason reason, const std::string& description);

  // ---- events ----
  std::optional<Event> next_event();
  bool has_events() const;

  // ---- answers to questions (an id that is not the outstanding question's is ignored) ----
  void answer_host_key(uint64_t id, Status verdict);
  void answer_signature(uint64_t id, Bytes signature);
  void fail_signature(uint64_t id);
  // `max_auth_tries`, when given, replaces SessionConfig::max_auth_tries from then on (a Match
  // block for the user may set MaxAuthTries, known only once the user is).
  void answer_user(uint64_t id, bool may_log_in, std::optional<uint32_t> max_auth_tries = {});
  void answer_key(uint64_t id, std::optional<keys::KeyOptions> options);

  // ---- channels ----
  // Client or server: opens a channel of `type`; ChannelOpened / ChannelOpenFailed follow.
  std::optional<uint32_t> open_channel(std::string_view type, ByteView type_specific = {});
  void accept_channel(uint32_t channel);
  void reject_channel(uint32_t channel, connection::OpenFailureReason reason,
                      std::string_view description);
  bool send_request(uint32_t channel, const connection::ChannelRequest& request, bool want_reply);
  // Answers the oldest unanswered want_reply request of `channel`.
  void reply_request(uint32_t channel, bool success);
  bool send_global_request(std::string_view name, ByteView data, bool want_reply);
  void reply_global(uint64_t id, bool success, ByteView data = {});

  // Input queued for the channel on `stream` (0 data, 1 extended/stderr); consume_input returns
  // window to the peer.
  ByteView channel_input(uint32_t channel, int stream = 0) const;
  void consume_input(uint32_t channel, int stream, size_t n);
  bool input_eof(uint32_t channel) const;  // EOF received and all data consumed
  // Output: bytes the channel may send now (0 when not writable); send/send_stderr take at most
  // that much and return what they took.
  size_t send_window(uint32_t channel) const;
  bool writable(uint32_t channel) const { return send_window(channel) > 0; }
  size_t send(uint32_t channel, ByteView data);
  size_t send_stderr(uint32_t channel, ByteView data);
  bool send_eof(uint32_t channel);
  bool close_channel(uint32_t channel);
  std::vector<uint32_t> channels() const;

  // ---- state ----
  Role role() const;
  bool authenticated() const;
  const std::string& user() const;
  transport::Transport& transport();
  const transport::Transport& transport() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hashi::session
