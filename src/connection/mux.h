// ConnectionMux: the connection protocol (RFC 4254) for both roles, sans-I/O.
//
// The transport hands it whole decrypted payloads with message numbers 80-127 (on_message); it
// answers through a PayloadSink and tells the program what happened through a ConnectionHandler,
// called synchronously from on_message. Channels are numbered locally (our id, the one the
// program sees) and mapped to the peer's id. Each direction has its own flow-control window:
//  - receive: we grant `window_size` bytes; the program calls consume() as it processes data and
//    the mux returns the space with WINDOW_ADJUST once half the window has been consumed. A
//    program that does not consume stops the peer (backpressure). Data beyond the window, larger
//    than our maximum packet, or after the peer's EOF/CLOSE is a protocol error.
//  - send: send_data() sends at most the peer's window and returns how much it took; the program
//    keeps the rest and retries on on_window_available().
//
// Re-entrancy: handler callbacks may call any method of the mux. The PayloadSink must not call
// back into the mux (queue the payload; deliver it after send() returns).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection/messages.h"
#include "wire/bytes.h"
#include "wire/payload_sink.h"

namespace hashi::connection {

enum class Role { kClient, kServer };

// Defaults are OpenSSH's (CHAN_SES_WINDOW_DEFAULT = 64 * CHAN_SES_PACKET_DEFAULT = 2 MiB).
inline constexpr uint32_t kDefaultWindowSize = 2 * 1024 * 1024;
inline constexpr uint32_t kDefaultMaxPacket = 32 * 1024;
// Largest data chunk we put in one CHANNEL_DATA whatever the peer allows: with the 9-13 byte
// header it stays under the 35000-byte packet every transport must accept (RFC 4253 6.1).
inline constexpr uint32_t kMaxSendChunk = 32 * 1024;
// The largest window RFC 4254 section 5.2 allows (a uint32 on the wire).
inline constexpr uint64_t kMaxWindow = 0xffffffffu;

struct ConnLimits {
  // Channels open at once (either side opening); further peer opens get RESOURCE_SHORTAGE.
  uint32_t max_channels = 64;
  // Receive window we grant per channel.
  uint32_t window_size = kDefaultWindowSize;
  // Largest data payload we accept in one CHANNEL_DATA / EXTENDED_DATA.
  uint32_t max_packet = kDefaultMaxPacket;
  // Our own want_reply global requests outstanding at once (a bound on our bookkeeping).
  uint32_t max_pending_global = 64;
};

enum class ConnError {
  kNone = 0,
  kMalformed,          // a message that does not decode (truncated, trailing bytes, bad fields)
  kUnexpectedMessage,  // a message number the connection protocol does not define
  kUnknownChannel,     // a recipient channel that is not open (or still opening) on our side
  kWindowExceeded,     // data beyond the window we granted
  kPacketTooLarge,     // data larger than our maximum packet size
  kWindowOverflow,     // WINDOW_ADJUST taking the peer's window above 2^32-1
  kDataAfterEof,       // data after the peer's EOF
  kUnexpectedReply,    // SUCCESS/FAILURE (channel or global) with no request outstanding
};

// The outcome of on_message. On any error the caller disconnects with disconnect_reason() and
// `reason` as the description; the mux must not be used afterwards.
struct [[nodiscard]] ConnResult {
  ConnError error = ConnError::kNone;
  std::string reason;

  bool ok() const { return error == ConnError::kNone; }
  msg::DisconnectReason disconnect_reason() const { return msg::DisconnectReason::kProtocolError; }
};

// A handler's answer to a peer's open or request: yes, no, or "later" (then the program answers
// with confirm_open/reject_open, reply_request or reply_global). Converts from bool.
class Decision {
 public:
  enum class Kind : uint8_t { kNo, kYes, kDefer };
  Decision(bool yes) : kind_(yes ? Kind::kYes : Kind::kNo) {}  // NOLINT: implicit on purpose
  static Decision defer() { return Decision(Kind::kDefer); }
  Kind kind() const { return kind_; }
  bool deferred() const { return kind_ == Kind::kDefer; }
  bool yes() const { return kind_ == Kind::kYes; }

 private:
  explicit Decision(Kind k) : kind_(k) {}
  Kind kind_;
};

// Replies to the peer's want_reply requests outstanding (deferred, or decided but waiting behind
// a deferred one) per channel and for global requests; more is a flood and disconnects.
inline constexpr size_t kMaxPendingPeerReplies = 64;

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // The peer asks to open a channel; `channel` is the local id it will have. Return true to
  // confirm. False refuses it with ADMINISTRATIVELY_PROHIBITED (UNKNOWN_CHANNEL_TYPE for types
  // RFC 4254 / OpenSSH do not define). Decision::defer() leaves it opening until confirm_open or
  // reject_open. Data cannot be sent on the channel until it is confirmed.
  // A client-role mux refuses "session" opens itself (RFC 4254 section 6.1) without asking.
  virtual Decision on_open_request(uint32_t channel, std::string_view type,
                                   ByteView type_specific) = 0;
  // Our open_channel()/open_session() was confirmed / refused (then the id is free again).
  virtual void on_open_confirmed(uint32_t channel) {}
  virtual void on_open_failed(uint32_t channel, uint32_t reason, std::string_view description) {}
  // Data from the peer, valid only during the call. Call consume() once processed.
  virtual void on_data(uint32_t channel, ByteView data) = 0;
  // Extended data (type 1 = stderr), valid only during the call. Counts against the window too.
  virtual void on_extended_data(uint32_t channel, uint32_t type, ByteView data) = 0;
  virtual void on_eof(uint32_t channel) = 0;
  // Both sides have sent CLOSE; the id is free and may be reused by the next open.
  virtual void on_close(uint32_t channel) = 0;
  // The peer sent CLOSE before we did. Return true to hold our CLOSE reply (and the id) until
  // close(channel), e.g. until the data already delivered has reached the program, as OpenSSH
  // waits for a channel's output to drain (nchan.c CHAN_OUTPUT_WAIT_DRAIN). False (the
  // default): the reply goes out at once and on_close follows.
  virtual bool on_peer_close(uint32_t channel) { return false; }
  // The peer's window grew: more can be sent.
  virtual void on_window_available(uint32_t channel) {}
  // A channel request; return true for success. The mux replies SUCCESS/FAILURE if want_reply;
  // Decision::defer() waits for reply_request(channel, ok). Replies go out in request order.
  virtual Decision on_channel_request(uint32_t channel, const ChannelRequest& request,
                                      bool want_reply) = 0;
  // The reply to one of our want_reply channel requests, in order.
  virtual void on_request_reply(uint32_t channel, bool success) {}
  // A global request (keepalive@openssh.com, tcpip-forward, ...); false → REQUEST_FAILURE.
  // `id` names it for reply_global (which may be called during this call, e.g. to attach data);
  // Decision::defer() waits for reply_global. Replies go out in request order.
  virtual Decision on_global_request(uint64_t id, std::string_view name, ByteView data,
                                     bool want_reply) {
    return false;
  }
  // The reply to one of our want_reply global requests, in order; `data` is valid during the call.
  virtual void on_global_reply(bool success, ByteView data) {}
};

class ConnectionMux {
 public:
  ConnectionMux(PayloadSink& sink, Role role, ConnectionHandler& handler, ConnLimits limits = {});
  ConnectionMux(const ConnectionMux&) = delete;
  ConnectionMux& operator=(const ConnectionMux&) = delete;

  // on_message processes one payload (first byte = message number 80-127). On error the caller
  // must disconnect (see ConnResult); nothing has been delivered for the offending message.
  ConnResult on_message(ByteView payload);

  // open_channel sends CHANNEL_OPEN and returns the local id; on_open_confirmed/on_open_failed
  // follow. nullopt if max_channels are already open.
  std::optional<uint32_t> open_channel(std::string_view type, ByteView type_specific = {});
  std::optional<uint32_t> open_session() { return open_channel("session"); }

  // send_request sends CHANNEL_REQUEST; on_request_reply follows if want_reply. False if the
  // channel is not open (unconfirmed, unknown) or we already sent CLOSE.
  bool send_request(uint32_t channel, const ChannelRequest& request, bool want_reply);
  // send_global_request sends GLOBAL_REQUEST; on_global_reply follows if want_reply. False if
  // max_pending_global replies are already outstanding.
  bool send_global_request(std::string_view name, ByteView data, bool want_reply);

  // confirm_open / reject_open answer a deferred on_open_request. False if `channel` is not
  // waiting for an answer.
  bool confirm_open(uint32_t channel);
  bool reject_open(uint32_t channel, OpenFailureReason reason, std::string_view description);
  // reply_request answers the oldest deferred request of `channel`; replies decided meanwhile for
  // later requests follow it out. False if none is deferred.
  bool reply_request(uint32_t channel, bool success);
  // reply_global answers the deferred global request `id` (data: e.g. a bound port). False if
  // no such request waits.
  bool reply_global(uint64_t id, bool success, ByteView data = {});
  // True while `channel` has a deferred request the program has not answered.
  bool has_deferred_request(uint32_t channel) const;

  // send_data sends up to send_window(channel) bytes of `data`, split into messages no larger
  // than the peer's maximum packet, and returns how many bytes it took (0 if the channel is not
  // open or we sent EOF/CLOSE). Everything taken has been handed to the sink when it returns.
  size_t send_data(uint32_t channel, ByteView data);
  // send_extended_data: the same for EXTENDED_DATA of `type` (kExtendedDataStderr).
  size_t send_extended_data(uint32_t channel, uint32_t type, ByteView data);
  // Bytes the peer's window allows now (0 for a channel that cannot send).
  size_t send_window(uint32_t channel) const;

  // send_eof sends CHANNEL_EOF. Everything send_data accepted has already been sent, so no byte
  // is lost; data the program still holds in its own buffers is its business: send it first.
  // False if the channel is not open or EOF/CLOSE was already sent.
  bool send_eof(uint32_t channel);
  // close sends CHANNEL_CLOSE (once); nothing more is sent on the channel. on_close fires when
  // the peer's CLOSE arrives (at once, before close returns, if it already had: a held reply).
  // False if the channel is not open.
  bool close(uint32_t channel);
  // consume: the program has processed `n` bytes of data delivered on `channel` (clamped to what
  // was delivered). Sends WINDOW_ADJUST once half the window has been consumed.
  void consume(uint32_t channel, size_t n);

  // Channels in use (opening, open or closing).
  size_t open_channels() const;
  // True if `channel` is open for sending (confirmed, no EOF/CLOSE sent by us).
  bool can_send(uint32_t channel) const;
  Role role() const { return role_; }

 private:
  struct Channel {
    enum class State : uint8_t { kFree, kOpening, kConfirming, kOpen };
    State state = State::kFree;
    bool sent_eof = false;
    bool sent_close = false;
    bool got_eof = false;
    bool got_close = false;  // the peer's CLOSE, our reply held (on_peer_close)
    uint32_t peer_id = 0;
    uint32_t peer_max_packet = 0;
    uint64_t send_window = 0;      // never above kMaxWindow
    uint32_t recv_window = 0;      // bytes the peer may still send
    uint32_t recv_unconsumed = 0;  // delivered, not yet consumed
    uint32_t recv_consumed = 0;    // consumed, not yet returned by WINDOW_ADJUST
    uint32_t pending_replies = 0;  // our want_reply requests awaiting SUCCESS/FAILURE
    // Replies we owe the peer, in its request order: 0 = deferred, 1 = success, 2 = failure.
    std::deque<uint8_t> owed;
  };
  struct OwedGlobal {
    uint64_t id;
    uint8_t answer;  // as Channel::owed
    Bytes data;
  };

  Channel* find(uint32_t id);
  const Channel* find(uint32_t id) const;
  // A free slot (the lowest free id), growing the table up to max_channels; nullopt if full.
  std::optional<uint32_t> allocate();
  void release(uint32_t id);
  size_t send_data_common(uint32_t channel, bool extended, uint32_t type, ByteView data);
  // send_out sends out_ (the scratch encoding buffer).
  void send_out();

  ConnResult on_global_request(ByteView payload);
  ConnResult on_global_reply(ByteView payload, bool success);
  ConnResult on_open(ByteView payload);
  ConnResult on_open_confirmation(ByteView payload);
  ConnResult on_open_failure(ByteView payload);
  ConnResult on_window_adjust(ByteView payload);
  ConnResult on_data(ByteView payload, bool extended);
  ConnResult on_eof(ByteView payload);
  ConnResult on_close(ByteView payload);
  ConnResult on_request(ByteView payload);
  ConnResult on_request_reply(ByteView payload, bool success);
  // Sends the replies at the front of the queues that are decided.
  void flush_channel_replies(uint32_t id);
  void flush_global_replies();
  void send_open_confirmation(uint32_t id);
  // The open channel a message addresses, or nullptr (then the message is a protocol error).
  Channel* open_channel_for(uint32_t recipient);

  PayloadSink& sink_;
  Role role_;
  ConnectionHandler& handler_;
  ConnLimits limits_;
  std::vector<Channel> channels_;  // indexed by local id
  size_t num_in_use_ = 0;
  uint32_t pending_global_ = 0;
  uint64_t next_global_id_ = 0;
  std::deque<OwedGlobal> owed_global_;
  Bytes out_;                             // scratch for control messages, reused
  std::array<uint8_t, 13> data_header_;  // byte, uint32 recipient, [uint32 type], uint32 length
};

}  // namespace hashi::connection
