// The SSH transport layer (RFC 4253) as a sans-I/O state machine: bytes in, bytes out.
//
// The caller feeds bytes read from the peer (feed) with the current time and writes out what
// pending_output() holds. Decrypted messages for the upper layers (service request/accept and
// numbers 50 and up) are handed to the TransportListener during feed(). Upper layers send through
// the PayloadSink interface; while a key exchange is running their messages are queued, not
// dropped, and released when it completes (RFC 4253 section 7.1).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keys/key.h"
#include "transport/kex.h"
#include "transport/kexinit.h"
#include "transport/packet_cipher.h"
#include "transport/status.h"
#include "transport/version.h"
#include "wire/bytes.h"
#include "wire/payload_sink.h"
#include "wire/time.h"

namespace hashi::transport {

// Largest packet_length we accept (OpenSSH's PACKET_MAX_SIZE); RFC 4253 requires 35000.
inline constexpr uint32_t kMaxPacketLength = 256 * 1024;
// Bytes of upper-layer messages we hold while a key exchange runs before asking the caller to
// stop producing (the connection layer's windows bound it in practice).
inline constexpr size_t kMaxQueuedDuringKex = 8 * 1024 * 1024;
// Re-key after this many bytes in either direction when RekeyLimit does not say otherwise
// (OpenSSH's default for 128-bit block ciphers is of the same order).
inline constexpr uint64_t kDefaultRekeyBytes = uint64_t(1) << 30;
// Re-key long before 2^32 packets so sequence numbers never repeat under one key.
inline constexpr uint64_t kRekeyPackets = uint64_t(1) << 31;
// Peer bytes we buffer unprocessed while waiting for a host-key verdict or signature: a peer may
// have a rekey's worth of channel data in flight, no more (drivers stop reading meanwhile).
inline constexpr size_t kMaxInputWhileWaiting = kMaxQueuedDuringKex;

struct TransportConfig {
  Role role = Role::kClient;
  std::vector<std::string> kex_algorithms;
  std::vector<std::string> host_key_algorithms;
  std::vector<std::string> ciphers;
  std::vector<std::string> macs;
  // Server: the host keys; only algorithms with a key are offered. The transport signs with
  // these itself.
  std::vector<std::shared_ptr<const keys::PrivateKey>> host_keys;
  // Server: host keys whose private halves live elsewhere (a privileged monitor): the exchange
  // hash is handed to TransportListener::on_sign_request and the transport waits for
  // answer_signature() / fail_signature().
  std::vector<keys::PublicKey> host_public_keys;
  uint64_t rekey_bytes = 0;            // 0: kDefaultRekeyBytes
  Duration rekey_interval{};           // zero: no time limit
  std::string software_version{kSoftwareVersion};
  GexRequest gex;
  // Server: the public-key signature algorithms announced in server-sig-algs (RFC 8308);
  // empty means the host-key algorithm list.
  std::vector<std::string> server_sig_algs;
};

// What the transport tells the layer above it.
class TransportListener {
 public:
  virtual ~TransportListener() = default;
  // Client: the server's host key after its signature over the exchange verified; return an
  // error to refuse it (the transport disconnects with that reason), or nullopt to decide later
  // with Transport::answer_host_key() (input is buffered, not processed, until then).
  virtual std::optional<Status> check_host_key(const keys::PublicKey& key) { return Status::ok(); }
  // Server: sign `data` (the exchange hash) with the host key `key` (one of host_public_keys)
  // using `algorithm`; answer with Transport::answer_signature() or fail_signature(), now or
  // later (input is buffered, not processed, until then).
  virtual void on_sign_request(const keys::PublicKey& key, const std::string& algorithm,
                               ByteView data) {}
  // A key exchange finished (first = the initial one; upper layers may start then).
  virtual void on_kex_complete(bool first) {}
  // Client: the server-sig-algs extension (RFC 8308 section 3.1) arrived.
  virtual void on_server_sig_algs(const std::vector<std::string>& algorithms) {}
  // SERVICE_REQUEST/ACCEPT and every message numbered 50 or higher, decrypted. The view is valid
  // only during the call. An error disconnects.
  virtual Status on_message(ByteView payload) = 0;
  // The transport closed (our error, the peer's DISCONNECT, or our own disconnect()); called once.
  // Upper layers release what they hold: no more messages will come.
  virtual void on_closed(const Status& why) {}
  // Diagnostics in the spirit of ssh -v (level 1..3).
  virtual void on_debug(int level, const std::string& message) {}
};

class Transport final : public PayloadSink {
 public:
  Transport(TransportConfig config, TransportListener& listener);
  ~Transport() override;

  // Queues our version line and first KEXINIT. Call once, before anything else.
  void start(TimePoint now);

  // Consumes bytes received from the peer. On error the transport has queued a DISCONNECT (when
  // it could) and is closed: flush pending_output() and close the socket.
  Status feed(ByteView data, TimePoint now);
  // Zero-copy variant: read up to `max` bytes into prepare_read(max), then commit_read(n, now).
  MutableByteView prepare_read(size_t max);
  Status commit_read(size_t n, TimePoint now);

  ByteView pending_output() const { return {out_.data() + out_head_, out_.size() - out_head_}; }
  void consume_output(size_t n);

  // Earliest time on_timeout() wants to run (time-based re-key); TimePoint::max() for none.
  TimePoint next_deadline() const;
  void on_timeout(TimePoint now);

  // PayloadSink: queues an upper-layer message (held back during a key exchange).
  void send(ByteView payload) override;
  void send2(ByteView head, ByteView body) override;
  // True when upper layers should stop producing for now (a key exchange is holding a lot).
  bool congested() const { return queued_bytes_ > kMaxQueuedDuringKex; }

  // The answers to check_host_key() returning nullopt and to on_sign_request(). Each resumes the
  // key exchange and processes the input buffered meanwhile (listener calls happen inside). An
  // answer nobody asked for is ignored. A refusal or a failure disconnects.
  void answer_host_key(const Status& verdict);
  void answer_signature(ByteView signature);
  void fail_signature();
  // True while the key exchange waits for one of those answers.
  bool waiting() const { return waiting_ != Waiting::kNone; }

  // Sends DISCONNECT and closes.
  void disconnect(msg::DisconnectReason reason, const std::string& description);
  bool closed() const { return closed_; }
  // The peer's DISCONNECT, if it sent one: reason code and description.
  struct PeerDisconnect {
    uint32_t reason = 0;
    std::string description;
  };
  const std::optional<PeerDisconnect>& peer_disconnect() const { return peer_disconnect_; }
  // Starts a key exchange now (e.g. for tests); ignored while one runs.
  void request_rekey();

  const Bytes& session_id() const { return session_id_; }
  const std::optional<Negotiated>& negotiated() const { return negotiated_; }
  const std::string& peer_version() const { return version_reader_.version(); }
  bool strict_kex() const { return strict_kex_; }
  uint64_t kex_count() const { return kex_count_; }
  // The server's host key (client) or the one we used (server), once known.
  const std::optional<keys::PublicKey>& host_key() const { return host_key_; }

 private:
  struct DirectionKeys {
    std::unique_ptr<PacketSealer> sealer;
    std::unique_ptr<PacketOpener> opener;
  };

  enum class Waiting : uint8_t { kNone, kHostKey, kSignature };

  bool is_client() const { return config_.role == Role::kClient; }
  // After the exchange computed H: the client's host-key check, then finish_kex_step.
  Status after_kex_done();
  // Server: signs H with a private host key, or asks the listener.
  Status request_signature();
  // H is signed and checked: NEWKEYS (and the first EXT_INFO) go out.
  void finish_kex_step();
  // Continues with the input buffered while waiting; `s` is the answer's outcome.
  void resume(Status s);
  // The host key (private when we hold it) for a negotiated host-key algorithm.
  std::shared_ptr<const keys::PrivateKey> private_host_key(std::string_view algorithm) const;
  std::optional<keys::PublicKey> public_host_key(std::string_view algorithm) const;
  Status fail(Status s);
  // Processes buffered input (stopping while waiting()) and compacts the buffer.
  Status process_input(TimePoint now);
  Status process_packets(TimePoint now);
  Status handle_packet(ByteView payload, TimePoint now);
  Status check_allowed(uint8_t type) const;
  Status on_kexinit(ByteView payload);
  Status on_kex_message(ByteView payload, TimePoint now);
  Status on_newkeys(TimePoint now);
  Status on_ext_info(ByteView payload);
  Status after_kex_step(TimePoint now);
  void send_kexinit();
  void send_newkeys();
  void finish_kex(TimePoint now);
  void derive_keys();
  void write_packet(ByteView head, ByteView body);
  void maybe_rekey(TimePoint now);
  void mark_closed(const Status& why);
  KexInit our_kexinit() const;

  TransportConfig config_;
  TransportListener& listener_;
  VersionReader version_reader_;
  bool closed_ = false;
  bool close_reported_ = false;
  Waiting waiting_ = Waiting::kNone;
  bool in_process_ = false;  // process_input() is running (an answer given inside it must not
                             // start another)

  // Packet protection in force, and the next keys waiting for NEWKEYS in each direction.
  std::unique_ptr<PacketSealer> sealer_;
  std::unique_ptr<PacketOpener> opener_;
  std::unique_ptr<PacketSealer> next_sealer_;
  std::unique_ptr<PacketOpener> next_opener_;
  uint32_t seq_out_ = 0;
  uint32_t seq_in_ = 0;

  Bytes in_;
  size_t in_head_ = 0;
  size_t pending_reserve_ = 0;  // bytes prepare_read() added that commit_read() has not settled
  uint32_t current_seq_ = 0;    // sequence number of the packet being handled
  TimePoint last_now_{};
  std::optional<uint32_t> in_packet_length_;  // peeked length of the packet being received
  Bytes out_;
  size_t out_head_ = 0;

  // Key exchange state.
  bool kex_running_ = false;       // our KEXINIT sent, our NEWKEYS not yet
  bool peer_kexinit_seen_ = false;  // peer's KEXINIT received, its NEWKEYS not yet
  bool sent_newkeys_ = false;
  bool first_kex_done_ = false;
  bool strict_kex_ = false;
  bool ignore_guessed_packet_ = false;
  bool peer_wants_ext_info_ = false;
  KexInit our_kexinit_;
  Bytes our_kexinit_payload_;
  Bytes peer_kexinit_payload_;
  std::optional<Negotiated> negotiated_;
  std::unique_ptr<KeyExchange> kex_;
  Bytes session_id_;
  std::optional<keys::PublicKey> host_key_;
  uint64_t kex_count_ = 0;

  // Re-key accounting per direction since that direction's last NEWKEYS (as OpenSSH counts).
  uint64_t bytes_out_since_kex_ = 0;
  uint64_t packets_out_since_kex_ = 0;
  uint64_t bytes_in_since_kex_ = 0;
  uint64_t packets_in_since_kex_ = 0;
  TimePoint rekey_deadline_ = TimePoint::max();

  std::optional<PeerDisconnect> peer_disconnect_;
  std::deque<Bytes> queued_;  // upper-layer messages held during a key exchange
  size_t queued_bytes_ = 0;
};

}  // namespace hashi::transport
