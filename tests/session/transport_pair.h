// An in-memory client/server transport pair: bytes move between the two cores in chunks the
// test chooses (whole, random sizes, one byte at a time), with a fake clock.
#pragma once

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "keys/key.h"
#include "transport/transport.h"

namespace hashi::test {

// Records what a transport hands upward.
struct RecordingListener : transport::TransportListener {
  std::vector<Bytes> messages;
  int kex_completions = 0;
  bool reject_host_key = false;
  std::vector<std::string> server_sig_algs;
  std::vector<std::string> debug;
  std::optional<transport::Status> check_host_key(const keys::PublicKey&) override {
    if (reject_host_key) {
      return transport::Status::fail(msg::DisconnectReason::kHostKeyNotVerifiable, "rejected");
    }
    return transport::Status::ok();
  }
  void on_kex_complete(bool) override { ++kex_completions; }
  void on_server_sig_algs(const std::vector<std::string>& a) override { server_sig_algs = a; }
  transport::Status on_message(ByteView payload) override {
    messages.emplace_back(payload.begin(), payload.end());
    return transport::Status::ok();
  }
  void on_debug(int, const std::string& m) override { debug.push_back(m); }
};

inline const keys::PrivateKey& test_host_key(keys::KeyType type) {
  static std::map<keys::KeyType, keys::PrivateKey> cache;
  auto it = cache.find(type);
  if (it == cache.end()) {
    it = cache.emplace(type, keys::PrivateKey::generate(type, type == keys::KeyType::kRsa ? 2048 : 0))
             .first;
  }
  return it->second;
}

struct TransportPair {
  RecordingListener client_events, server_events;
  std::unique_ptr<transport::Transport> client, server;
  TimePoint now{};
  std::mt19937 rng{12345};
  // 0 = deliver everything at once; otherwise chunks of 1..max_chunk bytes.
  size_t max_chunk = 0;
  transport::Status client_status = transport::Status::ok();
  transport::Status server_status = transport::Status::ok();

  TransportPair(transport::TransportConfig c, transport::TransportConfig s) {
    c.role = transport::Role::kClient;
    s.role = transport::Role::kServer;
    client = std::make_unique<transport::Transport>(std::move(c), client_events);
    server = std::make_unique<transport::Transport>(std::move(s), server_events);
  }

  // Moves pending bytes one way; returns the number moved. `mutate` may alter them in flight.
  size_t move(transport::Transport& from, transport::Transport& to, transport::Status& status,
              const std::function<void(Bytes&)>& mutate = {}) {
    ByteView out = from.pending_output();
    if (out.empty()) return 0;
    Bytes data(out.begin(), out.end());
    from.consume_output(out.size());
    if (mutate) mutate(data);
    size_t pos = 0;
    while (pos < data.size() && status) {
      size_t n = data.size() - pos;
      if (max_chunk) n = std::min(n, size_t(1 + rng() % max_chunk));
      status = to.feed(ByteView(data.data() + pos, n), now);
      pos += n;
    }
    return data.size();
  }

  // Pumps until neither side has output; returns false if a side failed.
  bool pump(int max_rounds = 1000) {
    for (int i = 0; i < max_rounds; ++i) {
      size_t moved = 0;
      if (client_status) moved += move(*client, *server, server_status);
      if (server_status) moved += move(*server, *client, client_status);
      if (moved == 0) break;
    }
    return client_status && server_status;
  }

  bool handshake() {
    client->start(now);
    server->start(now);
    return pump();
  }
};

inline transport::TransportConfig config_with(std::string kex, std::string cipher, std::string mac,
                                              std::string host_key_alg) {
  transport::TransportConfig c;
  c.kex_algorithms = {std::move(kex)};
  c.ciphers = {std::move(cipher)};
  c.macs = {std::move(mac)};
  c.host_key_algorithms = {std::move(host_key_alg)};
  return c;
}

}  // namespace hashi::test
