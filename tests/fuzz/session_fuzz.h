// Shared by fuzz_session_server and fuzz_session_client: feeds a session::Session the peer's
// bytes and plays an agreeable program (every question answered yes at once, every channel
// accepted, every request granted, all input consumed), so the fuzzer reaches every layer the
// routing hands messages to.
//
// Input: byte 0 is the chunk size (0: everything at once; else pieces of that many bytes), the
// rest is the byte stream from the peer. The fake clock moves on with each chunk. Must never
// crash; an error must close the session.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_algorithms.h"
#include "session/session.h"

namespace hashi::fuzz {

// Says yes to everything the session asks.
inline void agree(session::Session& s, const session::Event& e) {
  using namespace session;
  if (auto* q = std::get_if<HostKeyQuery>(&e)) s.answer_host_key(q->id, Status::ok());
  if (auto* q = std::get_if<UserQuery>(&e)) s.answer_user(q->id, true);
  if (auto* q = std::get_if<KeyQuery>(&e)) s.answer_key(q->id, keys::KeyOptions{});
  if (auto* o = std::get_if<ChannelOpenRequest>(&e)) s.accept_channel(o->channel);
  if (auto* r = std::get_if<ChannelRequestEvent>(&e)) {
    if (r->want_reply) s.reply_request(r->channel, true);
  }
  if (auto* g = std::get_if<GlobalRequest>(&e)) {
    if (g->want_reply) s.reply_global(g->id, true);
  }
  if (auto* in = std::get_if<ChannelInput>(&e)) {
    for (int stream = 0; stream < 2; ++stream) {
      (void)s.send(in->channel, s.channel_input(in->channel, stream));
      s.consume_input(in->channel, stream, s.channel_input(in->channel, stream).size());
    }
  }
}

inline void drain(session::Session& s) {
  while (auto e = s.next_event()) agree(s, *e);
  s.consume_output(s.pending_output().size());  // to a peer that is not listening
}

inline int run(session::Session& s, const uint8_t* data, size_t size) {
  constexpr auto kChunkInterval = std::chrono::milliseconds(250);
  if (size < 1) return 0;
  const size_t chunk = data[0];
  ByteView in(data + 1, size - 1);
  TimePoint now{};
  s.start(now);
  drain(s);
  while (!in.empty()) {
    const size_t n = chunk == 0 ? in.size() : std::min(chunk, in.size());
    transport::Status st = s.feed(in.first(n), now);
    in = in.subspan(n);
    drain(s);
    if (!st) {
      if (!s.closed()) __builtin_trap();
      break;
    }
    if (s.closed()) break;  // closed by an answer (e.g. the held messages it released)
    now += kChunkInterval;
    if (now >= s.next_deadline()) {
      s.on_timeout(now);
      drain(s);
    }
  }
  return 0;
}

}  // namespace hashi::fuzz
