#include "connection/mux.h"

#include <algorithm>

#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::connection {
namespace {

ConnResult fail(ConnError error, std::string reason) { return {error, std::move(reason)}; }
ConnResult malformed(std::string_view what) {
  return fail(ConnError::kMalformed, "malformed " + std::string(what));
}

// Channel types RFC 4254 and OpenSSH's PROTOCOL define; others are refused as unknown.
bool is_known_channel_type(std::string_view type) {
  static constexpr std::string_view kKnown[] = {
      "session",
      "x11",
      "forwarded-tcpip",
      "direct-tcpip",
      "auth-agent@openssh.com",
      "direct-streamlocal@openssh.com",
      "forwarded-streamlocal@openssh.com",
      "tun@openssh.com",
  };
  return std::find(std::begin(kKnown), std::end(kKnown), type) != std::end(kKnown);
}

}  // namespace

ConnectionMux::ConnectionMux(PayloadSink& sink, Role role, ConnectionHandler& handler,
                             ConnLimits limits)
    : sink_(sink), role_(role), handler_(handler), limits_(limits) {
  // A zero window or packet size would stall every channel for good.
  limits_.window_size = std::max<uint32_t>(limits_.window_size, 1);
  limits_.max_packet = std::max<uint32_t>(limits_.max_packet, 1);
}

ConnectionMux::Channel* ConnectionMux::find(uint32_t id) {
  if (id >= channels_.size() || channels_[id].state == Channel::State::kFree) return nullptr;
  return &channels_[id];
}

const ConnectionMux::Channel* ConnectionMux::find(uint32_t id) const {
  if (id >= channels_.size() || channels_[id].state == Channel::State::kFree) return nullptr;
  return &channels_[id];
}

ConnectionMux::Channel* ConnectionMux::open_channel_for(uint32_t recipient) {
  Channel* c = find(recipient);
  return c != nullptr && c->state == Channel::State::kOpen ? c : nullptr;
}

std::optional<uint32_t> ConnectionMux::allocate() {
  if (num_in_use_ >= limits_.max_channels) return std::nullopt;
  for (uint32_t id = 0; id < channels_.size(); ++id) {
    if (channels_[id].state == Channel::State::kFree) {
      ++num_in_use_;
      return id;
    }
  }
  channels_.emplace_back();
  ++num_in_use_;
  return uint32_t(channels_.size() - 1);
}

void ConnectionMux::release(uint32_t id) {
  channels_[id] = Channel{};
  --num_in_use_;
}

size_t ConnectionMux::open_channels() const { return num_in_use_; }

void ConnectionMux::send_out() { sink_.send(out_); }

ConnResult ConnectionMux::on_message(ByteView payload) {
  wire::Reader r(payload);
  uint8_t type;
  if (!r.u8(type)) return malformed("empty message");
  switch (type) {
    case msg::kGlobalRequest:
      return on_global_request(payload);
    case msg::kRequestSuccess:
      return on_global_reply(payload, true);
    case msg::kRequestFailure:
      return on_global_reply(payload, false);
    case msg::kChannelOpen:
      return on_open(payload);
    case msg::kChannelOpenConfirmation:
      return on_open_confirmation(payload);
    case msg::kChannelOpenFailure:
      return on_open_failure(payload);
    case msg::kChannelWindowAdjust:
      return on_window_adjust(payload);
    case msg::kChannelData:
      return on_data(payload, false);
    case msg::kChannelExtendedData:
      return on_data(payload, true);
    case msg::kChannelEof:
      return on_eof(payload);
    case msg::kChannelClose:
      return on_close(payload);
    case msg::kChannelRequest:
      return on_request(payload);
    case msg::kChannelSuccess:
      return on_request_reply(payload, true);
    case msg::kChannelFailure:
      return on_request_reply(payload, false);
    default:
      return fail(ConnError::kUnexpectedMessage,
                  "unexpected message type " + std::to_string(type) + " in connection protocol");
  }
}

// ---- Global requests (RFC 4254 section 4) ----

ConnResult ConnectionMux::on_global_request(ByteView payload) {
  auto m = GlobalRequestMsg::decode(payload);
  if (!m) return malformed("SSH_MSG_GLOBAL_REQUEST");
  bool want_reply = m->want_reply;
  uint64_t id = next_global_id_++;
  if (want_reply) {
    if (owed_global_.size() >= kMaxPendingPeerReplies) {
      return fail(ConnError::kUnexpectedMessage, "too many global requests awaiting a reply");
    }
    owed_global_.push_back({id, 0, {}});
  }
  Decision d = handler_.on_global_request(id, m->name, m->data, want_reply);
  if (want_reply && !d.deferred()) (void)reply_global(id, d.yes());
  return {};
}

bool ConnectionMux::reply_global(uint64_t id, bool success, ByteView data) {
  for (auto& owed : owed_global_) {
    if (owed.id != id || owed.answer != 0) continue;
    owed.answer = success ? 1 : 2;
    owed.data.assign(data.begin(), data.end());
    flush_global_replies();
    return true;
  }
  return false;
}

void ConnectionMux::flush_global_replies() {
  while (!owed_global_.empty() && owed_global_.front().answer != 0) {
    const OwedGlobal& owed = owed_global_.front();
    out_.clear();
    if (owed.answer == 1) {
      RequestSuccessMsg{owed.data}.encode(out_);
    } else {
      RequestFailureMsg{}.encode(out_);
    }
    send_out();
    owed_global_.pop_front();
  }
}

ConnResult ConnectionMux::on_global_reply(ByteView payload, bool success) {
  ByteView data;
  if (success) {
    auto m = RequestSuccessMsg::decode(payload);
    if (!m) return malformed("SSH_MSG_REQUEST_SUCCESS");
    data = m->data;
  } else if (!RequestFailureMsg::decode(payload)) {
    return malformed("SSH_MSG_REQUEST_FAILURE");
  }
  if (pending_global_ == 0) {
    return fail(ConnError::kUnexpectedReply, "global request reply with no request outstanding");
  }
  --pending_global_;
  handler_.on_global_reply(success, data);
  return {};
}

bool ConnectionMux::send_global_request(std::string_view name, ByteView data, bool want_reply) {
  if (want_reply && pending_global_ >= limits_.max_pending_global) return false;
  if (want_reply) ++pending_global_;
  out_.clear();
  GlobalRequestMsg{name, want_reply, data}.encode(out_);
  send_out();
  return true;
}

// ---- Opening (RFC 4254 section 5.1) ----

ConnResult ConnectionMux::on_open(ByteView payload) {
  auto m = ChannelOpenMsg::decode(payload);
  if (!m) return malformed("SSH_MSG_CHANNEL_OPEN");
  auto refuse = [&](OpenFailureReason reason, std::string_view description) {
    out_.clear();
    ChannelOpenFailureMsg{m->sender_channel, uint32_t(reason), description, ""}.encode(out_);
    send_out();
    return ConnResult{};
  };
  if (role_ == Role::kClient && m->channel_type == "session") {
    // RFC 4254 section 6.1: a client should refuse session opens from the server.
    return refuse(OpenFailureReason::kAdministrativelyProhibited, "open failed");
  }
  std::optional<uint32_t> id = allocate();
  if (!id) return refuse(OpenFailureReason::kResourceShortage, "too many channels");
  {
    Channel& c = channels_[*id];
    c.state = Channel::State::kConfirming;  // nothing may be sent until we confirm
    c.peer_id = m->sender_channel;
    c.peer_max_packet = m->max_packet;
    c.send_window = m->initial_window;
    c.recv_window = limits_.window_size;
  }
  Decision d = handler_.on_open_request(*id, m->channel_type, m->type_specific);
  if (d.deferred()) return {};
  if (!d.yes()) {
    release(*id);
    return is_known_channel_type(m->channel_type)
               ? refuse(OpenFailureReason::kAdministrativelyProhibited, "open failed")
               : refuse(OpenFailureReason::kUnknownChannelType, "unknown channel type");
  }
  send_open_confirmation(*id);
  return {};
}

void ConnectionMux::send_open_confirmation(uint32_t id) {
  Channel& c = channels_[id];
  c.state = Channel::State::kOpen;
  out_.clear();
  ChannelOpenConfirmationMsg{c.peer_id, id, limits_.window_size, limits_.max_packet, {}}.encode(
      out_);
  send_out();
}

bool ConnectionMux::confirm_open(uint32_t channel) {
  Channel* c = find(channel);
  if (c == nullptr || c->state != Channel::State::kConfirming) return false;
  send_open_confirmation(channel);
  return true;
}

bool ConnectionMux::reject_open(uint32_t channel, OpenFailureReason reason,
                                std::string_view description) {
  Channel* c = find(channel);
  if (c == nullptr || c->state != Channel::State::kConfirming) return false;
  out_.clear();
  ChannelOpenFailureMsg{c->peer_id, uint32_t(reason), description, ""}.encode(out_);
  send_out();
  release(channel);
  return true;
}

std::optional<uint32_t> ConnectionMux::open_channel(std::string_view type,
                                                    ByteView type_specific) {
  std::optional<uint32_t> id = allocate();
  if (!id) return std::nullopt;
  Channel& c = channels_[*id];
  c.state = Channel::State::kOpening;
  c.recv_window = limits_.window_size;
  out_.clear();
  ChannelOpenMsg{type, *id, limits_.window_size, limits_.max_packet, type_specific}.encode(out_);
  send_out();
  return id;
}

ConnResult ConnectionMux::on_open_confirmation(ByteView payload) {
  auto m = ChannelOpenConfirmationMsg::decode(payload);
  if (!m) return malformed("SSH_MSG_CHANNEL_OPEN_CONFIRMATION");
  Channel* c = find(m->recipient_channel);
  if (c == nullptr || c->state != Channel::State::kOpening) {
    return fail(ConnError::kUnknownChannel, "open confirmation for channel " +
                                                std::to_string(m->recipient_channel) +
                                                " that is not being opened");
  }
  c->state = Channel::State::kOpen;
  c->peer_id = m->sender_channel;
  c->peer_max_packet = m->max_packet;
  c->send_window = m->initial_window;
  handler_.on_open_confirmed(m->recipient_channel);
  return {};
}

ConnResult ConnectionMux::on_open_failure(ByteView payload) {
  auto m = ChannelOpenFailureMsg::decode(payload);
  if (!m) return malformed("SSH_MSG_CHANNEL_OPEN_FAILURE");
  Channel* c = find(m->recipient_channel);
  if (c == nullptr || c->state != Channel::State::kOpening) {
    return fail(ConnError::kUnknownChannel, "open failure for channel " +
                                                std::to_string(m->recipient_channel) +
                                                " that is not being opened");
  }
  release(m->recipient_channel);
  handler_.on_open_failed(m->recipient_channel, m->reason, m->description);
  return {};
}

// ---- Flow control and data (RFC 4254 section 5.2) ----

ConnResult ConnectionMux::on_window_adjust(ByteView payload) {
  auto m = ChannelWindowAdjustMsg::decode(payload);
  if (!m) return malformed("SSH_MSG_CHANNEL_WINDOW_ADJUST");
  Channel* c = open_channel_for(m->recipient_channel);
  if (c == nullptr) {
    return fail(ConnError::kUnknownChannel,
                "window adjust for unknown channel " + std::to_string(m->recipient_channel));
  }
  uint64_t window = c->send_window + m->bytes_to_add;
  if (window > kMaxWindow) {
    return fail(ConnError::kWindowOverflow, "window adjust overflows channel " +
                                                std::to_string(m->recipient_channel) +
                                                " window above 2^32-1");
  }
  c->send_window = window;
  if (m->bytes_to_add > 0 && !c->sent_eof && !c->sent_close) {
    handler_.on_window_available(m->recipient_channel);
  }
  return {};
}

ConnResult ConnectionMux::on_data(ByteView payload, bool extended) {
  uint32_t recipient;
  uint32_t data_type = 0;
  ByteView data;
  if (extended) {
    auto m = ChannelExtendedDataMsg::decode(payload);
    if (!m) return malformed("SSH_MSG_CHANNEL_EXTENDED_DATA");
    recipient = m->recipient_channel;
    data_type = m->data_type;
    data = m->data;
  } else {
    auto m = ChannelDataMsg::decode(payload);
    if (!m) return malformed("SSH_MSG_CHANNEL_DATA");
    recipient = m->recipient_channel;
    data = m->data;
  }
  Channel* c = open_channel_for(recipient);
  if (c == nullptr) {
    return fail(ConnError::kUnknownChannel, "data for unknown channel " + std::to_string(recipient));
  }
  auto where = [&] { return " on channel " + std::to_string(recipient); };
  if (c->got_eof) return fail(ConnError::kDataAfterEof, "data after EOF" + where());
  if (data.size() > limits_.max_packet) {
    return fail(ConnError::kPacketTooLarge, std::to_string(data.size()) +
                                                " bytes of data exceed the maximum packet " +
                                                std::to_string(limits_.max_packet) + where());
  }
  if (data.size() > c->recv_window) {
    return fail(ConnError::kWindowExceeded, std::to_string(data.size()) +
                                                " bytes of data exceed the window " +
                                                std::to_string(c->recv_window) + where());
  }
  c->recv_window -= uint32_t(data.size());
  if (c->sent_close || data.empty()) {
    return {};  // we closed: the program wants nothing more; the window need not be returned
  }
  c->recv_unconsumed += uint32_t(data.size());
  if (extended) {
    handler_.on_extended_data(recipient, data_type, data);
  } else {
    handler_.on_data(recipient, data);
  }
  return {};
}

void ConnectionMux::consume(uint32_t channel, size_t n) {
  Channel* c = find(channel);
  if (c == nullptr || c->state != Channel::State::kOpen) return;
  uint32_t taken = uint32_t(std::min<size_t>(n, c->recv_unconsumed));
  c->recv_unconsumed -= taken;
  c->recv_consumed += taken;
  // No point returning window the peer can no longer use, or sending after our CLOSE.
  if (c->got_eof || c->sent_close || c->got_close) return;
  uint32_t threshold = std::max<uint32_t>(limits_.window_size / 2, 1);
  if (c->recv_consumed < threshold) return;
  uint32_t add = c->recv_consumed;
  c->recv_window += add;  // recv_window + unconsumed + consumed == window_size: cannot overflow
  c->recv_consumed = 0;
  out_.clear();
  ChannelWindowAdjustMsg{c->peer_id, add}.encode(out_);
  send_out();
}

size_t ConnectionMux::send_window(uint32_t channel) const {
  const Channel* c = find(channel);
  if (c == nullptr || c->state != Channel::State::kOpen || c->sent_eof || c->sent_close ||
      c->got_close) {
    return 0;
  }
  return size_t(c->send_window);
}

bool ConnectionMux::can_send(uint32_t channel) const {
  const Channel* c = find(channel);
  return c != nullptr && c->state == Channel::State::kOpen && !c->sent_eof && !c->sent_close &&
         !c->got_close;
}

size_t ConnectionMux::send_data(uint32_t channel, ByteView data) {
  return send_data_common(channel, false, 0, data);
}

size_t ConnectionMux::send_extended_data(uint32_t channel, uint32_t type, ByteView data) {
  return send_data_common(channel, true, type, data);
}

size_t ConnectionMux::send_data_common(uint32_t channel, bool extended, uint32_t type,
                                       ByteView data) {
  if (!can_send(channel)) return 0;
  Channel& c = channels_[channel];
  size_t chunk_max = std::min(c.peer_max_packet, kMaxSendChunk);
  if (chunk_max == 0) return 0;
  size_t total = std::min<uint64_t>(data.size(), c.send_window);
  c.send_window -= total;
  ByteView rest = data.first(total);
  while (!rest.empty()) {
    size_t n = std::min(rest.size(), chunk_max);
    uint8_t* p = data_header_.data();
    size_t header_len;
    if (extended) {
      p[0] = msg::kChannelExtendedData;
      wire::store_u32(p + 1, c.peer_id);
      wire::store_u32(p + 5, type);
      wire::store_u32(p + 9, uint32_t(n));
      header_len = 13;
    } else {
      p[0] = msg::kChannelData;
      wire::store_u32(p + 1, c.peer_id);
      wire::store_u32(p + 5, uint32_t(n));
      header_len = 9;
    }
    sink_.send2(ByteView(p, header_len), rest.first(n));
    rest = rest.subspan(n);
  }
  return total;
}

// ---- EOF and close (RFC 4254 section 5.3) ----

bool ConnectionMux::send_eof(uint32_t channel) {
  if (!can_send(channel)) return false;
  Channel& c = channels_[channel];
  c.sent_eof = true;
  out_.clear();
  ChannelOnlyMsg{msg::kChannelEof, c.peer_id}.encode(out_);
  send_out();
  return true;
}

bool ConnectionMux::close(uint32_t channel) {
  Channel* c = find(channel);
  if (c == nullptr || c->state != Channel::State::kOpen) return false;
  if (c->sent_close) return true;
  c->sent_close = true;
  out_.clear();
  ChannelOnlyMsg{msg::kChannelClose, c->peer_id}.encode(out_);
  send_out();
  if (c->got_close) {  // the reply we held: both sides have closed now
    release(channel);
    handler_.on_close(channel);
  }
  return true;
}

ConnResult ConnectionMux::on_eof(ByteView payload) {
  auto m = ChannelOnlyMsg::decode(payload, msg::kChannelEof);
  if (!m) return malformed("SSH_MSG_CHANNEL_EOF");
  Channel* c = open_channel_for(m->recipient_channel);
  if (c == nullptr) {
    return fail(ConnError::kUnknownChannel,
                "EOF for unknown channel " + std::to_string(m->recipient_channel));
  }
  if (c->got_eof) return {};  // a repeated EOF says nothing new
  c->got_eof = true;
  if (!c->sent_close) handler_.on_eof(m->recipient_channel);
  return {};
}

ConnResult ConnectionMux::on_close(ByteView payload) {
  auto m = ChannelOnlyMsg::decode(payload, msg::kChannelClose);
  if (!m) return malformed("SSH_MSG_CHANNEL_CLOSE");
  uint32_t id = m->recipient_channel;
  Channel* c = open_channel_for(id);
  if (c == nullptr) {
    return fail(ConnError::kUnknownChannel, "close for unknown channel " + std::to_string(id));
  }
  if (c->got_close) {
    return fail(ConnError::kUnknownChannel, "second close for channel " + std::to_string(id));
  }
  // RFC 4254 section 5.3: reply with our CLOSE unless we sent it already (or the program holds
  // the reply until it has taken what was delivered). Then the channel is closed on both sides
  // and its id is free.
  if (!c->sent_close && handler_.on_peer_close(id)) {
    c->got_close = true;
    return {};
  }
  if (!c->sent_close) {
    out_.clear();
    ChannelOnlyMsg{msg::kChannelClose, c->peer_id}.encode(out_);
    send_out();
  }
  release(id);
  handler_.on_close(id);
  return {};
}

// ---- Channel requests (RFC 4254 section 5.4) ----

bool ConnectionMux::send_request(uint32_t channel, const ChannelRequest& request,
                                 bool want_reply) {
  Channel* c = find(channel);
  if (c == nullptr || c->state != Channel::State::kOpen || c->sent_close) return false;
  if (want_reply) ++c->pending_replies;
  out_.clear();
  wire::Writer(out_).u8(msg::kChannelRequest).u32(c->peer_id).string(request.name()).boolean(
      want_reply);
  request.encode_fields(out_);
  send_out();
  return true;
}

ConnResult ConnectionMux::on_request(ByteView payload) {
  auto m = ChannelRequestMsg::decode(payload);
  if (!m) return malformed("SSH_MSG_CHANNEL_REQUEST");
  uint32_t id = m->recipient_channel;
  if (open_channel_for(id) == nullptr) {
    return fail(ConnError::kUnknownChannel, "request for unknown channel " + std::to_string(id));
  }
  std::optional<ChannelRequest> request = ChannelRequest::parse(m->request_type, m->type_specific);
  if (!request) {
    return fail(ConnError::kMalformed,
                "malformed \"" + std::string(m->request_type) + "\" channel request");
  }
  if (m->want_reply) {
    Channel& c = channels_[id];
    if (c.owed.size() >= kMaxPendingPeerReplies) {
      return fail(ConnError::kUnexpectedMessage,
                  "too many requests awaiting a reply on channel " + std::to_string(id));
    }
    c.owed.push_back(0);
  }
  Decision d = handler_.on_channel_request(id, *request, m->want_reply);
  // The handler may have closed the channel (then flushing sends nothing more on it).
  if (m->want_reply && !d.deferred() && find(id) != nullptr) {
    channels_[id].owed.back() = d.yes() ? 1 : 2;
    flush_channel_replies(id);
  }
  return {};
}

bool ConnectionMux::reply_request(uint32_t channel, bool success) {
  Channel* c = find(channel);
  if (c == nullptr) return false;
  for (auto& owed : c->owed) {
    if (owed != 0) continue;
    owed = success ? 1 : 2;
    flush_channel_replies(channel);
    return true;
  }
  return false;
}

bool ConnectionMux::has_deferred_request(uint32_t channel) const {
  const Channel* c = find(channel);
  return c != nullptr && std::find(c->owed.begin(), c->owed.end(), 0) != c->owed.end();
}

void ConnectionMux::flush_channel_replies(uint32_t id) {
  Channel& c = channels_[id];
  while (!c.owed.empty() && c.owed.front() != 0) {
    bool ok = c.owed.front() == 1;
    c.owed.pop_front();
    if (c.sent_close) continue;  // nothing more is sent after our CLOSE
    out_.clear();
    ChannelOnlyMsg{ok ? msg::kChannelSuccess : msg::kChannelFailure, c.peer_id}.encode(out_);
    send_out();
  }
}

ConnResult ConnectionMux::on_request_reply(ByteView payload, bool success) {
  auto m = ChannelOnlyMsg::decode(payload, success ? msg::kChannelSuccess : msg::kChannelFailure);
  if (!m) return malformed(success ? "SSH_MSG_CHANNEL_SUCCESS" : "SSH_MSG_CHANNEL_FAILURE");
  Channel* c = open_channel_for(m->recipient_channel);
  if (c == nullptr) {
    return fail(ConnError::kUnknownChannel,
                "request reply for unknown channel " + std::to_string(m->recipient_channel));
  }
  if (c->pending_replies == 0) {
    return fail(ConnError::kUnexpectedReply, "request reply with no request outstanding on channel " +
                                                 std::to_string(m->recipient_channel));
  }
  --c->pending_replies;
  handler_.on_request_reply(m->recipient_channel, success);
  return {};
}

}  // namespace hashi::connection
