#include "transport/packet_cipher.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "crypto/ossl.h"
#include "wire/writer.h"

namespace hashi::transport {
namespace {

constexpr std::string_view kNone = "none";
constexpr std::string_view kChacha = "chacha20-poly1305@openssh.com";
constexpr std::string_view kAes128Gcm = "aes128-gcm@openssh.com";
constexpr std::string_view kAes256Gcm = "aes256-gcm@openssh.com";

constexpr CipherInfo kCiphers[] = {
    {kNone, 0, 0, 8, 0, false},
    {kChacha, 64, 0, 8, 16, true},
    {kAes128Gcm, 16, 12, 16, 16, true},
    {kAes256Gcm, 32, 12, 16, 16, true},
    {"aes128-ctr", 16, 16, 16, 0, false},
    {"aes192-ctr", 24, 16, 16, 0, false},
    {"aes256-ctr", 32, 16, 16, 0, false},
};

constexpr MacInfo kMacs[] = {
    {"none", 0, 0, false},
    {"hmac-sha2-256", 32, 32, false},
    {"hmac-sha2-512", 64, 64, false},
    {"hmac-sha1", 20, 20, false},
    {"hmac-sha2-256-etm@openssh.com", 32, 32, true},
    {"hmac-sha2-512-etm@openssh.com", 64, 64, true},
    {"hmac-sha1-etm@openssh.com", 20, 20, true},
};

// Largest digest among our MACs (SHA-512).
constexpr size_t kMaxMacLen = 64;
constexpr size_t kAeadTagLen = 16;
constexpr size_t kLenBytes = 4;

const EVP_CIPHER* evp_cipher_for(std::string_view name) {
  if (name == "aes128-ctr") return EVP_aes_128_ctr();
  if (name == "aes192-ctr") return EVP_aes_192_ctr();
  if (name == "aes256-ctr") return EVP_aes_256_ctr();
  if (name == kAes128Gcm) return EVP_aes_128_gcm();
  if (name == kAes256Gcm) return EVP_aes_256_gcm();
  return nullptr;
}

const char* digest_for(std::string_view mac) {
  if (mac.starts_with("hmac-sha2-256")) return "SHA256";
  if (mac.starts_with("hmac-sha2-512")) return "SHA512";
  if (mac.starts_with("hmac-sha1")) return "SHA1";
  return nullptr;
}

// OpenSSL failing on a context that was set up successfully means memory corruption or a broken
// library; continuing could leak plaintext, so stop.
void must(int ok) {
  if (ok != 1) {
    std::abort();
  }
}

using ossl::CipherCtx;
using ossl::MacCtx;

CipherCtx new_cipher(const EVP_CIPHER* cipher, const uint8_t* key, const uint8_t* iv, int enc) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher, key, iv, enc, nullptr) != 1) {
    return nullptr;
  }
  return ctx;
}

MacCtx new_mac(const char* alg) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, alg, nullptr);
  if (mac == nullptr) {
    return nullptr;
  }
  MacCtx ctx(EVP_MAC_CTX_new(mac));
  EVP_MAC_free(mac);  // The context keeps its own reference.
  return ctx;
}

// Runs the stream/AEAD cipher over `n` bytes in place.
void crypt_in_place(EVP_CIPHER_CTX* ctx, uint8_t* p, size_t n) {
  while (n > 0) {
    const int chunk = n > size_t(INT_MAX / 2) ? INT_MAX / 2 : static_cast<int>(n);
    int out_len = 0;
    must(EVP_CipherUpdate(ctx, p, &out_len, p, chunk));
    if (out_len != chunk) {
      std::abort();
    }
    p += chunk;
    n -= static_cast<size_t>(chunk);
  }
}

// ---------------------------------------------------------------------------------------------
// HMAC over seq || data (RFC 4253 section 6.4), key installed once.
class Hmac {
 public:
  static std::unique_ptr<Hmac> make(std::string_view name, ByteView key, size_t tag_len) {
    const char* digest = digest_for(name);
    if (digest == nullptr) {
      return nullptr;
    }
    MacCtx ctx = new_mac("HMAC");
    if (!ctx) {
      return nullptr;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) {
      return nullptr;
    }
    auto h = std::unique_ptr<Hmac>(new Hmac);
    h->ctx_ = std::move(ctx);
    h->tag_len_ = tag_len;
    return h;
  }

  // Writes tag_len bytes of HMAC(key, seq || data) to out.
  void compute(uint32_t seq, ByteView data, uint8_t* out) {
    uint8_t seq_bytes[4];
    wire::store_u32(seq_bytes, seq);
    uint8_t full[kMaxMacLen];
    size_t full_len = 0;
    // A NULL key re-initializes with the installed key.
    must(EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr));
    must(EVP_MAC_update(ctx_.get(), seq_bytes, sizeof seq_bytes));
    must(EVP_MAC_update(ctx_.get(), data.data(), data.size()));
    must(EVP_MAC_final(ctx_.get(), full, &full_len, sizeof full));
    if (full_len < tag_len_) {
      std::abort();
    }
    std::memcpy(out, full, tag_len_);
  }

  bool verify(uint32_t seq, ByteView data, ByteView tag) {
    uint8_t expected[kMaxMacLen];
    compute(seq, data, expected);
    return tag.size() == tag_len_ && CRYPTO_memcmp(expected, tag.data(), tag_len_) == 0;
  }

 private:
  Hmac() = default;
  MacCtx ctx_;
  size_t tag_len_ = 0;
};

// ---------------------------------------------------------------------------------------------
// "none" or AES-CTR with an HMAC (or no MAC), encrypt-and-MAC (RFC 4253 section 6) or
// encrypt-then-MAC (OpenSSH PROTOCOL section 1.5: length in clear, MAC over seq || length ||
// ciphertext).
struct StreamParts {
  CipherCtx cipher;  // null for "none"
  std::unique_ptr<Hmac> mac;  // null for MAC "none"
  size_t block_size;
  size_t mac_len;
  bool etm;
};

class StreamSealer final : public PacketSealer {
 public:
  explicit StreamSealer(StreamParts parts) : p_(std::move(parts)) {}
  size_t block_size() const override { return p_.block_size; }
  bool length_excluded() const override { return p_.etm; }
  size_t tag_len() const override { return p_.mac_len; }
  void seal(uint32_t seq, MutableByteView packet, MutableByteView tag) override {
    if (packet.size() < kLenBytes || tag.size() < p_.mac_len) {
      std::abort();  // Caller bug: the framing layer sizes both.
    }
    if (p_.etm) {
      if (p_.cipher) {
        crypt_in_place(p_.cipher.get(), packet.data() + kLenBytes, packet.size() - kLenBytes);
      }
      if (p_.mac) {
        p_.mac->compute(seq, packet, tag.data());
      }
    } else {
      if (p_.mac) {
        p_.mac->compute(seq, packet, tag.data());
      }
      if (p_.cipher) {
        crypt_in_place(p_.cipher.get(), packet.data(), packet.size());
      }
    }
  }

 private:
  StreamParts p_;
};

class StreamOpener final : public PacketOpener {
 public:
  explicit StreamOpener(StreamParts parts) : p_(std::move(parts)) {
    // Only an encrypted, non-etm length needs a whole cipher block before it can be read.
    header_len_ = (p_.cipher && !p_.etm) ? p_.block_size : kLenBytes;
  }
  size_t block_size() const override { return p_.block_size; }
  size_t tag_len() const override { return p_.mac_len; }
  size_t header_len() const override { return header_len_; }

  uint32_t peek_length(uint32_t seq, MutableByteView header) override {
    if (header.size() < header_len_) {
      std::abort();  // Caller bug: it must buffer header_len() bytes first.
    }
    if (p_.cipher && !p_.etm && !(peeked_ && peeked_seq_ == seq)) {
      crypt_in_place(p_.cipher.get(), header.data(), header_len_);
      peeked_ = true;
      peeked_seq_ = seq;
    }
    return wire::load_u32(header.data());
  }

  bool open(uint32_t seq, MutableByteView packet, ByteView tag) override {
    if (packet.size() < kLenBytes || tag.size() != p_.mac_len) {
      return false;
    }
    const size_t body_len = packet.size() - kLenBytes;
    if (p_.etm) {
      if (body_len % p_.block_size != 0 || wire::load_u32(packet.data()) != body_len) {
        return false;
      }
      if (p_.mac && !p_.mac->verify(seq, packet, tag)) {
        return false;
      }
      if (p_.cipher) {
        crypt_in_place(p_.cipher.get(), packet.data() + kLenBytes, body_len);
      }
      return true;
    }
    // Encrypt-and-MAC: the MAC is over the plaintext, so decrypt first (inherent to the mode).
    const bool header_done = peeked_ && peeked_seq_ == seq;
    peeked_ = false;
    if (packet.size() % p_.block_size != 0) {
      return false;
    }
    if (p_.cipher) {
      const size_t start = header_done ? header_len_ : 0;
      if (packet.size() < start) {
        return false;
      }
      crypt_in_place(p_.cipher.get(), packet.data() + start, packet.size() - start);
    }
    if (wire::load_u32(packet.data()) != body_len) {
      return false;
    }
    return !p_.mac || p_.mac->verify(seq, packet, tag);
  }

 private:
  StreamParts p_;
  size_t header_len_;
  bool peeked_ = false;
  uint32_t peeked_seq_ = 0;
};

// ---------------------------------------------------------------------------------------------
// AES-GCM as OpenSSH does it (RFC 5647, PROTOCOL section 1.6): 12-byte nonce = 4-byte fixed field
// || 8-byte big-endian invocation counter, incremented after every packet; the packet_length is
// additional authenticated data sent in clear; 16-byte tag.
class Gcm {
 public:
  static std::unique_ptr<Gcm> make(std::string_view name, ByteView key, ByteView iv, int enc) {
    CipherCtx ctx = new_cipher(evp_cipher_for(name), key.data(), nullptr, enc);
    if (!ctx || iv.size() != 12) {
      return nullptr;
    }
    auto g = std::unique_ptr<Gcm>(new Gcm);
    g->ctx_ = std::move(ctx);
    g->enc_ = enc;
    std::memcpy(g->nonce_.data(), iv.data(), 12);
    return g;
  }

  void seal(MutableByteView packet, uint8_t* tag) {
    start(packet);
    crypt_in_place(ctx_.get(), packet.data() + kLenBytes, packet.size() - kLenBytes);
    uint8_t final_block[16];
    int out_len = 0;
    must(EVP_CipherFinal_ex(ctx_.get(), final_block, &out_len));
    must(EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_GCM_GET_TAG, kAeadTagLen, tag));
    next_nonce();
  }

  bool open(MutableByteView packet, ByteView tag) {
    start(packet);
    crypt_in_place(ctx_.get(), packet.data() + kLenBytes, packet.size() - kLenBytes);
    uint8_t tag_copy[kAeadTagLen];
    std::memcpy(tag_copy, tag.data(), kAeadTagLen);
    must(EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_GCM_SET_TAG, kAeadTagLen, tag_copy));
    uint8_t final_block[16];
    int out_len = 0;
    // EVP_CipherFinal_ex compares the tag in constant time and fails on mismatch.
    const bool ok = EVP_CipherFinal_ex(ctx_.get(), final_block, &out_len) == 1;
    next_nonce();
    return ok;
  }

 private:
  Gcm() = default;

  void start(ByteView packet) {
    must(EVP_CipherInit_ex2(ctx_.get(), nullptr, nullptr, nonce_.data(), enc_, nullptr));
    int out_len = 0;
    must(EVP_CipherUpdate(ctx_.get(), nullptr, &out_len, packet.data(), kLenBytes));
  }

  // Increments the 64-bit invocation counter (RFC 5647 section 7.1).
  void next_nonce() {
    for (size_t i = nonce_.size(); i-- > 4;) {
      if (++nonce_[i] != 0) {
        break;
      }
    }
  }

  CipherCtx ctx_;
  std::array<uint8_t, 12> nonce_{};
  int enc_ = 1;
};

class GcmSealer final : public PacketSealer {
 public:
  explicit GcmSealer(std::unique_ptr<Gcm> g) : g_(std::move(g)) {}
  size_t block_size() const override { return 16; }
  bool length_excluded() const override { return true; }
  size_t tag_len() const override { return kAeadTagLen; }
  void seal(uint32_t, MutableByteView packet, MutableByteView tag) override {
    if (packet.size() < kLenBytes || tag.size() < kAeadTagLen) {
      std::abort();
    }
    g_->seal(packet, tag.data());
  }

 private:
  std::unique_ptr<Gcm> g_;
};

class GcmOpener final : public PacketOpener {
 public:
  explicit GcmOpener(std::unique_ptr<Gcm> g) : g_(std::move(g)) {}
  size_t block_size() const override { return 16; }
  size_t tag_len() const override { return kAeadTagLen; }
  size_t header_len() const override { return kLenBytes; }
  uint32_t peek_length(uint32_t, MutableByteView header) override {
    if (header.size() < kLenBytes) {
      std::abort();
    }
    return wire::load_u32(header.data());
  }
  bool open(uint32_t, MutableByteView packet, ByteView tag) override {
    if (packet.size() < kLenBytes || tag.size() != kAeadTagLen) {
      return false;
    }
    const size_t body_len = packet.size() - kLenBytes;
    if (body_len % 16 != 0 || wire::load_u32(packet.data()) != body_len) {
      return false;
    }
    return g_->open(packet, tag);
  }

 private:
  std::unique_ptr<Gcm> g_;
};

// ---------------------------------------------------------------------------------------------
// chacha20-poly1305@openssh.com (PROTOCOL.chacha20poly1305). The 64-byte key is K_2 (first 32
// bytes: payload + Poly1305 key) || K_1 (last 32 bytes: packet length only). The nonce is the
// sequence number as a big-endian uint64. On EVP_chacha20's 16-byte IV (32-bit LE block counter ||
// 96-bit nonce) this is laid out as OpenSSH's cipher-chachapoly-libcrypto.c does: a 64-bit LE
// counter in bytes 0..7 and the big-endian sequence number in bytes 8..15. Block 0 of the K_2
// stream gives the Poly1305 key; the payload is encrypted from block 1. The tag covers the
// encrypted length and the encrypted payload.
class ChachaPoly {
 public:
  static std::unique_ptr<ChachaPoly> make(ByteView key) {
    if (key.size() != 64) {
      return nullptr;
    }
    auto c = std::unique_ptr<ChachaPoly>(new ChachaPoly);
    uint8_t zero_iv[16] = {};
    c->main_ = new_cipher(EVP_chacha20(), key.data(), zero_iv, 1);
    c->header_ = new_cipher(EVP_chacha20(), key.data() + 32, zero_iv, 1);
    c->poly_ = new_mac("POLY1305");
    if (!c->main_ || !c->header_ || !c->poly_) {
      return nullptr;
    }
    return c;
  }

  void seal(uint32_t seq, MutableByteView packet, uint8_t* tag) {
    uint8_t poly_key[32];
    make_poly_key(seq, poly_key);
    set_iv(header_.get(), 0, seq);
    crypt_in_place(header_.get(), packet.data(), kLenBytes);
    set_iv(main_.get(), 1, seq);
    crypt_in_place(main_.get(), packet.data() + kLenBytes, packet.size() - kLenBytes);
    poly1305(poly_key, packet, tag);
    OPENSSL_cleanse(poly_key, sizeof poly_key);
  }

  uint32_t decrypt_length(uint32_t seq, const uint8_t* header) {
    uint8_t len[kLenBytes];
    std::memcpy(len, header, kLenBytes);
    set_iv(header_.get(), 0, seq);
    crypt_in_place(header_.get(), len, kLenBytes);
    return wire::load_u32(len);
  }

  bool open(uint32_t seq, MutableByteView packet, ByteView tag) {
    // Authenticate before decrypting anything (as OpenSSH does).
    uint8_t poly_key[32];
    make_poly_key(seq, poly_key);
    uint8_t expected[kAeadTagLen];
    poly1305(poly_key, packet, expected);
    OPENSSL_cleanse(poly_key, sizeof poly_key);
    if (CRYPTO_memcmp(expected, tag.data(), kAeadTagLen) != 0) {
      return false;
    }
    if (decrypt_length(seq, packet.data()) != packet.size() - kLenBytes) {
      return false;
    }
    set_iv(header_.get(), 0, seq);
    crypt_in_place(header_.get(), packet.data(), kLenBytes);
    set_iv(main_.get(), 1, seq);
    crypt_in_place(main_.get(), packet.data() + kLenBytes, packet.size() - kLenBytes);
    return true;
  }

 private:
  ChachaPoly() = default;

  static void set_iv(EVP_CIPHER_CTX* ctx, uint8_t counter, uint32_t seq) {
    uint8_t iv[16] = {};
    iv[0] = counter;  // Little-endian block counter.
    wire::store_u32(iv + 12, seq);  // uint64 big-endian seq; the top half is always zero.
    must(EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv, 1, nullptr));
  }

  void make_poly_key(uint32_t seq, uint8_t* poly_key) {
    std::memset(poly_key, 0, 32);
    set_iv(main_.get(), 0, seq);
    crypt_in_place(main_.get(), poly_key, 32);
  }

  void poly1305(const uint8_t* poly_key, ByteView data, uint8_t* out) {
    size_t out_len = 0;
    must(EVP_MAC_init(poly_.get(), poly_key, 32, nullptr));
    must(EVP_MAC_update(poly_.get(), data.data(), data.size()));
    must(EVP_MAC_final(poly_.get(), out, &out_len, kAeadTagLen));
    if (out_len != kAeadTagLen) {
      std::abort();
    }
  }

  CipherCtx main_;
  CipherCtx header_;
  MacCtx poly_;
};

class ChachaSealer final : public PacketSealer {
 public:
  explicit ChachaSealer(std::unique_ptr<ChachaPoly> c) : c_(std::move(c)) {}
  size_t block_size() const override { return 8; }
  bool length_excluded() const override { return true; }
  size_t tag_len() const override { return kAeadTagLen; }
  void seal(uint32_t seq, MutableByteView packet, MutableByteView tag) override {
    if (packet.size() < kLenBytes || tag.size() < kAeadTagLen) {
      std::abort();
    }
    c_->seal(seq, packet, tag.data());
  }

 private:
  std::unique_ptr<ChachaPoly> c_;
};

class ChachaOpener final : public PacketOpener {
 public:
  explicit ChachaOpener(std::unique_ptr<ChachaPoly> c) : c_(std::move(c)) {}
  size_t block_size() const override { return 8; }
  size_t tag_len() const override { return kAeadTagLen; }
  size_t header_len() const override { return kLenBytes; }
  uint32_t peek_length(uint32_t seq, MutableByteView header) override {
    if (header.size() < kLenBytes) {
      std::abort();
    }
    return c_->decrypt_length(seq, header.data());
  }
  bool open(uint32_t seq, MutableByteView packet, ByteView tag) override {
    if (packet.size() < kLenBytes || tag.size() != kAeadTagLen ||
        (packet.size() - kLenBytes) % 8 != 0) {
      return false;
    }
    return c_->open(seq, packet, tag);
  }

 private:
  std::unique_ptr<ChachaPoly> c_;
};

// ---------------------------------------------------------------------------------------------

std::optional<StreamParts> make_stream(const CipherInfo& c, std::string_view mac, ByteView key,
                                       ByteView iv, ByteView mac_key) {
  const MacInfo* m = find_mac(mac);
  if (m == nullptr || mac_key.size() != m->key_len) {
    return std::nullopt;
  }
  StreamParts parts;
  parts.block_size = c.block_size;
  parts.mac_len = m->tag_len;
  parts.etm = m->etm;
  if (c.name != kNone) {
    parts.cipher = new_cipher(evp_cipher_for(c.name), key.data(), iv.data(), 1);
    if (!parts.cipher) {
      return std::nullopt;
    }
  }
  if (m->name != "none") {
    parts.mac = Hmac::make(m->name, mac_key, m->tag_len);
    if (!parts.mac) {
      return std::nullopt;
    }
  }
  return parts;
}

const CipherInfo* checked_cipher(std::string_view cipher, ByteView key, ByteView iv) {
  const CipherInfo* c = find_cipher(cipher);
  if (c == nullptr || key.size() != c->key_len || iv.size() != c->iv_len) {
    return nullptr;
  }
  return c;
}

}  // namespace

std::vector<std::string_view> cipher_names() {
  std::vector<std::string_view> out;
  for (const auto& c : kCiphers) {
    out.push_back(c.name);
  }
  return out;
}

std::vector<std::string_view> mac_names() {
  std::vector<std::string_view> out;
  for (const auto& m : kMacs) {
    out.push_back(m.name);
  }
  return out;
}

const CipherInfo* find_cipher(std::string_view name) {
  for (const auto& c : kCiphers) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

const MacInfo* find_mac(std::string_view name) {
  for (const auto& m : kMacs) {
    if (m.name == name) {
      return &m;
    }
  }
  return nullptr;
}

std::unique_ptr<PacketSealer> make_sealer(std::string_view cipher, std::string_view mac,
                                          ByteView key, ByteView iv, ByteView mac_key) {
  const CipherInfo* c = checked_cipher(cipher, key, iv);
  if (c == nullptr) {
    return nullptr;
  }
  if (c->name == kChacha) {
    auto core = ChachaPoly::make(key);
    return core ? std::make_unique<ChachaSealer>(std::move(core)) : nullptr;
  }
  if (c->aead) {
    auto core = Gcm::make(c->name, key, iv, 1);
    return core ? std::make_unique<GcmSealer>(std::move(core)) : nullptr;
  }
  auto parts = make_stream(*c, mac, key, iv, mac_key);
  return parts ? std::make_unique<StreamSealer>(std::move(*parts)) : nullptr;
}

std::unique_ptr<PacketOpener> make_opener(std::string_view cipher, std::string_view mac,
                                          ByteView key, ByteView iv, ByteView mac_key) {
  const CipherInfo* c = checked_cipher(cipher, key, iv);
  if (c == nullptr) {
    return nullptr;
  }
  if (c->name == kChacha) {
    auto core = ChachaPoly::make(key);
    return core ? std::make_unique<ChachaOpener>(std::move(core)) : nullptr;
  }
  if (c->aead) {
    auto core = Gcm::make(c->name, key, iv, 0);
    return core ? std::make_unique<GcmOpener>(std::move(core)) : nullptr;
  }
  auto parts = make_stream(*c, mac, key, iv, mac_key);
  return parts ? std::make_unique<StreamOpener>(std::move(*parts)) : nullptr;
}

}  // namespace hashi::transport
