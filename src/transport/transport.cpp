#include "transport/transport.h"

#include <algorithm>
#include <cstring>

#include "crypto/secret.h"
#include "crypto/hash.h"
#include "wire/messages.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::transport {

namespace {

bool is_aead(std::string_view cipher) {
  const CipherInfo* c = find_cipher(cipher);
  return c != nullptr && c->aead;
}

bool is_kex_method_message(uint8_t t) { return t >= 30 && t <= 49; }

// RFC 4253 section 7.2: K1 = HASH(K || H || X || session_id), Kn = HASH(K || H || K1 || ...).
SecretBytes derive_key(crypto::HashAlg alg, const SecretBytes& k_mpint, ByteView h, char letter,
                       ByteView session_id, size_t need) {
  SecretBytes out;
  {
    crypto::Hasher hasher(alg);
    hasher.update(view(k_mpint));
    hasher.update(h);
    uint8_t x = uint8_t(letter);
    hasher.update(ByteView(&x, 1));
    hasher.update(session_id);
    Bytes k1 = hasher.finish();
    out.assign(k1.begin(), k1.end());
    OPENSSL_cleanse(k1.data(), k1.size());
  }
  while (out.size() < need) {
    crypto::Hasher hasher(alg);
    hasher.update(view(k_mpint));
    hasher.update(h);
    hasher.update(view(out));
    Bytes kn = hasher.finish();
    out.insert(out.end(), kn.begin(), kn.end());
    OPENSSL_cleanse(kn.data(), kn.size());
  }
  out.resize(need);
  return out;
}

std::string version_without_crlf(std::string_view software) {
  std::string line = our_version_line(software);
  line.resize(line.size() - 2);
  return line;
}

}  // namespace

Transport::Transport(TransportConfig config, TransportListener& listener)
    : config_(std::move(config)), listener_(listener), version_reader_(config_.role) {
  sealer_ = make_sealer("none", "none", {}, {}, {});
  opener_ = make_opener("none", "none", {}, {}, {});
  if (config_.rekey_bytes == 0) config_.rekey_bytes = kDefaultRekeyBytes;
}

Transport::~Transport() = default;

void Transport::start(TimePoint now) {
  last_now_ = now;
  std::string line = our_version_line(config_.software_version);
  out_.insert(out_.end(), line.begin(), line.end());
  // Sending KEXINIT before the peer's version arrives saves a round trip; RFC 4253 allows it.
  send_kexinit();
}

Status Transport::feed(ByteView data, TimePoint now) {
  MutableByteView space = prepare_read(data.size());
  std::memcpy(space.data(), data.data(), data.size());
  return commit_read(data.size(), now);
}

MutableByteView Transport::prepare_read(size_t max) {
  if (in_head_ > 0 && in_head_ == in_.size()) {
    in_.clear();
    in_head_ = 0;
  }
  size_t old = in_.size() - pending_reserve_;
  in_.resize(old + max);
  pending_reserve_ = max;
  return {in_.data() + old, max};
}

Status Transport::commit_read(size_t n, TimePoint now) {
  // prepare_read() grew the buffer by `max`; keep only what was actually read.
  in_.resize(in_.size() - (pending_reserve_ - std::min(n, pending_reserve_)));
  pending_reserve_ = 0;
  last_now_ = now;
  if (closed_) return Status::fail(msg::DisconnectReason::kConnectionLost, "connection closed");
  if (waiting() && in_.size() - in_head_ > kMaxInputWhileWaiting) {
    return fail(Status::protocol_error("too much input during the key exchange"));
  }
  return process_input(now);
}

void Transport::consume_output(size_t n) {
  out_head_ += n;
  if (out_head_ >= out_.size()) {
    out_.clear();
    out_head_ = 0;
  } else if (out_head_ > 1024 * 1024 && out_head_ > out_.size() / 2) {
    out_.erase(out_.begin(), out_.begin() + ptrdiff_t(out_head_));
    out_head_ = 0;
  }
}

TimePoint Transport::next_deadline() const { return rekey_deadline_; }

void Transport::on_timeout(TimePoint now) {
  last_now_ = now;
  maybe_rekey(now);
}

Status Transport::fail(Status s) {
  if (!closed_) {
    listener_.on_debug(1, "disconnecting: " + s.message());
    disconnect(s.reason(), s.message());
  } else if (!close_reported_) {
    mark_closed(s);  // the peer's DISCONNECT
  }
  return s;
}

void Transport::disconnect(msg::DisconnectReason reason, const std::string& description) {
  if (closed_) return;
  // DISCONNECT may be sent in any state (RFC 4253 section 11.1); it bypasses the kex queue.
  Bytes m;
  wire::Writer(m).u8(msg::kDisconnect).u32(uint32_t(reason)).string(description).string("");
  write_packet(m, {});
  closed_ = true;
  mark_closed(Status::fail(reason, description));
}

void Transport::mark_closed(const Status& why) {
  if (close_reported_) return;
  close_reported_ = true;
  queued_.clear();
  queued_bytes_ = 0;
  listener_.on_closed(why);
}

Status Transport::process_input(TimePoint now) {
  in_process_ = true;
  Status s = process_packets(now);
  in_process_ = false;
  if (in_head_ == in_.size()) {
    in_.clear();
    in_head_ = 0;
  } else if (in_head_ > 64 * 1024) {
    in_.erase(in_.begin(), in_.begin() + ptrdiff_t(in_head_));
    in_head_ = 0;
  }
  return s;
}

Status Transport::process_packets(TimePoint now) {
  while (!closed_ && !waiting()) {
    MutableByteView avail(in_.data() + in_head_, in_.size() - in_head_);
    if (!version_reader_.done()) {
      size_t used = 0;
      Status s = version_reader_.feed(avail, used);
      in_head_ += used;
      if (!s) return fail(s);
      if (!version_reader_.done()) break;
      listener_.on_debug(1, "Remote protocol version: " + version_reader_.version());
      continue;
    }
    if (!in_packet_length_) {
      size_t header = opener_->header_len();
      if (avail.size() < header) break;
      uint32_t len = opener_->peek_length(seq_in_, avail.first(header));
      if (len < 5 || len > kMaxPacketLength) {
        return fail(Status::protocol_error("bad packet length " + std::to_string(len)));
      }
      in_packet_length_ = len;
    }
    size_t len = *in_packet_length_;
    size_t total = 4 + len + opener_->tag_len();
    if (avail.size() < total) break;
    MutableByteView packet = avail.first(4 + len);
    if (!opener_->open(seq_in_, packet, avail.subspan(4 + len, opener_->tag_len()))) {
      return fail(Status::fail(msg::DisconnectReason::kMacError,
                               "message authentication code incorrect"));
    }
    in_packet_length_.reset();
    in_head_ += total;
    uint8_t padding = packet[4];
    if (padding < 4 || size_t(padding) + 1 >= len) {
      return fail(Status::protocol_error("bad padding length"));
    }
    ByteView payload(packet.data() + 5, len - 1 - padding);
    current_seq_ = seq_in_++;
    if (seq_in_ == 0 && !first_kex_done_) {
      return fail(Status::protocol_error("sequence number wrapped during initial key exchange"));
    }
    bytes_in_since_kex_ += total;
    ++packets_in_since_kex_;
    Status s = handle_packet(payload, now);
    if (!s) return fail(s);
    maybe_rekey(now);
  }
  return Status::ok();
}

Status Transport::check_allowed(uint8_t t) const {
  auto unexpected = [&](const char* when) {
    return Status::protocol_error("unexpected message type " + std::to_string(t) + " " + when);
  };
  if (t == msg::kDisconnect) return Status::ok();
  if (strict_kex_ && !first_kex_done_ && t != msg::kKexInit && t != msg::kNewKeys &&
      !is_kex_method_message(t)) {
    return unexpected("during strict initial key exchange");
  }
  if (t == msg::kIgnore || t == msg::kDebug || t == msg::kUnimplemented) return Status::ok();
  if (t == msg::kKexInit) {
    return peer_kexinit_seen_ ? unexpected("(second KEXINIT)") : Status::ok();
  }
  if (t == msg::kNewKeys) {
    return peer_kexinit_seen_ && sent_newkeys_ ? Status::ok() : unexpected("(NEWKEYS too early)");
  }
  if (is_kex_method_message(t)) {
    return peer_kexinit_seen_ && kex_ && !kex_->done() ? Status::ok()
                                                      : unexpected("outside key exchange");
  }
  if (!first_kex_done_ || peer_kexinit_seen_) return unexpected("during key exchange");
  if (t == msg::kExtInfo) return Status::ok();
  if (t == msg::kServiceRequest) return is_client() ? unexpected("to a client") : Status::ok();
  if (t == msg::kServiceAccept) return is_client() ? Status::ok() : unexpected("to a server");
  if (t < 50) return unexpected("(unknown transport message)");
  return Status::ok();
}

Status Transport::handle_packet(ByteView payload, TimePoint now) {
  uint8_t t = payload[0];
  if (ignore_guessed_packet_ && is_kex_method_message(t)) {
    // The peer's first_kex_packet_follows guess was wrong (RFC 4253 section 7).
    ignore_guessed_packet_ = false;
    return Status::ok();
  }
  Status allowed = check_allowed(t);
  if (!allowed) return allowed;
  switch (t) {
    case msg::kDisconnect: {
      wire::Reader r(payload.subspan(1));
      uint32_t reason = 0;
      std::string_view description;
      if (!r.u32(reason) || !r.string(description)) description = "(malformed)";
      closed_ = true;  // no DISCONNECT in reply
      std::string text(description.substr(0, 256));
      peer_disconnect_ = PeerDisconnect{reason, text};
      return Status::fail(msg::DisconnectReason::kByApplication,
                          "Received disconnect: " + std::to_string(reason) + ": " + text);
    }
    case msg::kIgnore:
      return Status::ok();
    case msg::kUnimplemented:
      listener_.on_debug(1, "peer sent UNIMPLEMENTED");
      return Status::ok();
    case msg::kDebug: {
      wire::Reader r(payload.subspan(1));
      bool always = false;
      std::string_view text;
      if (r.boolean(always) && r.string(text)) {
        listener_.on_debug(always ? 1 : 2, "Remote: " + std::string(text.substr(0, 1024)));
      }
      return Status::ok();
    }
    case msg::kKexInit:
      return on_kexinit(payload);
    case msg::kNewKeys:
      if (payload.size() != 1) return Status::protocol_error("malformed NEWKEYS");
      return on_newkeys(now);
    case msg::kExtInfo:
      return on_ext_info(payload);
    default:
      if (is_kex_method_message(t)) return on_kex_message(payload, now);
      return listener_.on_message(payload);
  }
}

KexInit Transport::our_kexinit() const {
  KexInit k;
  crypto::random_bytes(MutableByteView(k.cookie));
  k.kex = config_.kex_algorithms;
  if (!first_kex_done_) {
    // RFC 8308 and OpenSSH PROTOCOL 1.10: the markers go only in the first KEXINIT.
    k.kex.emplace_back(is_client() ? kExtInfoClient : kExtInfoServer);
    k.kex.emplace_back(is_client() ? kStrictKexClient : kStrictKexServer);
  }
  if (is_client()) {
    k.host_key = config_.host_key_algorithms;
  } else {
    for (const auto& alg : config_.host_key_algorithms) {
      if (public_host_key(alg)) k.host_key.push_back(alg);
    }
  }
  k.cipher_c2s = k.cipher_s2c = config_.ciphers;
  k.mac_c2s = k.mac_s2c = config_.macs;
  k.compression_c2s = k.compression_s2c = {"none"};
  return k;
}

void Transport::send_kexinit() {
  our_kexinit_ = our_kexinit();
  our_kexinit_payload_.clear();
  our_kexinit_.encode(our_kexinit_payload_);
  write_packet(our_kexinit_payload_, {});
  kex_running_ = true;
  listener_.on_debug(1, "SSH2_MSG_KEXINIT sent");
}

Status Transport::on_kexinit(ByteView payload) {
  KexInit peer;
  if (!KexInit::decode(payload, peer)) return Status::protocol_error("malformed KEXINIT");
  listener_.on_debug(1, "SSH2_MSG_KEXINIT received");
  if (!first_kex_done_) {
    strict_kex_ = peer.offers(is_client() ? kStrictKexServer : kStrictKexClient);
    if (strict_kex_ && current_seq_ != 0) {
      return Status::protocol_error("strict KEX violation: KEXINIT was not the first packet");
    }
    if (strict_kex_) listener_.on_debug(1, "will use strict KEX");
    peer_wants_ext_info_ = !is_client() && peer.offers(kExtInfoClient);
  }
  peer_kexinit_seen_ = true;
  peer_kexinit_payload_.assign(payload.begin(), payload.end());
  if (!kex_running_) send_kexinit();  // the peer started this exchange

  const KexInit& client = is_client() ? our_kexinit_ : peer;
  const KexInit& server = is_client() ? peer : our_kexinit_;
  std::string error;
  auto chosen = negotiate(client, server, is_aead, error);
  if (!chosen) return Status::fail(msg::DisconnectReason::kKeyExchangeFailed, error);
  const KexMethodInfo* method = find_kex_method(chosen->kex);
  if (!method) return Status::fail(msg::DisconnectReason::kKeyExchangeFailed, "unknown kex");
  if (guess_was_wrong(peer, our_kexinit_)) ignore_guessed_packet_ = true;
  negotiated_ = chosen;
  listener_.on_debug(1, "kex: algorithm: " + chosen->kex);
  listener_.on_debug(1, "kex: host key algorithm: " + chosen->host_key);
  listener_.on_debug(1, "kex: server->client cipher: " + chosen->cipher_s2c + " MAC: " +
                            (chosen->mac_s2c.empty() ? "<implicit>" : chosen->mac_s2c) +
                            " compression: none");
  listener_.on_debug(1, "kex: client->server cipher: " + chosen->cipher_c2s + " MAC: " +
                            (chosen->mac_c2s.empty() ? "<implicit>" : chosen->mac_c2s) +
                            " compression: none");

  KexTranscript transcript;
  std::string ours = version_without_crlf(config_.software_version);
  transcript.client_version = is_client() ? ours : version_reader_.version();
  transcript.server_version = is_client() ? version_reader_.version() : ours;
  transcript.client_kexinit = is_client() ? our_kexinit_payload_ : peer_kexinit_payload_;
  transcript.server_kexinit = is_client() ? peer_kexinit_payload_ : our_kexinit_payload_;
  if (is_client()) {
    kex_ = KeyExchange::client(*method, std::move(transcript), chosen->host_key, config_.gex);
    std::vector<Bytes> out;
    kex_->start(out);
    for (const auto& m : out) write_packet(m, {});
  } else {
    std::optional<keys::PublicKey> key = public_host_key(chosen->host_key);
    if (!key) return Status::fail(msg::DisconnectReason::kKeyExchangeFailed, "no host key");
    kex_ = KeyExchange::server(*method, std::move(transcript), std::move(*key), chosen->host_key);
  }
  return Status::ok();
}

std::shared_ptr<const keys::PrivateKey> Transport::private_host_key(
    std::string_view algorithm) const {
  auto type = keys::key_type_for_algorithm(algorithm);
  for (const auto& k : config_.host_keys) {
    if (type && k->public_key().type() == *type) return k;
  }
  return nullptr;
}

std::optional<keys::PublicKey> Transport::public_host_key(std::string_view algorithm) const {
  if (auto k = private_host_key(algorithm)) return k->public_key();
  auto type = keys::key_type_for_algorithm(algorithm);
  for (const auto& k : config_.host_public_keys) {
    if (type && k.type() == *type) return k;
  }
  return std::nullopt;
}

Status Transport::on_kex_message(ByteView payload, TimePoint now) {
  std::vector<Bytes> out;
  Status s = kex_->on_message(payload, out);
  for (const auto& m : out) write_packet(m, {});
  if (!s) return s;
  if (kex_->awaiting_signature()) return request_signature();
  if (!kex_->done() || sent_newkeys_) return Status::ok();
  return after_kex_done();
}

Status Transport::request_signature() {
  const std::string& alg = kex_->host_key_algorithm();
  if (auto key = private_host_key(alg)) {
    std::vector<Bytes> out;
    Status s = kex_->set_signature(key->sign(alg, kex_->exchange_hash()), out);
    for (const auto& m : out) write_packet(m, {});
    if (!s) return s;
    finish_kex_step();
    return Status::ok();
  }
  waiting_ = Waiting::kSignature;
  listener_.on_sign_request(*kex_->host_key(), alg, kex_->exchange_hash());
  return Status::ok();
}

Status Transport::after_kex_done() {
  const auto& key = kex_->host_key();
  if (is_client() && !first_kex_done_) {
    std::optional<Status> trust = listener_.check_host_key(*key);
    if (!trust) {
      waiting_ = Waiting::kHostKey;
      return Status::ok();
    }
    if (!*trust) return *trust;
  } else if (is_client() && host_key_ && !(*host_key_ == *key)) {
    return Status::fail(msg::DisconnectReason::kHostKeyNotVerifiable,
                        "server host key changed during re-key");
  }
  finish_kex_step();
  return Status::ok();
}

void Transport::finish_kex_step() {
  host_key_ = kex_->host_key();
  if (session_id_.empty()) session_id_ = kex_->exchange_hash();
  derive_keys();
  send_newkeys();
  if (!is_client() && kex_count_ == 0 && peer_wants_ext_info_) {
    // RFC 8308 section 2.4: the server's EXT_INFO is the next packet after its first NEWKEYS.
    Bytes m;
    wire::Writer w(m);
    w.u8(msg::kExtInfo).u32(1).string("server-sig-algs").string(wire::join_names(
        config_.server_sig_algs.empty() ? config_.host_key_algorithms : config_.server_sig_algs));
    write_packet(m, {});
  }
}

void Transport::answer_host_key(const Status& verdict) {
  if (waiting_ != Waiting::kHostKey || closed_) return;
  waiting_ = Waiting::kNone;
  if (verdict) finish_kex_step();
  resume(verdict);
}

void Transport::answer_signature(ByteView signature) {
  if (waiting_ != Waiting::kSignature || closed_) return;
  waiting_ = Waiting::kNone;
  std::vector<Bytes> out;
  Status s = kex_->set_signature(signature, out);
  for (const auto& m : out) write_packet(m, {});
  if (s) finish_kex_step();
  resume(s);
}

void Transport::fail_signature() {
  if (waiting_ != Waiting::kSignature || closed_) return;
  waiting_ = Waiting::kNone;
  resume(Status::fail(msg::DisconnectReason::kKeyExchangeFailed, "host key signing failed"));
}

void Transport::resume(Status s) {
  if (!s) {
    (void)fail(s);
    return;
  }
  // Inside feed() (the listener answered at once) the running loop goes on by itself.
  if (!in_process_) (void)process_input(last_now_);
}

void Transport::derive_keys() {
  const Negotiated& n = *negotiated_;
  crypto::HashAlg alg = kex_->method().hash;
  const SecretBytes& k = kex_->shared_secret_mpint();
  const Bytes& h = kex_->exchange_hash();
  auto make_keys = [&](const std::string& cipher, const std::string& mac, char iv_letter,
                       char key_letter, char mac_letter, bool outbound) {
    const CipherInfo* ci = find_cipher(cipher);
    const MacInfo* mi = mac.empty() ? nullptr : find_mac(mac);
    SecretBytes iv = derive_key(alg, k, h, iv_letter, session_id_, ci->iv_len);
    SecretBytes key = derive_key(alg, k, h, key_letter, session_id_, ci->key_len);
    SecretBytes mac_key = derive_key(alg, k, h, mac_letter, session_id_, mi ? mi->key_len : 0);
    std::string_view mac_name = mi ? std::string_view(mac) : std::string_view("none");
    if (outbound) {
      next_sealer_ = make_sealer(cipher, mac_name, view(key), view(iv), view(mac_key));
    } else {
      next_opener_ = make_opener(cipher, mac_name, view(key), view(iv), view(mac_key));
    }
  };
  make_keys(n.cipher_c2s, n.mac_c2s, 'A', 'C', 'E', is_client());
  make_keys(n.cipher_s2c, n.mac_s2c, 'B', 'D', 'F', !is_client());
}

void Transport::send_newkeys() {
  const uint8_t m = msg::kNewKeys;
  write_packet(ByteView(&m, 1), {});
  sealer_ = std::move(next_sealer_);
  if (strict_kex_) seq_out_ = 0;
  bytes_out_since_kex_ = 0;
  packets_out_since_kex_ = 0;
  sent_newkeys_ = true;
  kex_running_ = false;
  listener_.on_debug(2, "SSH2_MSG_NEWKEYS sent");
  // Messages held during the exchange go out under the new keys, in order.
  while (!queued_.empty()) {
    write_packet(queued_.front(), {});
    queued_bytes_ -= queued_.front().size();
    queued_.pop_front();
  }
}

Status Transport::on_newkeys(TimePoint now) {
  opener_ = std::move(next_opener_);
  if (strict_kex_) seq_in_ = 0;
  bytes_in_since_kex_ = 0;
  packets_in_since_kex_ = 0;
  peer_kexinit_seen_ = false;
  listener_.on_debug(2, "SSH2_MSG_NEWKEYS received");
  finish_kex(now);
  return Status::ok();
}

void Transport::finish_kex(TimePoint now) {
  bool first = kex_count_ == 0;
  ++kex_count_;
  first_kex_done_ = true;
  kex_.reset();
  sent_newkeys_ = false;
  rekey_deadline_ = config_.rekey_interval.count() > 0 ? now + config_.rekey_interval
                                                      : TimePoint::max();
  listener_.on_kex_complete(first);
}

Status Transport::on_ext_info(ByteView payload) {
  // SSH_MSG_EXT_INFO, RFC 8308 section 2.3: uint32 count, then (string name, string value).
  wire::Reader r(payload.subspan(1));
  uint32_t count;
  if (!r.u32(count)) return Status::protocol_error("malformed EXT_INFO");
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view name, value;
    if (!r.string(name) || !r.string(value)) return Status::protocol_error("malformed EXT_INFO");
    if (is_client() && name == "server-sig-algs") {
      listener_.on_server_sig_algs(wire::split_names(value));
    }
  }
  if (!r.empty()) return Status::protocol_error("malformed EXT_INFO");
  return Status::ok();
}

void Transport::send(ByteView payload) { send2(payload, {}); }

void Transport::send2(ByteView head, ByteView body) {
  if (closed_) return;
  if (kex_running_ || !first_kex_done_) {
    Bytes m(head.begin(), head.end());
    m.insert(m.end(), body.begin(), body.end());
    queued_bytes_ += m.size();
    queued_.push_back(std::move(m));
    return;
  }
  write_packet(head, body);
  maybe_rekey(last_now_);
}

void Transport::request_rekey() {
  if (!closed_ && first_kex_done_ && !kex_running_ && !peer_kexinit_seen_ && !kex_) {
    send_kexinit();
  }
}

void Transport::maybe_rekey(TimePoint now) {
  if (!first_kex_done_ || kex_running_ || peer_kexinit_seen_ || kex_ || closed_) return;
  if (bytes_out_since_kex_ >= config_.rekey_bytes || bytes_in_since_kex_ >= config_.rekey_bytes ||
      packets_out_since_kex_ >= kRekeyPackets || packets_in_since_kex_ >= kRekeyPackets ||
      now >= rekey_deadline_) {
    listener_.on_debug(1, "re-keying");
    send_kexinit();
  }
}

void Transport::write_packet(ByteView head, ByteView body) {
  // RFC 4253 section 6: packet_length, padding_length, payload, random padding (>= 4 bytes) so
  // that the encrypted part is a multiple of the block size.
  size_t payload_len = head.size() + body.size();
  size_t block = sealer_->block_size();
  size_t unpadded = 1 + payload_len + (sealer_->length_excluded() ? 0 : 4);
  size_t padding = block - unpadded % block;
  if (padding < 4) padding += block;
  uint32_t packet_len = uint32_t(1 + payload_len + padding);
  size_t tag_len = sealer_->tag_len();
  size_t start = out_.size();
  out_.resize(start + 4 + packet_len + tag_len);
  uint8_t* p = out_.data() + start;
  wire::store_u32(p, packet_len);
  p[4] = uint8_t(padding);
  if (!head.empty()) std::memcpy(p + 5, head.data(), head.size());
  if (!body.empty()) std::memcpy(p + 5 + head.size(), body.data(), body.size());
  crypto::random_bytes(MutableByteView(p + 5 + payload_len, padding));
  sealer_->seal(seq_out_, MutableByteView(p, 4 + packet_len),
                MutableByteView(p + 4 + packet_len, tag_len));
  ++seq_out_;
  bytes_out_since_kex_ += 4 + packet_len + tag_len;
  ++packets_out_since_kex_;
}

}  // namespace hashi::transport
