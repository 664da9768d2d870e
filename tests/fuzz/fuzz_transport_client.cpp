// Fuzz target for a whole client-role transport::Transport fed the bytes a server would send.
//
// Input: byte 0 is the chunk size (0: everything at once; else pieces of that many bytes), the
// rest is the byte stream from the peer: banner lines, the version line, KEXINIT, the kex reply
// and whatever follows. The client offers every algorithm hashi implements (plus "none" last)
// and its listener accepts any host key, so everything up to the signature check over H is
// reachable; past it the fuzzer cannot go (H covers our random ephemeral key). The fake clock
// moves on with each chunk. Must never crash; an error must close the transport.
//
// Define HASHI_FUZZ_GENERATE_SEEDS to build a small program that runs this client against an
// in-memory server Transport and writes what the server sends as seeds (argv[1]).
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

TransportConfig client_config() { return fuzz::all_algorithms(Role::kClient); }

// Trusts any host key and takes every message.
struct AcceptAll : TransportListener {
  Status on_message(ByteView) override { return Status::ok(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const size_t chunk = data[0];
  ByteView in(data + 1, size - 1);

  AcceptAll listener;
  Transport client(client_config(), listener);
  TimePoint now{};
  client.start(now);
  client.consume_output(client.pending_output().size());
  while (!in.empty()) {
    const size_t n = chunk == 0 ? in.size() : std::min(chunk, in.size());
    Status s = client.feed(in.first(n), now);
    in = in.subspan(n);
    client.consume_output(client.pending_output().size());
    if (!s) {
      if (!client.closed()) __builtin_trap();
      break;
    }
    if (client.closed()) __builtin_trap();  // closed without an error
    now += kChunkInterval;
    if (now >= client.next_deadline()) {
      client.on_timeout(now);
      client.consume_output(client.pending_output().size());
    }
  }
  return 0;
}

#ifdef HASHI_FUZZ_GENERATE_SEEDS
#include <cstdio>
// Seeds: what a hashi server Transport (ed25519 host key) sends to this client during a whole
// handshake, one per kex method ("none" cipher, so the stream after NEWKEYS stays readable),
// prefixed with a chunk byte; and one with banner lines before the version line, in 5-byte pieces.
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

// Runs a handshake; returns what the server sent (empty on failure).
Bytes server_stream(const std::string& kex, const std::string& cipher) {
  static const auto key =
      std::make_shared<const keys::PrivateKey>(keys::PrivateKey::generate(keys::KeyType::kEd25519));
  TransportConfig sc;
  sc.role = Role::kServer;
  sc.kex_algorithms = {kex};
  sc.host_key_algorithms = {"ssh-ed25519"};
  sc.ciphers = {cipher};
  sc.macs = config::default_algorithms(AlgorithmKind::kMac);
  sc.host_keys = {key};
  Quiet cl, sl;
  Transport client(client_config(), cl), server(sc, sl);
  const TimePoint now{};
  client.start(now);
  server.start(now);
  Bytes recorded;
  for (int round = 0; round < 100; ++round) {
    ByteView c = client.pending_output();
    ByteView s = server.pending_output();
    if (c.empty() && s.empty()) break;
    if (!s.empty()) {
      Bytes copy(s.begin(), s.end());
      recorded.insert(recorded.end(), copy.begin(), copy.end());
      server.consume_output(copy.size());
      if (!client.feed(copy, now)) return {};
    }
    ByteView c2 = client.pending_output();
    if (!c2.empty()) {
      Bytes copy(c2.begin(), c2.end());
      client.consume_output(copy.size());
      if (!server.feed(copy, now)) return {};
    }
  }
  if (client.kex_count() != 1) return {};
  return recorded;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  for (const auto& kex : supported_algorithms(AlgorithmKind::kKex)) {
    if (kex == "curve25519-sha256@libssh.org") continue;  // same code as curve25519-sha256
    Bytes stream = server_stream(kex, "none");
    if (stream.empty()) return 1;
    Bytes seed{0};
    seed.insert(seed.end(), stream.begin(), stream.end());
    if (!write(dir + "/server_" + kex, seed)) return 1;
  }
  Bytes stream = server_stream("curve25519-sha256", "aes128-ctr");
  if (stream.empty()) return 1;
  const std::string banner = "Authorized access only\r\nThis system is monitored.\r\n\r\n";
  Bytes seed{5};
  seed.insert(seed.end(), banner.begin(), banner.end());
  seed.insert(seed.end(), stream.begin(), stream.end());
  if (!write(dir + "/banner_aes128-ctr", seed)) return 1;
  return 0;
}
#endif
