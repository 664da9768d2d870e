// Fuzz target for the inbound packet path: the first byte selects a cipher x MAC combination with
// fixed keys; the rest is a received byte stream handled as the transport does (peek_length, bound
// the length, open when enough bytes are there). Must never crash, hang or read out of bounds.
//
// Build with -DHASHI_FUZZ=ON (clang). Define HASHI_FUZZ_GENERATE_SEEDS to build a small program
// that writes valid sealed streams to the seed corpus directory given as argv[1].
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "transport/packet_cipher.h"
#include "wire/writer.h"

namespace {

using hashi::Bytes;
using hashi::ByteView;
using hashi::MutableByteView;
using namespace hashi::transport;

struct Combo {
  const char* cipher;
  const char* mac;
};
constexpr Combo kCombos[] = {
    {"none", "none"},
    {"none", "hmac-sha2-256"},
    {"chacha20-poly1305@openssh.com", "none"},
    {"aes128-gcm@openssh.com", "none"},
    {"aes256-gcm@openssh.com", "none"},
    {"aes128-ctr", "hmac-sha2-256"},
    {"aes192-ctr", "hmac-sha2-512"},
    {"aes256-ctr", "hmac-sha1"},
    {"aes128-ctr", "hmac-sha2-256-etm@openssh.com"},
    {"aes256-ctr", "hmac-sha2-512-etm@openssh.com"},
    {"aes128-ctr", "hmac-sha1-etm@openssh.com"},
    {"aes256-ctr", "none"},
};
constexpr size_t kNumCombos = sizeof kCombos / sizeof kCombos[0];
// The transport's bound on packet_length (OpenSSH: PACKET_MAX_SIZE 256 KiB).
constexpr uint32_t kMaxPacketLen = 256 * 1024;

Bytes fixed_key(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = static_cast<uint8_t>(seed * 31 + i);
  }
  return b;
}

struct Keys {
  Bytes key, iv, mac_key;
};
Keys keys_for(const Combo& c) {
  const CipherInfo* ci = find_cipher(c.cipher);
  const MacInfo* mi = find_mac(c.mac);
  return {fixed_key(ci->key_len, 1), fixed_key(ci->iv_len, 2), fixed_key(mi->key_len, 3)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const Combo& combo = kCombos[data[0] % kNumCombos];
  const Keys k = keys_for(combo);
  auto opener = make_opener(combo.cipher, combo.mac, k.key, k.iv, k.mac_key);
  if (!opener) {
    __builtin_trap();
  }
  // Work on a private copy: open() decrypts in place.
  Bytes stream(data + 1, data + size);
  size_t pos = 0;
  uint32_t seq = 0;
  while (stream.size() - pos >= opener->header_len()) {
    MutableByteView rest = MutableByteView(stream).subspan(pos);
    const uint32_t len = opener->peek_length(seq, rest.first(opener->header_len()));
    if (len > kMaxPacketLen || len < 5) {
      return 0;  // the transport disconnects
    }
    const size_t need = 4 + size_t{len} + opener->tag_len();
    if (rest.size() < need) {
      return 0;  // waits for more bytes
    }
    if (!opener->open(seq, rest.first(4 + len), ByteView(rest).subspan(4 + len, opener->tag_len()))) {
      return 0;  // MAC error: disconnect
    }
    // Read the padding length as the transport would, bounded by the packet.
    volatile uint8_t pad = rest[4];
    (void)pad;
    pos += need;
    ++seq;
  }
  return 0;
}

#ifdef HASHI_FUZZ_GENERATE_SEEDS
// Writes one seed per combination: the selector byte followed by two sealed packets.
int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
    return 2;
  }
  for (size_t i = 0; i < kNumCombos; ++i) {
    const Keys k = keys_for(kCombos[i]);
    auto sealer = make_sealer(kCombos[i].cipher, kCombos[i].mac, k.key, k.iv, k.mac_key);
    Bytes out{static_cast<uint8_t>(i)};
    for (uint32_t seq = 0; seq < 2; ++seq) {
      const size_t payload_len = seq == 0 ? 5 : 21;
      const size_t bs = sealer->block_size();
      const size_t fixed = sealer->length_excluded() ? 1 : 5;
      size_t pad = bs - ((fixed + payload_len) % bs);
      if (pad < 4) {
        pad += bs;
      }
      Bytes pkt;
      hashi::wire::Writer w(pkt);
      w.u32(static_cast<uint32_t>(1 + payload_len + pad)).u8(static_cast<uint8_t>(pad));
      for (size_t j = 0; j < payload_len + pad; ++j) {
        w.u8(static_cast<uint8_t>(j == 0 ? 94 : j));
      }
      const size_t n = pkt.size();
      pkt.resize(n + sealer->tag_len());
      sealer->seal(seq, MutableByteView(pkt).first(n), MutableByteView(pkt).subspan(n));
      out.insert(out.end(), pkt.begin(), pkt.end());
    }
    const std::string path = std::string(argv[1]) + "/seed_" + std::to_string(i);
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(out.data(), 1, out.size(), f) != out.size()) {
      return 1;
    }
    std::fclose(f);
  }
  return 0;
}
#endif
