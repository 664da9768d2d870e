// Packet-path benchmark: seal + open of 32 KiB payloads through PacketSealer/PacketOpener, against
// the raw OpenSSL primitives doing the same cryptographic work, plus heap allocations per packet
// (C++ operator new in our code, and OpenSSL's internal CRYPTO_malloc calls).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "transport/packet_cipher.h"
#include "wire/writer.h"

// ---- allocation counters ----
static std::atomic<long> g_new_calls{0};
static std::atomic<long> g_ossl_calls{0};

void* operator new(std::size_t n) {
  g_new_calls.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  g_new_calls.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

static void* ossl_malloc(size_t n, const char*, int) {
  g_ossl_calls.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n);
}
static void* ossl_realloc(void* p, size_t n, const char*, int) {
  g_ossl_calls.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, n);
}
static void ossl_free(void* p, const char*, int) { std::free(p); }

namespace {

using hashi::Bytes;
using hashi::ByteView;
using hashi::MutableByteView;
using Clock = std::chrono::steady_clock;

constexpr size_t kPayload = 32 * 1024;
constexpr double kSeconds = 1.0;

void must(int ok) {
  if (ok != 1) {
    std::fprintf(stderr, "OpenSSL call failed\n");
    std::abort();
  }
}

Bytes random_bytes(size_t n) {
  Bytes b(n);
  if (n) {
    must(RAND_bytes(b.data(), static_cast<int>(n)));
  }
  return b;
}

// Runs `step` (one packet sealed and opened) for about kSeconds; returns MB/s of payload.
template <typename F>
double measure(F&& step) {
  for (int i = 0; i < 50; ++i) {
    step();  // warm up
  }
  long n = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 64; ++i) {
      step();
    }
    n += 64;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < kSeconds);
  return double(n) * kPayload / elapsed / 1e6;
}

struct Row {
  const char* label;
  const char* cipher;
  const char* mac;
};

// --- raw primitives doing the same work ---

// AEAD (GCM or RFC 8439 chacha20-poly1305): encrypt with 4 bytes AAD + tag, then decrypt + verify.
struct RawAead {
  EVP_CIPHER_CTX* enc = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* dec = EVP_CIPHER_CTX_new();
  Bytes iv = random_bytes(12);
  Bytes buf;
  uint8_t tag[16];
  RawAead(const EVP_CIPHER* c, size_t key_len, size_t len) : buf(random_bytes(len)) {
    Bytes key = random_bytes(key_len);
    must(EVP_CipherInit_ex2(enc, c, key.data(), nullptr, 1, nullptr));
    must(EVP_CipherInit_ex2(dec, c, key.data(), nullptr, 0, nullptr));
  }
  ~RawAead() {
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
  }
  void step() {
    int n = 0;
    uint8_t fin[16];
    must(EVP_CipherInit_ex2(enc, nullptr, nullptr, iv.data(), 1, nullptr));
    must(EVP_CipherUpdate(enc, nullptr, &n, buf.data(), 4));
    must(EVP_CipherUpdate(enc, buf.data() + 4, &n, buf.data() + 4, int(buf.size() - 4)));
    must(EVP_CipherFinal_ex(enc, fin, &n));
    must(EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_AEAD_GET_TAG, 16, tag));
    must(EVP_CipherInit_ex2(dec, nullptr, nullptr, iv.data(), 0, nullptr));
    must(EVP_CipherUpdate(dec, nullptr, &n, buf.data(), 4));
    must(EVP_CipherUpdate(dec, buf.data() + 4, &n, buf.data() + 4, int(buf.size() - 4)));
    must(EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_AEAD_SET_TAG, 16, tag));
    must(EVP_CipherFinal_ex(dec, fin, &n));
    iv[11]++;
  }
};

// AES-CTR + HMAC: encrypt then MAC, MAC then decrypt (the etm work).
struct RawCtrHmac {
  EVP_CIPHER_CTX* enc = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* dec = EVP_CIPHER_CTX_new();
  EVP_MAC_CTX* mac;
  Bytes buf;
  size_t tag_len;
  RawCtrHmac(const EVP_CIPHER* c, size_t key_len, const char* digest, size_t mac_len, size_t len)
      : buf(random_bytes(len)), tag_len(mac_len) {
    Bytes key = random_bytes(key_len), iv = random_bytes(16), mk = random_bytes(mac_len);
    must(EVP_CipherInit_ex2(enc, c, key.data(), iv.data(), 1, nullptr));
    must(EVP_CipherInit_ex2(dec, c, key.data(), iv.data(), 0, nullptr));
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    mac = EVP_MAC_CTX_new(m);
    EVP_MAC_free(m);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>(digest), 0),
                           OSSL_PARAM_construct_end()};
    must(EVP_MAC_init(mac, mk.data(), mk.size(), params));
  }
  ~RawCtrHmac() {
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
    EVP_MAC_CTX_free(mac);
  }
  void hmac(uint8_t* out) {
    size_t n = 0;
    must(EVP_MAC_init(mac, nullptr, 0, nullptr));
    must(EVP_MAC_update(mac, buf.data(), buf.size()));
    must(EVP_MAC_final(mac, out, &n, 64));
  }
  void step() {
    int n = 0;
    uint8_t t1[64], t2[64];
    must(EVP_CipherUpdate(enc, buf.data() + 4, &n, buf.data() + 4, int(buf.size() - 4)));
    hmac(t1);
    hmac(t2);
    if (CRYPTO_memcmp(t1, t2, tag_len) != 0) {
      std::abort();
    }
    must(EVP_CipherUpdate(dec, buf.data() + 4, &n, buf.data() + 4, int(buf.size() - 4)));
  }
};

// --- our packet path ---

struct Ours {
  std::unique_ptr<hashi::transport::PacketSealer> sealer;
  std::unique_ptr<hashi::transport::PacketOpener> opener;
  Bytes pkt;
  Bytes tag;
  uint32_t seq = 0;
  explicit Ours(const Row& row) {
    const auto* ci = hashi::transport::find_cipher(row.cipher);
    const auto* mi = hashi::transport::find_mac(row.mac);
    Bytes key = random_bytes(ci->key_len), iv = random_bytes(ci->iv_len);
    Bytes mk = random_bytes(ci->aead ? 0 : mi->key_len);
    sealer = hashi::transport::make_sealer(row.cipher, row.mac, key, iv, mk);
    opener = hashi::transport::make_opener(row.cipher, row.mac, key, iv, mk);
    if (!sealer || !opener) {
      std::abort();
    }
    const size_t bs = sealer->block_size();
    const size_t fixed = sealer->length_excluded() ? 1 : 5;
    size_t pad = bs - ((fixed + kPayload) % bs);
    if (pad < 4) {
      pad += bs;
    }
    hashi::wire::Writer w(pkt);
    w.u32(static_cast<uint32_t>(1 + kPayload + pad)).u8(static_cast<uint8_t>(pad));
    w.raw(random_bytes(kPayload + pad));
    tag.resize(sealer->tag_len());
  }
  void step() {
    sealer->seal(seq, pkt, tag);
    const uint32_t len = opener->peek_length(seq, MutableByteView(pkt).first(opener->header_len()));
    if (len + 4 != pkt.size() || !opener->open(seq, pkt, tag)) {
      std::fprintf(stderr, "open failed\n");
      std::abort();
    }
    ++seq;
  }
};

}  // namespace

int main() {
  // Must run before OpenSSL allocates anything.
  if (CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) != 1) {
    std::fprintf(stderr, "warning: cannot count OpenSSL allocations\n");
  }
  const Row rows[] = {
      {"chacha20-poly1305", "chacha20-poly1305@openssh.com", "none"},
      {"aes128-gcm", "aes128-gcm@openssh.com", "none"},
      {"aes256-gcm", "aes256-gcm@openssh.com", "none"},
      {"aes128-ctr+hmac-sha2-256-etm", "aes128-ctr", "hmac-sha2-256-etm@openssh.com"},
      {"aes256-ctr+hmac-sha2-512-etm", "aes256-ctr", "hmac-sha2-512-etm@openssh.com"},
  };
  std::printf("32 KiB payloads, seal+open per packet, ~%.0f s per measurement\n", kSeconds);
  std::printf("%-30s %10s %10s %7s %12s %12s\n", "cipher", "hashi MB/s", "raw MB/s", "ratio",
              "new/packet", "ossl/packet");
  for (const Row& row : rows) {
    Ours ours(row);
    const size_t len = ours.pkt.size();
    double raw = 0;
    const std::string c = row.cipher;
    if (c.starts_with("chacha")) {
      RawAead r(EVP_chacha20_poly1305(), 32, len);
      raw = measure([&] { r.step(); });
    } else if (c == "aes128-gcm@openssh.com") {
      RawAead r(EVP_aes_128_gcm(), 16, len);
      raw = measure([&] { r.step(); });
    } else if (c == "aes256-gcm@openssh.com") {
      RawAead r(EVP_aes_256_gcm(), 32, len);
      raw = measure([&] { r.step(); });
    } else if (c == "aes128-ctr") {
      RawCtrHmac r(EVP_aes_128_ctr(), 16, "SHA256", 32, len);
      raw = measure([&] { r.step(); });
    } else {
      RawCtrHmac r(EVP_aes_256_ctr(), 32, "SHA512", 64, len);
      raw = measure([&] { r.step(); });
    }
    const double mine = measure([&] { ours.step(); });

    constexpr int kCount = 1000;
    const long new0 = g_new_calls.load(), ossl0 = g_ossl_calls.load();
    for (int i = 0; i < kCount; ++i) {
      ours.step();
    }
    const double new_per = double(g_new_calls.load() - new0) / kCount;
    const double ossl_per = double(g_ossl_calls.load() - ossl0) / kCount;
    std::printf("%-30s %10.0f %10.0f %6.1f%% %12.2f %12.2f\n", row.label, mine, raw,
                100.0 * mine / raw, new_per, ossl_per);
  }
  return 0;
}
