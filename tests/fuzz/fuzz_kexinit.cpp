// Fuzz target for SSH_MSG_KEXINIT (RFC 4253 section 7.1): KexInit::decode on the input; when it
// decodes, the message is negotiated against a fixed realistic offer in both roles and must
// re-encode to the bytes it came from (boolean normalised to 0/1) and decode back to the same
// struct. Any mismatch or an impossible negotiation result aborts.
//
// Define HASHI_FUZZ_GENERATE_SEEDS to build a small program that writes realistic KEXINIT
// payloads to the seed corpus directory given as argv[1].
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "transport/kexinit.h"
#include "transport/packet_cipher.h"

namespace {

using hashi::Bytes;
using hashi::ByteView;
using namespace hashi::transport;

bool is_aead(std::string_view cipher) {
  const CipherInfo* c = find_cipher(cipher);
  return c != nullptr && c->aead;
}

// An OpenSSH 9.x-like offer (what a hashi peer sends with the default lists, first exchange).
KexInit realistic(bool client) {
  KexInit k;
  for (size_t i = 0; i < k.cookie.size(); ++i) {
    k.cookie[i] = static_cast<uint8_t>(0xa0 + i);
  }
  k.kex = {"curve25519-sha256",
           "curve25519-sha256@libssh.org",
           "ecdh-sha2-nistp256",
           "ecdh-sha2-nistp384",
           "ecdh-sha2-nistp521",
           "diffie-hellman-group-exchange-sha256",
           "diffie-hellman-group16-sha512",
           "diffie-hellman-group18-sha512",
           "diffie-hellman-group14-sha256",
           std::string(client ? kExtInfoClient : kExtInfoServer),
           std::string(client ? kStrictKexClient : kStrictKexServer)};
  k.host_key = {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256"};
  k.cipher_c2s = k.cipher_s2c = {"chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr",
                                 "aes256-ctr", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com"};
  k.mac_c2s = k.mac_s2c = {"umac-64-etm@openssh.com",       "umac-128-etm@openssh.com",
                           "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
                           "hmac-sha1-etm@openssh.com",     "hmac-sha2-256",
                           "hmac-sha2-512",                 "hmac-sha1"};
  k.compression_c2s = k.compression_s2c = {"none", "zlib@openssh.com"};
  return k;
}

bool same(const KexInit& a, const KexInit& b) {
  return a.cookie == b.cookie && a.kex == b.kex && a.host_key == b.host_key &&
         a.cipher_c2s == b.cipher_c2s && a.cipher_s2c == b.cipher_s2c &&
         a.mac_c2s == b.mac_c2s && a.mac_s2c == b.mac_s2c &&
         a.compression_c2s == b.compression_c2s && a.compression_s2c == b.compression_s2c &&
         a.language_c2s == b.language_c2s && a.language_s2c == b.language_s2c &&
         a.first_kex_packet_follows == b.first_kex_packet_follows && a.reserved == b.reserved;
}

bool contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// Checks what negotiate() promises: each choice is in both lists, the kex choice is a real
// method (never a pseudo-algorithm), and the MAC is empty exactly for AEAD ciphers.
void check_negotiation(const KexInit& client, const KexInit& server) {
  std::string error;
  auto n = negotiate(client, server, is_aead, error);
  if (!n) {
    if (error.empty()) __builtin_trap();
    return;
  }
  auto in_both = [](const std::vector<std::string>& c, const std::vector<std::string>& s,
                    const std::string& v) { return contains(c, v) && contains(s, v); };
  if (!in_both(client.kex, server.kex, n->kex) || n->kex == kExtInfoClient ||
      n->kex == kExtInfoServer || n->kex == kStrictKexClient || n->kex == kStrictKexServer) {
    __builtin_trap();
  }
  if (!in_both(client.host_key, server.host_key, n->host_key) ||
      !in_both(client.cipher_c2s, server.cipher_c2s, n->cipher_c2s) ||
      !in_both(client.cipher_s2c, server.cipher_s2c, n->cipher_s2c) ||
      !in_both(client.compression_c2s, server.compression_c2s, n->compression_c2s) ||
      !in_both(client.compression_s2c, server.compression_s2c, n->compression_s2c)) {
    __builtin_trap();
  }
  if (is_aead(n->cipher_c2s) != n->mac_c2s.empty() ||
      is_aead(n->cipher_s2c) != n->mac_s2c.empty()) {
    __builtin_trap();
  }
  if (!n->mac_c2s.empty() && !in_both(client.mac_c2s, server.mac_c2s, n->mac_c2s)) {
    __builtin_trap();
  }
  if (!n->mac_s2c.empty() && !in_both(client.mac_s2c, server.mac_s2c, n->mac_s2c)) {
    __builtin_trap();
  }
  // The client's preference wins: no earlier client kex name is offered by the server.
  for (const auto& name : client.kex) {
    if (name == n->kex) break;
    const bool pseudo = name == kExtInfoClient || name == kExtInfoServer ||
                        name == kStrictKexClient || name == kStrictKexServer;
    if (!pseudo && contains(server.kex, name)) __builtin_trap();
  }
  // A guessed packet is judged by the two sides' first choices only.
  const bool firsts_differ = client.kex.empty() || server.kex.empty() ||
                             client.kex.front() != server.kex.front() ||
                             client.host_key.empty() || server.host_key.empty() ||
                             client.host_key.front() != server.host_key.front();
  if (guess_was_wrong(client, server) != (client.first_kex_packet_follows && firsts_differ)) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const KexInit our_client = realistic(true);
  static const KexInit our_server = realistic(false);

  const ByteView in(data, size);
  KexInit peer;
  if (!KexInit::decode(in, peer)) {
    return 0;
  }
  check_negotiation(peer, our_server);  // the peer as a client
  check_negotiation(our_client, peer);  // the peer as a server

  // Round trip: the encoding is canonical except for the boolean, which any non-zero sets.
  Bytes encoded;
  peer.encode(encoded);
  Bytes expected(in.begin(), in.end());
  expected[expected.size() - 5] = peer.first_kex_packet_follows ? 1 : 0;
  if (encoded != expected) __builtin_trap();
  KexInit again;
  if (!KexInit::decode(encoded, again) || !same(peer, again)) __builtin_trap();
  return 0;
}

#ifdef HASHI_FUZZ_GENERATE_SEEDS
#include <cstdio>
// Writes realistic KEXINIT payloads (client, server, a peer guessing its first packet, a PuTTY-
// like offer with a language tag).
int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
    return 2;
  }
  std::vector<std::pair<std::string, KexInit>> seeds;
  seeds.emplace_back("client", realistic(true));
  seeds.emplace_back("server", realistic(false));
  KexInit guess = realistic(true);
  guess.first_kex_packet_follows = true;
  seeds.emplace_back("guess", guess);
  KexInit putty;
  putty.kex = {"ecdh-sha2-nistp256", "diffie-hellman-group-exchange-sha256",
               "diffie-hellman-group14-sha256", "ext-info-c"};
  putty.host_key = {"ssh-ed25519", "rsa-sha2-512", "ssh-rsa"};
  putty.cipher_c2s = putty.cipher_s2c = {"aes256-ctr", "aes256-gcm@openssh.com"};
  putty.mac_c2s = putty.mac_s2c = {"hmac-sha2-256", "hmac-sha1"};
  putty.compression_c2s = putty.compression_s2c = {"none"};
  putty.language_c2s = {"en-US"};
  putty.reserved = 0x01020304;
  seeds.emplace_back("putty", putty);
  for (const auto& [name, k] : seeds) {
    Bytes out;
    k.encode(out);
    const std::string path = std::string(argv[1]) + "/" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(out.data(), 1, out.size(), f) != out.size()) {
      return 1;
    }
    std::fclose(f);
  }
  return 0;
}
#endif
