// Tests for src/transport/packet_cipher: round trips for every cipher x MAC, tampering, wrong
// sequence numbers, and independent computations of chacha20-poly1305@openssh.com, AES-GCM and
// AES-CTR + HMAC with raw OpenSSL calls.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "crypto/hash.h"
#include "transport/packet_cipher.h"
#include "wire/writer.h"

namespace hashi::transport {
namespace {

const std::vector<std::string> kAllCiphers = {
    "none",       "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"};
const std::vector<std::string> kAllMacs = {
    "none",        "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com"};

// Deterministic key material.
Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = static_cast<uint8_t>(seed + i * 7);
  }
  return b;
}

struct Combo {
  std::string cipher;
  std::string mac;
};

std::vector<Combo> all_combos() {
  std::vector<Combo> out;
  for (const auto& c : kAllCiphers) {
    if (find_cipher(c)->aead) {
      out.push_back({c, "none"});
      continue;
    }
    for (const auto& m : kAllMacs) {
      out.push_back({c, m});
    }
  }
  return out;
}

struct Keys {
  Bytes key, iv, mac_key;
};

Keys keys_for(const Combo& c) {
  const CipherInfo* ci = find_cipher(c.cipher);
  const MacInfo* mi = find_mac(c.mac);
  return {pattern(ci->key_len, 1), pattern(ci->iv_len, 2),
          ci->aead ? Bytes{} : pattern(mi->key_len, 3)};
}

struct Pair {
  std::unique_ptr<PacketSealer> sealer;
  std::unique_ptr<PacketOpener> opener;
};

Pair make_pair_for(const Combo& c) {
  Keys k = keys_for(c);
  return {make_sealer(c.cipher, c.mac, k.key, k.iv, k.mac_key),
          make_opener(c.cipher, c.mac, k.key, k.iv, k.mac_key)};
}

// Formats [len][padlen][payload][padding] for `sealer` (RFC 4253 section 6: >= 4 padding bytes).
Bytes format_packet(const PacketSealer& sealer, ByteView payload) {
  const size_t bs = sealer.block_size();
  const size_t fixed = sealer.length_excluded() ? 1 : 5;
  size_t pad = bs - ((fixed + payload.size()) % bs);
  if (pad < 4) {
    pad += bs;
  }
  Bytes pkt;
  wire::Writer w(pkt);
  w.u32(static_cast<uint32_t>(1 + payload.size() + pad)).u8(static_cast<uint8_t>(pad));
  w.raw(payload);
  w.raw(pattern(pad, 0x55));
  return pkt;
}

// Seals one packet and returns the wire bytes: packet || tag.
Bytes seal_to_wire(PacketSealer& sealer, uint32_t seq, ByteView payload) {
  Bytes pkt = format_packet(sealer, payload);
  const size_t n = pkt.size();
  pkt.resize(n + sealer.tag_len());
  sealer.seal(seq, MutableByteView(pkt).first(n), MutableByteView(pkt).subspan(n));
  return pkt;
}

constexpr uint32_t kMaxPacket = 256 * 1024;

// Receives one packet as the transport would; returns the payload or nullopt on rejection.
std::optional<Bytes> receive(PacketOpener& opener, uint32_t seq, Bytes wire_bytes) {
  if (wire_bytes.size() < opener.header_len()) {
    return std::nullopt;
  }
  const uint32_t len =
      opener.peek_length(seq, MutableByteView(wire_bytes).first(opener.header_len()));
  if (len > kMaxPacket || len < 5) {
    return std::nullopt;  // the caller's bound: disconnect
  }
  const size_t need = 4 + size_t{len} + opener.tag_len();
  if (wire_bytes.size() < need) {
    wire_bytes.resize(need, 0);  // "more bytes arrived" from the attacker
  }
  MutableByteView pkt = MutableByteView(wire_bytes).first(4 + len);
  ByteView tag = ByteView(wire_bytes).subspan(4 + len, opener.tag_len());
  if (!opener.open(seq, pkt, tag)) {
    return std::nullopt;
  }
  const uint8_t pad = pkt[4];
  if (size_t{pad} + 1 > len) {
    return std::nullopt;
  }
  return Bytes(pkt.begin() + 5, pkt.begin() + 4 + len - pad);
}

std::string name(const Combo& c) { return c.cipher + "+" + c.mac; }

TEST(PacketCipherTable, Lookup) {
  EXPECT_EQ(find_cipher("aes256-gcm@openssh.com")->key_len, 32u);
  EXPECT_EQ(find_cipher("chacha20-poly1305@openssh.com")->key_len, 64u);
  EXPECT_EQ(find_cipher("aes128-ctr")->iv_len, 16u);
  EXPECT_EQ(find_cipher("3des-cbc"), nullptr);
  EXPECT_EQ(find_mac("hmac-sha2-512-etm@openssh.com")->tag_len, 64u);
  EXPECT_TRUE(find_mac("hmac-sha1-etm@openssh.com")->etm);
  EXPECT_EQ(find_mac("hmac-md5"), nullptr);
}

TEST(PacketCipherFactory, RejectsUnknownNamesAndBadLengths) {
  const Bytes k16 = pattern(16, 1), k32 = pattern(32, 1), iv16 = pattern(16, 2);
  EXPECT_FALSE(make_sealer("aes128-cbc", "hmac-sha2-256", k16, iv16, k32));
  EXPECT_FALSE(make_opener("aes128-ctr", "hmac-md5", k16, iv16, k32));
  EXPECT_FALSE(make_sealer("aes128-ctr", "hmac-sha2-256", k32, iv16, k32));
  EXPECT_FALSE(make_opener("aes128-ctr", "hmac-sha2-256", k16, k16.size() ? Bytes(12) : Bytes{}, k32));
  EXPECT_FALSE(make_sealer("aes128-ctr", "hmac-sha2-256", k16, iv16, k16));
  EXPECT_FALSE(make_sealer("chacha20-poly1305@openssh.com", "none", k32, {}, {}));
  EXPECT_FALSE(make_opener("aes128-gcm@openssh.com", "none", k16, iv16, {}));
  // The MAC is ignored for AEAD ciphers.
  EXPECT_TRUE(make_sealer("aes128-gcm@openssh.com", "hmac-sha2-256", k16, Bytes(12), {}));
  EXPECT_TRUE(make_opener("chacha20-poly1305@openssh.com", "whatever", pattern(64, 1), {}, {}));
  EXPECT_TRUE(make_sealer("none", "none", {}, {}, {}));
}

TEST(PacketCipher, RoundTripEveryCombo) {
  const size_t sizes[] = {0, 1, 15, 16, 17, 100, 1000, 32768, 35000};
  for (const Combo& c : all_combos()) {
    SCOPED_TRACE(name(c));
    Pair p = make_pair_for(c);
    ASSERT_TRUE(p.sealer && p.opener);
    const CipherInfo* ci = find_cipher(c.cipher);
    EXPECT_EQ(p.sealer->block_size(), ci->block_size);
    EXPECT_EQ(p.opener->block_size(), ci->block_size);
    EXPECT_EQ(p.sealer->tag_len(), p.opener->tag_len());
    // Sequence numbers wrap at 2^32 (RFC 4253 section 6.4).
    uint32_t seq = 0xfffffffc;
    for (int round = 0; round < 2; ++round) {
      for (size_t n : sizes) {
        Bytes payload = pattern(n, static_cast<uint8_t>(n + round));
        Bytes wire_bytes = seal_to_wire(*p.sealer, seq, payload);
        if (ci->name != "none" || find_mac(c.mac)->tag_len == 0) {
          // Something other than the length must be hidden or nothing to check.
        }
        auto got = receive(*p.opener, seq, wire_bytes);
        ASSERT_TRUE(got) << "size " << n << " seq " << seq;
        EXPECT_EQ(*got, payload);
        ++seq;
      }
    }
  }
}

TEST(PacketCipher, EncryptsPayload) {
  for (const Combo& c : all_combos()) {
    if (c.cipher == "none") {
      continue;
    }
    SCOPED_TRACE(name(c));
    Pair p = make_pair_for(c);
    Bytes payload(200, 0xab);
    Bytes plain = format_packet(*p.sealer, payload);
    Bytes wire_bytes = seal_to_wire(*p.sealer, 3, payload);
    EXPECT_NE(Bytes(wire_bytes.begin() + 5, wire_bytes.begin() + 205),
              Bytes(plain.begin() + 5, plain.begin() + 205));
  }
}

bool authenticated(const Combo& c) {
  return find_cipher(c.cipher)->aead || find_mac(c.mac)->tag_len > 0;
}

TEST(PacketCipher, AnyFlippedBitIsRejected) {
  for (const Combo& c : all_combos()) {
    if (!authenticated(c)) {
      continue;
    }
    SCOPED_TRACE(name(c));
    const uint32_t seq = 7;
    Bytes payload = pattern(40, 9);
    Bytes clean;
    {
      Pair p = make_pair_for(c);
      clean = seal_to_wire(*p.sealer, seq, payload);
      ASSERT_TRUE(receive(*p.opener, seq, clean));
    }
    for (size_t pos = 0; pos < clean.size(); ++pos) {
      for (uint8_t bit : {uint8_t{0x01}, uint8_t{0x80}}) {
        Pair p = make_pair_for(c);
        Bytes bad = clean;
        bad[pos] ^= bit;
        EXPECT_FALSE(receive(*p.opener, seq, bad)) << "byte " << pos << " bit " << int(bit);
      }
    }
  }
}

TEST(PacketCipher, WrongSequenceNumberIsRejected) {
  for (const Combo& c : all_combos()) {
    if (!authenticated(c) || find_cipher(c.cipher)->name.find("gcm") != std::string_view::npos) {
      continue;  // GCM does not use seq; its own counter is tested below
    }
    SCOPED_TRACE(name(c));
    Pair p = make_pair_for(c);
    Bytes wire_bytes = seal_to_wire(*p.sealer, 100, pattern(64, 1));
    EXPECT_FALSE(receive(*p.opener, 101, wire_bytes));
  }
}

TEST(PacketCipher, GcmReorderedPacketIsRejected) {
  for (const char* cipher : {"aes128-gcm@openssh.com", "aes256-gcm@openssh.com"}) {
    Pair p = make_pair_for({cipher, "none"});
    Bytes first = seal_to_wire(*p.sealer, 0, pattern(64, 1));
    Bytes second = seal_to_wire(*p.sealer, 1, pattern(64, 2));
    EXPECT_FALSE(receive(*p.opener, 0, second));
    Pair q = make_pair_for({cipher, "none"});
    Bytes a = seal_to_wire(*q.sealer, 0, pattern(64, 1));
    Bytes b = seal_to_wire(*q.sealer, 1, pattern(64, 2));
    ASSERT_TRUE(receive(*q.opener, 0, a));
    ASSERT_TRUE(receive(*q.opener, 1, b));
  }
}

TEST(PacketCipher, OpenRejectsBadShapes) {
  for (const Combo& c : all_combos()) {
    SCOPED_TRACE(name(c));
    Pair p = make_pair_for(c);
    Bytes tag(p.opener->tag_len());
    Bytes tiny(3);
    EXPECT_FALSE(p.opener->open(0, tiny, tag));
    if (p.opener->tag_len() > 0) {
      Bytes pkt(32);
      EXPECT_FALSE(p.opener->open(0, pkt, Bytes(p.opener->tag_len() - 1)));
    }
    // Not a multiple of the block size.
    Pair q = make_pair_for(c);
    Bytes wire_bytes = seal_to_wire(*q.sealer, 0, pattern(20, 1));
    const size_t pkt_len = wire_bytes.size() - q.sealer->tag_len();
    Bytes shorter(wire_bytes.begin(), wire_bytes.begin() + pkt_len - 1);
    EXPECT_FALSE(q.opener->open(0, shorter, ByteView(wire_bytes).subspan(pkt_len)));
  }
}

TEST(PacketCipher, PeekLengthTwiceIsIdempotent) {
  Pair p = make_pair_for({"aes128-ctr", "hmac-sha2-256"});
  EXPECT_EQ(p.opener->header_len(), 16u);
  Bytes wire_bytes = seal_to_wire(*p.sealer, 5, pattern(50, 1));
  MutableByteView head = MutableByteView(wire_bytes).first(16);
  const uint32_t a = p.opener->peek_length(5, head);
  const uint32_t b = p.opener->peek_length(5, head);
  EXPECT_EQ(a, b);
  const size_t tl = p.opener->tag_len();
  EXPECT_TRUE(p.opener->open(5, MutableByteView(wire_bytes).first(4 + a),
                             ByteView(wire_bytes).subspan(4 + a, tl)));
  EXPECT_EQ(make_pair_for({"aes128-ctr", "hmac-sha2-256-etm@openssh.com"}).opener->header_len(),
            4u);
  EXPECT_EQ(make_pair_for({"none", "hmac-sha2-256"}).opener->header_len(), 4u);
}

// ---- Independent computations with raw EVP calls ----

Bytes evp_crypt(const EVP_CIPHER* cipher, ByteView key, ByteView iv, ByteView in) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Bytes out(in.size() + 32);
  int n = 0, m = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(ctx, cipher, nullptr, key.data(), iv.data()), 1);
  EXPECT_EQ(EVP_EncryptUpdate(ctx, out.data(), &n, in.data(), static_cast<int>(in.size())), 1);
  EXPECT_EQ(EVP_EncryptFinal_ex(ctx, out.data() + n, &m), 1);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(size_t(n + m));
  return out;
}

// chacha20-poly1305@openssh.com written directly from PROTOCOL.chacha20poly1305 in RFC 8439
// terms: 96-bit nonce = 0^32 || seq as uint64 big-endian; payload from block counter 1, here by
// encrypting one leading zero block and dropping it.
TEST(PacketCipherKat, ChachaPolyMatchesIndependentComputation) {
  const Bytes key = pattern(64, 0x10);
  const ByteView k2 = ByteView(key).first(32);  // main (payload, Poly1305 key)
  const ByteView k1 = ByteView(key).last(32);   // header (length)
  auto sealer = make_sealer("chacha20-poly1305@openssh.com", "", key, {}, {});
  for (uint32_t seq : {0u, 1u, 0x01020304u, 0xffffffffu}) {
    Bytes payload = pattern(77, static_cast<uint8_t>(seq));
    Bytes plain = format_packet(*sealer, payload);
    Bytes sealed = seal_to_wire(*sealer, seq, payload);

    Bytes iv0(16, 0);
    wire::store_u32(iv0.data() + 12, seq);
    Bytes enc_len = evp_crypt(EVP_chacha20(), k1, iv0, ByteView(plain).first(4));
    Bytes zeros_then_body(64, 0);
    zeros_then_body.insert(zeros_then_body.end(), plain.begin() + 4, plain.end());
    Bytes stream = evp_crypt(EVP_chacha20(), k2, iv0, zeros_then_body);
    Bytes expect = enc_len;
    expect.insert(expect.end(), stream.begin() + 64, stream.end());
    const ByteView poly_key = ByteView(stream).first(32);  // block 0 keystream (zeros encrypted)
    uint8_t tag[16];
    size_t tag_len = 0;
    ASSERT_TRUE(EVP_Q_mac(nullptr, "POLY1305", nullptr, nullptr, nullptr, poly_key.data(), 32,
                          expect.data(), expect.size(), tag, sizeof tag, &tag_len));
    expect.insert(expect.end(), tag, tag + 16);
    EXPECT_EQ(sealed, expect) << "seq " << seq;
  }
}

TEST(PacketCipherKat, GcmMatchesIndependentComputation) {
  const Bytes key = pattern(16, 0x20);
  Bytes iv = pattern(12, 0x30);
  iv[4] = iv[5] = iv[6] = iv[7] = iv[8] = iv[9] = iv[10] = 0xff;  // counter carries across bytes
  iv[11] = 0xfe;
  auto sealer = make_sealer("aes128-gcm@openssh.com", "none", key, iv, {});
  Bytes nonce = iv;
  for (int i = 0; i < 3; ++i) {
    Bytes payload = pattern(50, static_cast<uint8_t>(i));
    Bytes plain = format_packet(*sealer, payload);
    Bytes sealed = seal_to_wire(*sealer, 1000 + i, payload);

    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    Bytes out(plain.size() - 4);
    int n = 0;
    ASSERT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key.data(), nonce.data()), 1);
    ASSERT_EQ(EVP_EncryptUpdate(ctx, nullptr, &n, plain.data(), 4), 1);
    ASSERT_EQ(EVP_EncryptUpdate(ctx, out.data(), &n, plain.data() + 4, int(out.size())), 1);
    ASSERT_EQ(EVP_EncryptFinal_ex(ctx, out.data() + n, &n), 1);
    uint8_t tag[16];
    ASSERT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(ctx);
    Bytes expect(plain.begin(), plain.begin() + 4);
    expect.insert(expect.end(), out.begin(), out.end());
    expect.insert(expect.end(), tag, tag + 16);
    EXPECT_EQ(sealed, expect) << "packet " << i;
    // Next nonce: 64-bit big-endian increment of bytes 4..11.
    for (size_t j = 12; j-- > 4;) {
      if (++nonce[j] != 0) {
        break;
      }
    }
  }
}

TEST(PacketCipherKat, CtrHmacMatchesIndependentComputation) {
  const Bytes key = pattern(16, 0x40), iv = pattern(16, 0x50), mac_key = pattern(32, 0x60);
  for (bool etm : {false, true}) {
    const char* mac = etm ? "hmac-sha2-256-etm@openssh.com" : "hmac-sha2-256";
    auto sealer = make_sealer("aes128-ctr", mac, key, iv, mac_key);
    Bytes p1 = format_packet(*sealer, pattern(30, 1));
    Bytes p2 = format_packet(*sealer, pattern(70, 2));
    Bytes s1 = seal_to_wire(*sealer, 9, pattern(30, 1));
    Bytes s2 = seal_to_wire(*sealer, 10, pattern(70, 2));

    // One CTR stream across both packets (the length field is skipped in etm mode).
    Bytes stream_in;
    const size_t skip = etm ? 4 : 0;
    stream_in.insert(stream_in.end(), p1.begin() + skip, p1.end());
    stream_in.insert(stream_in.end(), p2.begin() + skip, p2.end());
    Bytes stream = evp_crypt(EVP_aes_128_ctr(), key, iv, stream_in);
    Bytes c1(p1.begin(), p1.begin() + skip), c2(p2.begin(), p2.begin() + skip);
    c1.insert(c1.end(), stream.begin(), stream.begin() + (p1.size() - skip));
    c2.insert(c2.end(), stream.begin() + (p1.size() - skip), stream.end());
    auto tag = [&](uint32_t seq, const Bytes& data) {
      Bytes in(4);
      wire::store_u32(in.data(), seq);
      in.insert(in.end(), data.begin(), data.end());
      return crypto::hmac(crypto::HashAlg::kSha256, mac_key, in);
    };
    Bytes t1 = tag(9, etm ? c1 : p1), t2 = tag(10, etm ? c2 : p2);
    c1.insert(c1.end(), t1.begin(), t1.end());
    c2.insert(c2.end(), t2.begin(), t2.end());
    EXPECT_EQ(s1, c1) << mac;
    EXPECT_EQ(s2, c2) << mac;
  }
}

}  // namespace
}  // namespace hashi::transport
