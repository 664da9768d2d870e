// Fuzz target for the key-exchange methods (transport::KeyExchange) fed hostile peer messages.
//
// Input: byte 0 selects the method (low 3 bits: curve25519-sha256, ecdh-sha2-nistp256/384/521,
// diffie-hellman-group14-sha256/16/18, group-exchange-sha256; with bit 6 set instead the hybrid
// post-quantum methods, low 3 bits mod 3: mlkem768x25519-sha256, sntrup761x25519-sha512,
// sntrup761x25519-sha512@openssh.com) and the side (bit 3: 0 = client, 1 = server); for the
// client, bits 4-5 pick the negotiated host-key algorithm.
// For the hybrid methods the client gets a KEX_HYBRID_REPLY (host key, string S_REPLY = KEM
// ciphertext || X25519 key, signature) and the server a KEX_HYBRID_INIT (string C_INIT = KEM
// public key || X25519 key), both with whatever sizes and values the fuzzer makes of them.
//  - client: start() queues our INIT / GEX REQUEST; the rest of the input is the server's REPLY
//    (message 31), or for group exchange a 2-byte length, the GEX GROUP (31) body and then the
//    GEX REPLY (33) body.
//  - server (fixed ed25519 host key): the rest is the client's INIT (30), or for group exchange a
//    2-byte length, the GEX REQUEST (34) body and then the GEX INIT (32) body.
// The message numbers are prepended here so the fuzzer spends its time on the bodies. Must never
// crash; a failed step must leave the exchange unfinished with a reason, and only the last
// message may finish it.
//
// Define HASHI_FUZZ_GENERATE_SEEDS to build a small program that runs real client and server
// exchanges against each other and writes the messages each side receives as seeds (argv[1]).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "keys/key.h"
#include "transport/kex.h"
#include "wire/messages.h"

namespace {

using hashi::Bytes;
using hashi::ByteView;
using namespace hashi;
using namespace hashi::transport;

constexpr const char* kMethods[8] = {
    "curve25519-sha256",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group-exchange-sha256",
};
constexpr const char* kHybridMethods[3] = {
    "mlkem768x25519-sha256",
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
};
constexpr uint8_t kHybridBit = 0x40;

const char* method_name(uint8_t selector) {
  return (selector & kHybridBit) != 0 ? kHybridMethods[(selector & 7) % 3] : kMethods[selector & 7];
}

constexpr const char* kClientHostKeyAlgs[4] = {"ssh-ed25519", "ecdsa-sha2-nistp256",
                                               "rsa-sha2-256", "rsa-sha2-512"};
constexpr uint8_t kServerBit = 0x08;

KexTranscript fixed_transcript() {
  KexTranscript t;
  t.client_version = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3";
  t.server_version = "SSH-2.0-hashi_0.1";
  t.client_kexinit = Bytes{20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  t.server_kexinit = Bytes{20, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  return t;
}

const std::shared_ptr<const keys::PrivateKey>& host_key() {
  static const auto key =
      std::make_shared<const keys::PrivateKey>(keys::PrivateKey::generate(keys::KeyType::kEd25519));
  return key;
}

Bytes with_type(uint8_t type, ByteView body) {
  Bytes m{type};
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

// Splits `in` into the messages' bodies: one, or (for group exchange) a 2-byte length, the
// first body, then the second.
std::vector<ByteView> bodies(ByteView in, bool two) {
  if (!two) return {in};
  if (in.size() < 2) return {};
  size_t first = (size_t{in[0]} << 8) | in[1];
  in = in.subspan(2);
  if (first > in.size()) first = in.size();
  return {in.first(first), in.subspan(first)};
}

// Feeds the messages in order, checking the invariants of each step.
// Server: signs H with the host key when the exchange asks (as the Transport does).
bool sign_if_asked(KeyExchange& kex, std::vector<Bytes>& out) {
  if (!kex.awaiting_signature()) return true;
  return kex.set_signature(host_key()->sign(kex.host_key_algorithm(), kex.exchange_hash()), out)
      .is_ok();
}

void run(KeyExchange& kex, const std::vector<Bytes>& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    std::vector<Bytes> out;
    Status s = kex.on_message(messages[i], out);
    if (!s) {
      if (kex.done() || s.message().empty()) __builtin_trap();
      return;
    }
    if (!sign_if_asked(kex, out)) __builtin_trap();
    const bool last = i + 1 == messages.size();
    if (kex.done() != last) __builtin_trap();
    if (out.size() > 1) __builtin_trap();
  }
  if (!kex.done()) return;
  if (kex.exchange_hash().empty() || kex.shared_secret_mpint().empty() || !kex.host_key()) {
    __builtin_trap();
  }
  // Not checked: a finished KeyExchange still accepts another INIT / REPLY (its step does not
  // move past the last one); Transport::check_allowed refuses kex messages once done().
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const uint8_t selector = data[0];
  const KexMethodInfo* method = find_kex_method(method_name(selector));
  if (method == nullptr) __builtin_trap();
  if (((selector & kHybridBit) != 0) != (method->family == KexFamily::kHybrid)) __builtin_trap();
  const bool gex = method->family == KexFamily::kDhGex;
  const bool server = (selector & kServerBit) != 0;
  const std::vector<ByteView> parts = bodies(ByteView(data + 1, size - 1), gex);
  if (parts.empty()) {
    return 0;
  }

  std::vector<Bytes> messages;
  if (server) {
    auto kex = KeyExchange::server(*method, fixed_transcript(), host_key()->public_key(), "ssh-ed25519");
    std::vector<Bytes> out;
    kex->start(out);  // a server sends nothing first
    if (!out.empty()) __builtin_trap();
    if (gex) {
      messages.push_back(with_type(msg::kKexDhGexRequest, parts[0]));
      messages.push_back(with_type(msg::kKexDhGexInit, parts[1]));
    } else {
      messages.push_back(with_type(msg::kKexdhInit, parts[0]));
    }
    run(*kex, messages);
  } else {
    auto kex = KeyExchange::client(*method, fixed_transcript(),
                                   kClientHostKeyAlgs[(selector >> 4) & 3]);
    std::vector<Bytes> out;
    kex->start(out);
    if (out.size() != 1) __builtin_trap();
    if (gex) {
      messages.push_back(with_type(msg::kKexDhGexGroup, parts[0]));
      messages.push_back(with_type(msg::kKexDhGexReply, parts[1]));
    } else {
      messages.push_back(with_type(msg::kKexdhReply, parts[0]));
    }
    run(*kex, messages);
  }
  return 0;
}

#ifdef HASHI_FUZZ_GENERATE_SEEDS
#include <cstdio>
// Runs a real client against a real server for every method and writes, per method, what the
// client receives (selector, [2-byte length, GROUP body], REPLY body) and what the server
// receives (selector | server bit, [2-byte length, REQUEST body], INIT body). The client seeds'
// signatures cover the generator's own client value, so in the fuzzer they fail only at the
// last step; the server seeds run to completion.
namespace {
bool write(const std::string& path, const Bytes& b) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(b.data(), 1, b.size(), f) == b.size();
  return std::fclose(f) == 0 && ok;
}
void append_body(Bytes& seed, const Bytes& message, bool length_prefix) {
  const size_t n = message.size() - 1;
  if (length_prefix) {
    seed.push_back(static_cast<uint8_t>(n >> 8));
    seed.push_back(static_cast<uint8_t>(n));
  }
  seed.insert(seed.end(), message.begin() + 1, message.end());
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
    return 2;
  }
  // the 8 classical methods, then the 3 hybrid ones (selector bit 6)
  for (uint8_t n = 0; n < 11; ++n) {
    const uint8_t i = n < 8 ? n : static_cast<uint8_t>(kHybridBit | (n - 8));
    const char* name = method_name(i);
    const KexMethodInfo* method = find_kex_method(name);
    if (method == nullptr) return 1;
    const bool gex = method->family == KexFamily::kDhGex;
    auto client = KeyExchange::client(*method, fixed_transcript(), "ssh-ed25519");
    auto server = KeyExchange::server(*method, fixed_transcript(), host_key()->public_key(), "ssh-ed25519");
    std::vector<Bytes> to_server, to_client;
    client->start(to_server);
    Bytes client_seed{i};
    Bytes server_seed{static_cast<uint8_t>(i | kServerBit)};
    if (gex) {
      append_body(server_seed, to_server.back(), true);
      if (!server->on_message(to_server.back(), to_client)) return 1;
      append_body(client_seed, to_client.back(), true);
      if (!client->on_message(to_client.back(), to_server)) return 1;
    }
    append_body(server_seed, to_server.back(), false);
    if (!server->on_message(to_server.back(), to_client)) return 1;
    if (!sign_if_asked(*server, to_client)) return 1;
    append_body(client_seed, to_client.back(), false);
    if (!client->on_message(to_client.back(), to_server) || !client->done() ||
        client->exchange_hash() != server->exchange_hash()) {
      std::fprintf(stderr, "%s: exchange failed\n", name);
      return 1;
    }
    const std::string dir = argv[1];
    if (!write(dir + "/client_" + name, client_seed) ||
        !write(dir + "/server_" + name, server_seed)) {
      return 1;
    }
  }
  return 0;
}
#endif
