// Fuzz target for a whole server-role transport::Transport fed the bytes a client would send.
//
// Input: byte 0 is the chunk size (0: everything at once; else pieces of that many bytes), the
// rest is the byte stream from the peer. The server offers every algorithm hashi implements with
// an ed25519 host key, plus the "none" cipher and MAC last: a peer that asks for them first gets
// an unencrypted session, so the fuzzer can go past NEWKEYS (service requests, EXT_INFO, re-key)
// without knowing the server's ephemeral key. The listener accepts everything and answers a
// SERVICE_REQUEST through the transport (the upper-layer send path). The fake clock moves on
// with each chunk and fires the time-based re-key. Must never crash; an error must close.
//
// Define HASHI_FUZZ_GENERATE_SEEDS to build a small program that runs an in-memory client
// Transport against this server and writes what the client sends as seeds (argv[1]).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/fuzz_algorithms.h"
#include "keys/key.h"
#include "transport/transport.h"
#include "wire/messages.h"

namespace {

using namespace hashi;
using namespace hashi::transport;
using config::AlgorithmKind;
using config::supported_algorithms;

constexpr auto kChunkInterval = std::chrono::milliseconds(250);

const std::shared_ptr<const keys::PrivateKey>& host_key() {
  static const auto key =
      std::make_shared<const keys::PrivateKey>(keys::PrivateKey::generate(keys::KeyType::kEd25519));
  return key;
}

TransportConfig server_config() {
  TransportConfig c = fuzz::all_algorithms(Role::kServer);
  c.host_keys = {host_key()};
  return c;
}

// Accepts everything; answers SERVICE_REQUEST with SERVICE_ACCEPT through the transport.
struct AcceptAll : TransportListener {
  Transport* transport = nullptr;
  Status on_message(ByteView payload) override {
    if (!payload.empty() && payload.front() == msg::kServiceRequest) {
      Bytes reply(payload.begin(), payload.end());
      reply[0] = msg::kServiceAccept;
      transport->send(reply);
    }
    return Status::ok();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const size_t chunk = data[0];
  ByteView in(data + 1, size - 1);

  AcceptAll listener;
  Transport server(server_config(), listener);
  listener.transport = &server;
  TimePoint now{};
  server.start(now);
  server.consume_output(server.pending_output().size());
  while (!in.empty()) {
    const size_t n = chunk == 0 ? in.size() : std::min(chunk, in.size());
    Status s = server.feed(in.first(n), now);
    in = in.subspan(n);
    // What the server writes goes to a peer that is not listening.
    server.consume_output(server.pending_output().size());
    if (!s) {
      if (!server.closed()) __builtin_trap();
      break;
    }
    if (server.closed()) __builtin_trap();  // closed without an error
    now += kChunkInterval;
    if (now >= server.next_deadline()) {
      server.on_timeout(now);
      server.consume_output(server.pending_output().size());
    }
  }
  return 0;
}

#ifdef HASHI_FUZZ_GENERATE_SEEDS
#include <cstdio>
// Seeds: what an in-memory client Transport sends to this server, prefixed with a chunk byte.
//  - opening_<kex>: version line + KEXINIT + the method's first message, for each kex method
//    (ciphers as a real client offers them; the rest of such a session is encrypted).
//  - session_none*: a whole unencrypted session (the client asks for "none" first): key exchange,
//    NEWKEYS, SERVICE_REQUEST, IGNORE/DEBUG, an upper-layer message and a client re-key.
namespace {

struct Quiet : TransportListener {
  Status on_message(ByteView) override { return Status::ok(); }
};

bool write(const std::string& path, const Bytes& b) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(b.data(), 1, b.size(), f) == b.size();
  return std::fclose(f) == 0 && ok;
}

// Moves the client's output to the server (recording it) and the server's back, until quiet.
bool pump(Transport& client, Transport& server, Bytes& recorded, TimePoint now, size_t limit) {
  for (int round = 0; round < 100; ++round) {
    ByteView c = client.pending_output();
    ByteView s = server.pending_output();
    if (c.empty() && s.empty()) return true;
    if (!c.empty()) {
      const size_t take = std::min(c.size(), limit - std::min(limit, recorded.size()));
      recorded.insert(recorded.end(), c.begin(), c.begin() + take);
      Bytes copy(c.begin(), c.end());
      client.consume_output(copy.size());
      if (!server.feed(copy, now)) return false;
    }
    ByteView s2 = server.pending_output();
    if (!s2.empty()) {
      Bytes copy(s2.begin(), s2.end());
      server.consume_output(copy.size());
      if (!client.feed(copy, now)) return false;
    }
  }
  return true;
}

// The client's bytes up to and including its first kex method message.
size_t opening_len(const Bytes& stream) {
  size_t pos = 0;
  while (pos < stream.size() && stream[pos] != '\n') ++pos;
  ++pos;  // version line
  for (int packet = 0; packet < 2 && pos + 4 <= stream.size(); ++packet) {
    const size_t len = (size_t{stream[pos]} << 24) | (size_t{stream[pos + 1]} << 16) |
                       (size_t{stream[pos + 2]} << 8) | stream[pos + 3];
    pos += 4 + len;
  }
  return std::min(pos, stream.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const TimePoint now{};
  for (const auto& kex : supported_algorithms(AlgorithmKind::kKex)) {
    if (kex == "curve25519-sha256@libssh.org") continue;  // same code as curve25519-sha256
    TransportConfig cc;
    cc.role = Role::kClient;
    cc.kex_algorithms = {kex};
    cc.host_key_algorithms = config::default_algorithms(AlgorithmKind::kHostKey);
    cc.ciphers = config::default_algorithms(AlgorithmKind::kCipher);
    cc.macs = config::default_algorithms(AlgorithmKind::kMac);
    cc.software_version = "OpenSSH_9.2p1 Debian-2+deb12u3";
    Quiet cl, sl;
    Transport client(cc, cl), server(server_config(), sl);
    client.start(now);
    server.start(now);
    Bytes recorded;
    if (!pump(client, server, recorded, now, SIZE_MAX)) return 1;
    Bytes seed{0};
    seed.insert(seed.end(), recorded.begin(), recorded.begin() + opening_len(recorded));
    if (!write(dir + "/opening_" + kex, seed)) return 1;
  }
  for (const char* kex : {"curve25519-sha256", "diffie-hellman-group-exchange-sha256"}) {
    TransportConfig cc;
    cc.role = Role::kClient;
    cc.kex_algorithms = {kex};
    cc.host_key_algorithms = {"ssh-ed25519"};
    cc.ciphers = {"none"};
    cc.macs = {"none"};
    Quiet cl, sl;
    Transport client(cc, cl), server(server_config(), sl);
    client.start(now);
    server.start(now);
    Bytes recorded;
    if (!pump(client, server, recorded, now, SIZE_MAX) || client.kex_count() != 1) return 1;
    const Bytes service_request = {msg::kServiceRequest, 0,   0,   0,   12,  's', 's', 'h',
                                   '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h'};
    client.send(service_request);
    client.send(Bytes{msg::kIgnore, 0, 0, 0, 3, 'a', 'b', 'c'});
    client.send(Bytes{msg::kDebug, 1, 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 0});
    client.send(Bytes{msg::kUserauthRequest, 0, 0, 0, 1, 'u'});
    if (!pump(client, server, recorded, now, SIZE_MAX)) return 1;
    client.request_rekey();
    if (!pump(client, server, recorded, now, SIZE_MAX) || client.kex_count() != 2) return 1;
    client.send(Bytes{msg::kGlobalRequest, 0, 0, 0, 1, 'k', 1});
    if (!pump(client, server, recorded, now, SIZE_MAX)) return 1;
    Bytes seed{0};
    seed.insert(seed.end(), recorded.begin(), recorded.end());
    const std::string name = std::string("session_none_") + kex;
    if (!write(dir + "/" + name, seed)) return 1;
    seed[0] = 7;  // the same stream in 7-byte pieces
    if (!write(dir + "/" + name + "_chunked", seed)) return 1;
  }
  return 0;
}
#endif
