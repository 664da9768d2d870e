// An in-memory client::ClientConnection <-> server::ServerConnection pair: both sans-I/O cores,
// with the test moving the bytes between their transports (in chunks it chooses) on a fake clock.
// The server side gets a fake Authenticator (one user, one authorized key) and a fake SessionHost
// that records what it is asked to run; the test then plays the program through the server's
// input_queue / drained_input / send_output / send_stderr / session_finished, as the driver does
// with a real process.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "auth/server_auth.h"
#include "client/client_connection.h"
#include "config/algorithms.h"
#include "keys/key.h"
#include "server/server_connection.h"
#include "session/transport_pair.h"
#include "transport/transport.h"

namespace hashi::test {

// One user with one authorized key; everyone else is unknown.
struct FakeAuthenticator : auth::Authenticator {
  std::string user = "alice";
  keys::PublicKey authorized;
  std::vector<std::string> lookups;  // users authorize_key was asked about, in order

  bool user_exists(std::string_view u) override { return u == user; }
  std::optional<keys::KeyOptions> authorize_key(std::string_view u,
                                                const keys::PublicKey& key) override {
    lookups.emplace_back(u);
    if (u == user && key == authorized) return keys::KeyOptions{};
    return std::nullopt;
  }
};

// Records what the server asks of the program instead of spawning one.
struct FakeSessionHost : server::SessionHost {
  bool refuse = false;  // start_session answers false
  std::map<uint32_t, server::SessionStart> started;
  std::vector<std::pair<uint32_t, std::string>> signals;
  std::vector<uint32_t> closed;

  bool start_session(uint32_t channel, const server::SessionStart& start) override {
    if (refuse) return false;
    started[channel] = start;
    return true;
  }
  void signal_session(uint32_t channel, const std::string& name) override {
    signals.emplace_back(channel, name);
  }
  void session_closed(uint32_t channel) override { closed.push_back(channel); }
};

// A session key pair shared by every test (ed25519 keys are cheap, but not free under ASan).
inline const keys::PrivateKey& alice_key() {
  static const keys::PrivateKey key = keys::PrivateKey::generate(keys::KeyType::kEd25519);
  return key;
}
inline const keys::PrivateKey& stranger_key() {
  static const keys::PrivateKey key = keys::PrivateKey::generate(keys::KeyType::kEd25519);
  return key;
}

inline transport::TransportConfig default_transport_config() {
  using config::AlgorithmKind;
  transport::TransportConfig c;
  c.kex_algorithms = config::default_algorithms(AlgorithmKind::kKex);
  c.host_key_algorithms = config::default_algorithms(AlgorithmKind::kHostKey);
  c.ciphers = config::default_algorithms(AlgorithmKind::kCipher);
  c.macs = config::default_algorithms(AlgorithmKind::kMac);
  return c;
}

struct SessionPairOptions {
  std::string user = "alice";
  const keys::PrivateKey* identity = &alice_key();
  std::optional<std::string> command = "run-the-test";
  transport::TransportConfig client_transport = default_transport_config();
  transport::TransportConfig server_transport = default_transport_config();
};

struct SessionPair {
  FakeAuthenticator authenticator;
  FakeSessionHost host;
  std::unique_ptr<client::ClientConnection> client;
  std::unique_ptr<server::ServerConnection> server;
  std::vector<std::string> client_debug;
  TimePoint now{};
  std::mt19937 rng{1};
  // How each stream is cut: 0 = everything at once; otherwise chunks of min_chunk..max_chunk.
  size_t min_chunk = 1;
  size_t max_chunk = 0;
  // What each side's last feed() said; after a failure nothing more is fed to that side.
  transport::Status client_status = transport::Status::ok();
  transport::Status server_status = transport::Status::ok();
  // Applied to every server -> client batch before delivery (tampering tests).
  std::function<void(Bytes&)> server_to_client_mutate;

  explicit SessionPair(SessionPairOptions o = {}) {
    authenticator.authorized = alice_key().public_key();
    o.server_transport.host_keys.push_back(
        std::make_shared<keys::PrivateKey>(test_host_key(keys::KeyType::kEd25519)));
    server = std::make_unique<server::ServerConnection>(std::move(o.server_transport),
                                                       authenticator, auth::ServerAuthLimits{},
                                                       host, "192.0.2.1", 40000);
    client::ClientConnectionConfig cc;
    cc.transport = std::move(o.client_transport);
    cc.user = o.user;
    if (o.identity) cc.identities.push_back(std::make_shared<keys::PrivateKey>(*o.identity));
    cc.command = o.command;
    keys::PublicKey expected_host = test_host_key(keys::KeyType::kEd25519).public_key();
    client = std::make_unique<client::ClientConnection>(
        std::move(cc),
        [expected_host](const keys::PublicKey& k) {
          if (k == expected_host) return transport::Status::ok();
          return transport::Status::fail(msg::DisconnectReason::kHostKeyNotVerifiable,
                                         "unexpected host key");
        },
        [this](int, const std::string& m) { client_debug.push_back(m); });
  }

  transport::Transport& ct() { return client->transport(); }
  transport::Transport& st() { return server->transport(); }

  // Moves what `from` has pending into `to`, cut as configured; returns the bytes taken.
  size_t move(transport::Transport& from, transport::Transport& to, transport::Status& status,
              const std::function<void(Bytes&)>& mutate) {
    ByteView out = from.pending_output();
    if (out.empty() || !status) return 0;
    Bytes data(out.begin(), out.end());
    from.consume_output(out.size());
    if (mutate) mutate(data);
    size_t pos = 0;
    while (pos < data.size() && status) {
      size_t n = data.size() - pos;
      if (max_chunk) {
        n = std::min(n, min_chunk + size_t(rng() % (max_chunk - min_chunk + 1)));
      }
      status = to.feed(ByteView(data.data() + pos, n), now);
      pos += n;
    }
    return data.size();
  }

  // One round each way; returns the bytes moved.
  size_t step() {
    size_t moved = move(ct(), st(), server_status, {});
    moved += move(st(), ct(), client_status, server_to_client_mutate);
    return moved;
  }

  // Moves bytes until neither side has anything to send.
  void pump(int max_rounds = 10000) {
    for (int i = 0; i < max_rounds && step() > 0; ++i) {
    }
  }

  void start() {
    client->start(now);
    server->start(now);
  }

  // Starts both sides and pumps until the server has been asked to start a session (or nothing
  // more happens). Returns the channel id, if any.
  std::optional<uint32_t> start_session() {
    start();
    pump();
    if (host.started.empty()) return std::nullopt;
    return host.started.begin()->first;
  }
};

// Deterministic pseudo-random bytes.
inline Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  Bytes b(n);
  for (auto& x : b) x = uint8_t(g());
  return b;
}

}  // namespace hashi::test
