// ML-KEM-768 from FIPS 203. The arithmetic follows the layout of the pq-crystals reference
// implementation (16-bit coefficients, Montgomery multiplication, Barrett reduction, NTT over
// 7 layers and base multiplication of degree-1 pairs); hashing is OpenSSL's SHA-3/SHAKE.
//
// Constant time: nothing that depends on a secret (s, e, r, m, K, z, the decrypted message or the
// result of the re-encryption comparison) decides a branch, a loop bound or a memory index. The
// only data-dependent branches are in SampleNTT, over the public seed rho, and in the modulus
// check, over the public encapsulation key.
#include "crypto/secret.h"
#include "crypto/mlkem768.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <vector>

namespace hashi::crypto {
namespace {

constexpr int kN = 256;
constexpr int kK = 3;
constexpr int16_t kQ = 3329;
constexpr size_t kPolyBytes = 384;                 // ByteEncode12 of one polynomial
constexpr size_t kPolyVecBytes = kK * kPolyBytes;  // 1152: dk_pke, and t in ek
constexpr size_t kPolyCompressedU = 320;           // ByteEncode10 (du = 10)
constexpr size_t kPolyCompressedV = 128;           // ByteEncode4 (dv = 4)
constexpr size_t kUBytes = kK * kPolyCompressedU;  // 960
constexpr size_t kSymBytes = 32;
constexpr size_t kPrfBytes = 64 * 2;  // PRF output for eta1 = eta2 = 2

static_assert(kPolyVecBytes + kSymBytes == kMlKem768PublicKeyLen);
static_assert(2 * kPolyVecBytes + 3 * kSymBytes == kMlKem768SecretKeyLen);
static_assert(kUBytes + kPolyCompressedV == kMlKem768CiphertextLen);

// Offsets inside dk = dk_pke || ek || H(ek) || z (FIPS 203 algorithm 16).
constexpr size_t kSkEkOffset = kPolyVecBytes;
constexpr size_t kSkHashOffset = kSkEkOffset + kMlKem768PublicKeyLen;
constexpr size_t kSkZOffset = kSkHashOffset + kSymBytes;

// Failures here mean OpenSSL is out of memory or misconfigured; there is no safe way to go on.
void check(int ok) {
  if (ok != 1) {
    std::abort();
  }
}

// The small arithmetic helpers are forced inline so that unoptimized (Debug/ASan) builds do not pay
// a call per coefficient.
#if defined(__GNUC__) || defined(__clang__)
#define HASHI_MLKEM_INLINE inline __attribute__((always_inline))
#else
#define HASHI_MLKEM_INLINE inline
#endif

// Hides a value from the optimizer so that mask arithmetic is not turned back into a branch.
template <typename T>
T value_barrier(T v) {
#if defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+r"(v));
#endif
  return v;
}

// Wipes an object (a secret intermediate on the stack) when the scope ends.
template <typename T>
class Wipe {
 public:
  explicit Wipe(T& obj) : obj_(obj) {}
  ~Wipe() { OPENSSL_cleanse(&obj_, sizeof(T)); }
  Wipe(const Wipe&) = delete;
  Wipe& operator=(const Wipe&) = delete;

 private:
  T& obj_;
};

// ---- SHA-3 (FIPS 202) through OpenSSL: H, G, J, PRF and XOF of FIPS 203 section 4.1 ----

struct Digests {
  EVP_MD* sha3_256;
  EVP_MD* sha3_512;
  EVP_MD* shake128;
  EVP_MD* shake256;
};

// The digests are fetched once: an implicit fetch on every EVP_DigestInit would cost more than
// the hashing of a small input.
const Digests& digests() {
  static const Digests d = [] {
    Digests out{
        EVP_MD_fetch(nullptr, "SHA3-256", nullptr), EVP_MD_fetch(nullptr, "SHA3-512", nullptr),
        EVP_MD_fetch(nullptr, "SHAKE128", nullptr), EVP_MD_fetch(nullptr, "SHAKE256", nullptr)};
    if (out.sha3_256 == nullptr || out.sha3_512 == nullptr || out.shake128 == nullptr ||
        out.shake256 == nullptr) {
      std::abort();
    }
    return out;
  }();
  return d;
}

// One hashing context; EVP_MD_CTX_free wipes the Keccak state.
class Sponge {
 public:
  Sponge() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr) {
      std::abort();
    }
  }
  ~Sponge() { EVP_MD_CTX_free(ctx_); }
  Sponge(const Sponge&) = delete;
  Sponge& operator=(const Sponge&) = delete;

  // Hashes the concatenation of `parts` into out[0..out_len); `xof` selects EVP_DigestFinalXOF.
  void run(const EVP_MD* md, std::initializer_list<ByteView> parts, uint8_t* out, size_t out_len,
           bool xof) {
    check(EVP_DigestInit_ex2(ctx_, md, nullptr));
    for (ByteView part : parts) {
      check(EVP_DigestUpdate(ctx_, part.data(), part.size()));
    }
    if (xof) {
      check(EVP_DigestFinalXOF(ctx_, out, out_len));
    } else {
      check(EVP_DigestFinal_ex(ctx_, out, nullptr));
    }
  }

 private:
  EVP_MD_CTX* ctx_;
};

// H(s) = SHA3-256(s)
void hash_h(Sponge& sp, ByteView in, uint8_t out[32]) {
  sp.run(digests().sha3_256, {in}, out, 32, false);
}
// G(a || b) = SHA3-512(a || b), 64 bytes
void hash_g(Sponge& sp, ByteView a, ByteView b, uint8_t out[64]) {
  sp.run(digests().sha3_512, {a, b}, out, 64, false);
}
// J(z || c) = SHAKE256(z || c, 32 bytes)
void hash_j(Sponge& sp, ByteView z, ByteView c, uint8_t out[32]) {
  sp.run(digests().shake256, {z, c}, out, 32, true);
}
// PRF_eta(s, b) = SHAKE256(s || b, 64 * eta bytes)
void prf(Sponge& sp, ByteView seed, uint8_t nonce, uint8_t out[kPrfBytes]) {
  sp.run(digests().shake256, {seed, ByteView(&nonce, 1)}, out, kPrfBytes, true);
}

// ---- Arithmetic modulo q ----

constexpr int16_t kQInv = -3327;  // q^-1 mod 2^16, signed
constexpr int32_t kMont = 2285;   // 2^16 mod q

// montgomery_reduce returns a * 2^-16 mod q, in (-q, q) for |a| < q * 2^15.
HASHI_MLKEM_INLINE int16_t montgomery_reduce(int32_t a) {
  const int16_t t = static_cast<int16_t>(static_cast<int16_t>(a) * kQInv);
  return static_cast<int16_t>((a - static_cast<int32_t>(t) * kQ) >> 16);
}

HASHI_MLKEM_INLINE int16_t fqmul(int16_t a, int16_t b) {
  return montgomery_reduce(static_cast<int32_t>(a) * b);
}

// barrett_reduce returns the representative of a mod q in [-(q-1)/2, (q-1)/2].
HASHI_MLKEM_INLINE int16_t barrett_reduce(int16_t a) {
  constexpr int32_t v = ((1 << 26) + kQ / 2) / kQ;
  const int16_t t = static_cast<int16_t>((v * a + (1 << 25)) >> 26);
  return static_cast<int16_t>(a - t * kQ);
}

// to_positive maps (-q, q) to [0, q) without a branch.
HASHI_MLKEM_INLINE uint16_t to_positive(int16_t a) {
  return static_cast<uint16_t>(a + ((a >> 15) & kQ));
}

// div_q returns floor(n / q) for n < 2^22 by a multiplication: 10321340 = ceil(2^35 / q) and the
// error n * (10321340 - 2^35 / q) / 2^35 < 2^-13 stays below 1/q, so the floor is exact. A
// division instruction could take a time that depends on its operands.
HASHI_MLKEM_INLINE uint32_t div_q(uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(n) * 10321340u) >> 35);
}

// Compress_d(x) = round(2^d * x / q) mod 2^d for x in [0, q) (FIPS 203 eq. 4.7); q is odd, so
// there are no ties and round(y / q) = floor((y + (q - 1) / 2) / q).
HASHI_MLKEM_INLINE uint32_t compress(uint16_t x, int d) {
  return div_q((static_cast<uint32_t>(x) << d) + (kQ - 1) / 2) & ((1u << d) - 1);
}

// Decompress_d(y) = round(q * y / 2^d) (FIPS 203 eq. 4.8).
HASHI_MLKEM_INLINE int16_t decompress(uint32_t y, int d) {
  return static_cast<int16_t>((y * kQ + (1u << (d - 1))) >> d);
}

// ---- NTT (FIPS 203 section 4.3) ----

constexpr int bitrev7(int i) {
  int r = 0;
  for (int b = 0; b < 7; ++b) {
    r |= ((i >> b) & 1) << (6 - b);
  }
  return r;
}

// zetas[i] = 17^BitRev7(i) * 2^16 mod q, centered: the twiddle factors in Montgomery form.
constexpr std::array<int16_t, 128> make_zetas() {
  std::array<int16_t, 128> z{};
  for (int i = 0; i < 128; ++i) {
    int64_t v = kMont;
    for (int e = 0; e < bitrev7(i); ++e) {
      v = v * 17 % kQ;
    }
    z[i] = static_cast<int16_t>(v > kQ / 2 ? v - kQ : v);
  }
  return z;
}
constexpr std::array<int16_t, 128> kZetas = make_zetas();
static_assert(kZetas[0] == -1044 && kZetas[1] == -758 && kZetas[127] == 1628);

struct Poly {
  int16_t c[kN];
};
using PolyVec = std::array<Poly, kK>;

void poly_reduce(Poly& p) {
  for (int i = 0; i < kN; ++i) {
    p.c[i] = barrett_reduce(p.c[i]);
  }
}

void poly_add(Poly& r, const Poly& a) {
  for (int i = 0; i < kN; ++i) {
    r.c[i] = static_cast<int16_t>(r.c[i] + a.c[i]);
  }
}

// One layer of the forward NTT. The butterfly length is a template parameter so that every loop
// has a constant trip count, which lets the compiler vectorize the wide layers.
template <int Len>
void ntt_layer(Poly& p, int& k) {
  for (int start = 0; start < kN; start += 2 * Len) {
    const int16_t zeta = kZetas[k++];
    int16_t* lo = p.c + start;
    int16_t* hi = lo + Len;
    for (int j = 0; j < Len; ++j) {
      const int16_t t = fqmul(zeta, hi[j]);
      hi[j] = static_cast<int16_t>(lo[j] - t);
      lo[j] = static_cast<int16_t>(lo[j] + t);
    }
  }
}

// Forward NTT in place (algorithm 9); output in bit-reversed order, reduced.
void poly_ntt(Poly& p) {
  int k = 1;
  ntt_layer<128>(p, k);
  ntt_layer<64>(p, k);
  ntt_layer<32>(p, k);
  ntt_layer<16>(p, k);
  ntt_layer<8>(p, k);
  ntt_layer<4>(p, k);
  ntt_layer<2>(p, k);
  poly_reduce(p);
}

template <int Len>
void invntt_layer(Poly& p, int& k) {
  for (int start = 0; start < kN; start += 2 * Len) {
    const int16_t zeta = kZetas[k--];
    int16_t* lo = p.c + start;
    int16_t* hi = lo + Len;
    for (int j = 0; j < Len; ++j) {
      const int16_t t = lo[j];
      lo[j] = barrett_reduce(static_cast<int16_t>(t + hi[j]));
      hi[j] = fqmul(zeta, static_cast<int16_t>(hi[j] - t));
    }
  }
}

// Inverse NTT in place (algorithm 10), multiplied by 2^16 to undo the factor 2^-16 left by
// poly_basemul.
void poly_invntt_tomont(Poly& p) {
  constexpr int16_t f = 1441;  // 2^32 / 128 mod q
  int k = 127;
  invntt_layer<2>(p, k);
  invntt_layer<4>(p, k);
  invntt_layer<8>(p, k);
  invntt_layer<16>(p, k);
  invntt_layer<32>(p, k);
  invntt_layer<64>(p, k);
  invntt_layer<128>(p, k);
  for (int j = 0; j < kN; ++j) {
    p.c[j] = fqmul(p.c[j], f);
  }
}

// MultiplyNTTs (algorithms 11, 12), times 2^-16: 128 products of degree-1 polynomials modulo
// X^2 - zeta.
void poly_basemul(Poly& r, const Poly& a, const Poly& b) {
  for (int i = 0; i < kN / 4; ++i) {
    const int16_t zeta = kZetas[64 + i];
    for (int h = 0; h < 2; ++h) {
      const int o = 4 * i + 2 * h;
      const int16_t z = h == 0 ? zeta : static_cast<int16_t>(-zeta);
      r.c[o] =
          static_cast<int16_t>(fqmul(fqmul(a.c[o + 1], b.c[o + 1]), z) + fqmul(a.c[o], b.c[o]));
      r.c[o + 1] = static_cast<int16_t>(fqmul(a.c[o], b.c[o + 1]) + fqmul(a.c[o + 1], b.c[o]));
    }
  }
}

// r = sum_i a[i] * b[i] in the NTT domain, times 2^-16, reduced.
void polyvec_dot(Poly& r, const PolyVec& a, const PolyVec& b) {
  Poly t;
  poly_basemul(r, a[0], b[0]);
  for (int i = 1; i < kK; ++i) {
    poly_basemul(t, a[i], b[i]);
    poly_add(r, t);
  }
  poly_reduce(r);
  OPENSSL_cleanse(&t, sizeof(t));
}

// Multiplies by 2^16 (the factor poly_basemul divided out).
void poly_tomont(Poly& p) {
  constexpr int16_t f = static_cast<int16_t>((1ULL << 32) % kQ);
  for (int i = 0; i < kN; ++i) {
    p.c[i] = montgomery_reduce(static_cast<int32_t>(p.c[i]) * f);
  }
}

// ---- Sampling (FIPS 203 section 4.2.2) ----

// The XOF is read in one piece since OpenSSL 3.0 has no incremental squeeze. Four SHAKE128 blocks
// (672 bytes, 448 candidates for 256 coefficients) almost always suffice: needing more than 575
// bytes has probability about 2^-38 (C2SP CCTV "unlucky" vectors). In that case the XOF is
// recomputed with a longer output, whose prefix is the same, and parsing resumes.
constexpr size_t kXofBlock = 168;
constexpr size_t kXofFirstLen = 4 * kXofBlock;

// SampleNTT (algorithm 7): rejection sampling of a polynomial in the NTT domain from
// SHAKE128(rho || j || i). The input is public.
void sample_ntt(Sponge& sp, ByteView rho, uint8_t j, uint8_t i, Poly& out) {
  const uint8_t idx[2] = {j, i};
  std::array<uint8_t, kXofFirstLen> first;
  std::vector<uint8_t> longer;
  const uint8_t* buf = first.data();
  size_t buf_len = first.size();
  sp.run(digests().shake128, {rho, ByteView(idx, 2)}, first.data(), first.size(), true);
  int ctr = 0;
  size_t pos = 0;
  while (ctr < kN) {
    if (pos + 3 > buf_len) {
      longer.resize(buf_len + kXofBlock);
      sp.run(digests().shake128, {rho, ByteView(idx, 2)}, longer.data(), longer.size(), true);
      buf = longer.data();
      buf_len = longer.size();
    }
    const uint16_t d1 = static_cast<uint16_t>(buf[pos] | ((buf[pos + 1] & 0x0f) << 8));
    const uint16_t d2 = static_cast<uint16_t>((buf[pos + 1] >> 4) | (buf[pos + 2] << 4));
    pos += 3;
    if (d1 < kQ) {
      out.c[ctr++] = static_cast<int16_t>(d1);
    }
    if (d2 < kQ && ctr < kN) {
      out.c[ctr++] = static_cast<int16_t>(d2);
    }
  }
}

// Â[i][j] = SampleNTT(rho || j || i); with `transposed`, Â^T.
void gen_matrix(Sponge& sp, ByteView rho, bool transposed, std::array<PolyVec, kK>& a) {
  for (int i = 0; i < kK; ++i) {
    for (int j = 0; j < kK; ++j) {
      const auto bi = static_cast<uint8_t>(i);
      const auto bj = static_cast<uint8_t>(j);
      if (transposed) {
        sample_ntt(sp, rho, bi, bj, a[i][j]);
      } else {
        sample_ntt(sp, rho, bj, bi, a[i][j]);
      }
    }
  }
}

// SamplePolyCBD_2 (algorithm 8) from PRF(sigma, nonce): each coefficient is the difference of two
// sums of two bits.
void sample_cbd2(Sponge& sp, ByteView seed, uint8_t nonce, Poly& out) {
  uint8_t buf[kPrfBytes];
  prf(sp, seed, nonce, buf);
  for (int i = 0; i < kN / 8; ++i) {
    const uint32_t t = static_cast<uint32_t>(buf[4 * i]) |
                       (static_cast<uint32_t>(buf[4 * i + 1]) << 8) |
                       (static_cast<uint32_t>(buf[4 * i + 2]) << 16) |
                       (static_cast<uint32_t>(buf[4 * i + 3]) << 24);
    const uint32_t d = (t & 0x55555555u) + ((t >> 1) & 0x55555555u);
    for (int j = 0; j < 8; ++j) {
      const auto a = static_cast<int16_t>((d >> (4 * j)) & 3);
      const auto b = static_cast<int16_t>((d >> (4 * j + 2)) & 3);
      out.c[8 * i + j] = static_cast<int16_t>(a - b);
    }
  }
  OPENSSL_cleanse(buf, sizeof(buf));
}

// ---- Encodings (FIPS 203 section 4.2.1) ----

// ByteEncode12 of a polynomial with coefficients in (-q, q).
void poly_encode12(const Poly& p, uint8_t* out) {
  for (int i = 0; i < kN / 2; ++i) {
    const uint16_t t0 = to_positive(p.c[2 * i]);
    const uint16_t t1 = to_positive(p.c[2 * i + 1]);
    out[3 * i] = static_cast<uint8_t>(t0);
    out[3 * i + 1] = static_cast<uint8_t>((t0 >> 8) | (t1 << 4));
    out[3 * i + 2] = static_cast<uint8_t>(t1 >> 4);
  }
}

// ByteDecode12; coefficients come out in [0, 4096) (the modulus check is separate).
void poly_decode12(const uint8_t* in, Poly& p) {
  for (int i = 0; i < kN / 2; ++i) {
    p.c[2 * i] = static_cast<int16_t>(in[3 * i] | ((in[3 * i + 1] & 0x0f) << 8));
    p.c[2 * i + 1] = static_cast<int16_t>((in[3 * i + 1] >> 4) | (in[3 * i + 2] << 4));
  }
}

// The modulus check of FIPS 203 section 7.2: every 12-bit value of ByteEncode12(t) is below q,
// i.e. ByteEncode12(ByteDecode12(t)) == t. The key is public, so an early exit is fine.
bool public_key_is_reduced(ByteView ek) {
  for (size_t i = 0; i + 3 <= kPolyVecBytes; i += 3) {
    const unsigned d1 = ek[i] | ((ek[i + 1] & 0x0fu) << 8);
    const unsigned d2 = (ek[i + 1] >> 4) | (static_cast<unsigned>(ek[i + 2]) << 4);
    if (d1 >= static_cast<unsigned>(kQ) || d2 >= static_cast<unsigned>(kQ)) {
      return false;
    }
  }
  return true;
}

// ByteEncode10(Compress10(p)), 4 coefficients into 5 bytes.
void poly_compress10(const Poly& p, uint8_t* out) {
  for (int i = 0; i < kN / 4; ++i) {
    uint32_t t[4];
    for (int k = 0; k < 4; ++k) {
      t[k] = compress(to_positive(p.c[4 * i + k]), 10);
    }
    out[5 * i] = static_cast<uint8_t>(t[0]);
    out[5 * i + 1] = static_cast<uint8_t>((t[0] >> 8) | (t[1] << 2));
    out[5 * i + 2] = static_cast<uint8_t>((t[1] >> 6) | (t[2] << 4));
    out[5 * i + 3] = static_cast<uint8_t>((t[2] >> 4) | (t[3] << 6));
    out[5 * i + 4] = static_cast<uint8_t>(t[3] >> 2);
  }
}

void poly_decompress10(const uint8_t* in, Poly& p) {
  for (int i = 0; i < kN / 4; ++i) {
    const uint8_t* b = in + 5 * i;
    const uint32_t t[4] = {(b[0] | (static_cast<uint32_t>(b[1]) << 8)) & 0x3ff,
                           ((b[1] >> 2) | (static_cast<uint32_t>(b[2]) << 6)) & 0x3ff,
                           ((b[2] >> 4) | (static_cast<uint32_t>(b[3]) << 4)) & 0x3ff,
                           ((b[3] >> 6) | (static_cast<uint32_t>(b[4]) << 2)) & 0x3ff};
    for (int k = 0; k < 4; ++k) {
      p.c[4 * i + k] = decompress(t[k], 10);
    }
  }
}

// ByteEncode4(Compress4(p)).
void poly_compress4(const Poly& p, uint8_t* out) {
  for (int i = 0; i < kN / 2; ++i) {
    const uint32_t t0 = compress(to_positive(p.c[2 * i]), 4);
    const uint32_t t1 = compress(to_positive(p.c[2 * i + 1]), 4);
    out[i] = static_cast<uint8_t>(t0 | (t1 << 4));
  }
}

void poly_decompress4(const uint8_t* in, Poly& p) {
  for (int i = 0; i < kN / 2; ++i) {
    p.c[2 * i] = decompress(in[i] & 0x0fu, 4);
    p.c[2 * i + 1] = decompress(static_cast<uint32_t>(in[i] >> 4), 4);
  }
}

// Decompress1(ByteDecode1(m)): each bit becomes 0 or (q + 1) / 2, by a mask.
void poly_from_msg(const uint8_t msg[32], Poly& p) {
  for (int i = 0; i < 32; ++i) {
    for (int j = 0; j < 8; ++j) {
      const auto mask = value_barrier(static_cast<int16_t>(-((msg[i] >> j) & 1)));
      p.c[8 * i + j] = static_cast<int16_t>(mask & ((kQ + 1) / 2));
    }
  }
}

// ByteEncode1(Compress1(p)).
void poly_to_msg(const Poly& p, uint8_t msg[32]) {
  for (int i = 0; i < 32; ++i) {
    uint8_t byte = 0;
    for (int j = 0; j < 8; ++j) {
      byte = static_cast<uint8_t>(byte | (compress(to_positive(p.c[8 * i + j]), 1) << j));
    }
    msg[i] = byte;
  }
}

// ---- K-PKE (FIPS 203 section 5) ----

// K-PKE.KeyGen (algorithm 13) from the 32-byte seed d: writes ek (1184 bytes) and dk_pke
// (1152 bytes).
void pke_keygen(Sponge& sp, const uint8_t d[32], uint8_t* ek, uint8_t* dk_pke) {
  uint8_t rho_sigma[64];
  Wipe w_rs(rho_sigma);
  const uint8_t k = kK;
  hash_g(sp, ByteView(d, 32), ByteView(&k, 1), rho_sigma);
  const ByteView rho(rho_sigma, 32);
  const ByteView sigma(rho_sigma + 32, 32);

  std::array<PolyVec, kK> a;
  gen_matrix(sp, rho, false, a);

  PolyVec s, e, t;
  Wipe w_s(s);
  Wipe w_e(e);
  uint8_t nonce = 0;
  for (auto& p : s) {
    sample_cbd2(sp, sigma, nonce++, p);
  }
  for (auto& p : e) {
    sample_cbd2(sp, sigma, nonce++, p);
  }
  for (int i = 0; i < kK; ++i) {
    poly_ntt(s[i]);
    poly_ntt(e[i]);
  }
  for (int i = 0; i < kK; ++i) {
    polyvec_dot(t[i], a[i], s);
    poly_tomont(t[i]);
    poly_add(t[i], e[i]);
    poly_reduce(t[i]);
  }
  for (int i = 0; i < kK; ++i) {
    poly_encode12(t[i], ek + i * kPolyBytes);
    poly_encode12(s[i], dk_pke + i * kPolyBytes);
  }
  std::memcpy(ek + kPolyVecBytes, rho.data(), 32);
}

// K-PKE.Encrypt (algorithm 14) of the 32-byte message m with randomness r under ek (whose modulus
// check the caller has done); writes the 1088-byte ciphertext.
void pke_encrypt(Sponge& sp, const uint8_t* ek, const uint8_t m[32], const uint8_t r[32],
                 uint8_t* ct) {
  PolyVec t;
  for (int i = 0; i < kK; ++i) {
    poly_decode12(ek + i * kPolyBytes, t[i]);
  }
  const ByteView rho(ek + kPolyVecBytes, 32);
  std::array<PolyVec, kK> at;
  gen_matrix(sp, rho, true, at);

  PolyVec y, e1, u;
  Poly e2, mu, v;
  Wipe w_y(y);
  Wipe w_e1(e1);
  Wipe w_u(u);
  Wipe w_e2(e2);
  Wipe w_mu(mu);
  Wipe w_v(v);
  const ByteView seed(r, 32);
  uint8_t nonce = 0;
  for (auto& p : y) {
    sample_cbd2(sp, seed, nonce++, p);
  }
  for (auto& p : e1) {
    sample_cbd2(sp, seed, nonce++, p);
  }
  sample_cbd2(sp, seed, nonce, e2);
  for (auto& p : y) {
    poly_ntt(p);
  }
  for (int i = 0; i < kK; ++i) {
    polyvec_dot(u[i], at[i], y);
    poly_invntt_tomont(u[i]);
    poly_add(u[i], e1[i]);
    poly_reduce(u[i]);
  }
  polyvec_dot(v, t, y);
  poly_invntt_tomont(v);
  poly_from_msg(m, mu);
  poly_add(v, e2);
  poly_add(v, mu);
  poly_reduce(v);

  for (int i = 0; i < kK; ++i) {
    poly_compress10(u[i], ct + i * kPolyCompressedU);
  }
  poly_compress4(v, ct + kUBytes);
}

// K-PKE.Decrypt (algorithm 15): writes the 32-byte message.
void pke_decrypt(const uint8_t* dk_pke, const uint8_t* ct, uint8_t m[32]) {
  PolyVec u, s;
  Poly v, w;
  Wipe w_u(u);
  Wipe w_s(s);
  Wipe w_v(v);
  Wipe w_w(w);
  for (int i = 0; i < kK; ++i) {
    poly_decompress10(ct + i * kPolyCompressedU, u[i]);
    poly_ntt(u[i]);
    poly_decode12(dk_pke + i * kPolyBytes, s[i]);
  }
  poly_decompress4(ct + kUBytes, v);
  polyvec_dot(w, s, u);
  poly_invntt_tomont(w);
  for (int i = 0; i < kN; ++i) {
    w.c[i] = static_cast<int16_t>(v.c[i] - w.c[i]);
  }
  poly_reduce(w);
  poly_to_msg(w, m);
}

// ---- ML-KEM (FIPS 203 section 6) ----

// ML-KEM.KeyGen_internal (algorithm 16).
void keygen_internal(const uint8_t d[32], const uint8_t z[32], uint8_t* ek, uint8_t* dk) {
  Sponge sp;
  pke_keygen(sp, d, ek, dk);
  std::memcpy(dk + kSkEkOffset, ek, kMlKem768PublicKeyLen);
  hash_h(sp, ByteView(ek, kMlKem768PublicKeyLen), dk + kSkHashOffset);
  std::memcpy(dk + kSkZOffset, z, 32);
}

// ML-KEM.Encaps_internal (algorithm 17); ek has passed the modulus check.
void encaps_internal(const uint8_t* ek, const uint8_t m[32], uint8_t* ct, uint8_t ss[32]) {
  Sponge sp;
  uint8_t h[32];
  uint8_t k_r[64];
  Wipe w_kr(k_r);
  hash_h(sp, ByteView(ek, kMlKem768PublicKeyLen), h);
  hash_g(sp, ByteView(m, 32), ByteView(h, 32), k_r);
  pke_encrypt(sp, ek, m, k_r + 32, ct);
  std::memcpy(ss, k_r, 32);
}

// ML-KEM.Decaps_internal (algorithm 18) with implicit rejection: if re-encrypting the decrypted
// message does not give back ct, the secret is J(z || ct). The choice is made by a mask.
void decaps_internal(const uint8_t* dk, const uint8_t* ct, uint8_t ss[32]) {
  Sponge sp;
  uint8_t m[32];
  uint8_t k_r[64];
  uint8_t k_bar[32];
  std::array<uint8_t, kMlKem768CiphertextLen> ct2;
  Wipe w_m(m);
  Wipe w_kr(k_r);
  Wipe w_kb(k_bar);
  Wipe w_ct2(ct2);

  pke_decrypt(dk, ct, m);
  hash_g(sp, ByteView(m, 32), ByteView(dk + kSkHashOffset, 32), k_r);
  hash_j(sp, ByteView(dk + kSkZOffset, 32), ByteView(ct, kMlKem768CiphertextLen), k_bar);
  pke_encrypt(sp, dk + kSkEkOffset, m, k_r + 32, ct2.data());

  // Fold the difference of every byte (no early exit), then turn "any bit set" into a mask.
  uint8_t diff = 0;
  for (size_t i = 0; i < kMlKem768CiphertextLen; ++i) {
    diff = static_cast<uint8_t>(diff | (ct[i] ^ ct2[i]));
  }
  const uint32_t differs = (0u - static_cast<uint32_t>(diff)) >> 31;  // 1 iff diff != 0
  const auto reject = value_barrier(static_cast<uint8_t>(0u - differs));
  for (size_t i = 0; i < 32; ++i) {
    ss[i] = static_cast<uint8_t>(k_r[i] ^ (reject & (k_r[i] ^ k_bar[i])));
  }
}

class MlKem768 final : public Kem {
 public:
  const KemInfo& info() const override {
    static constexpr KemInfo kInfo{"mlkem768", kMlKem768PublicKeyLen, kMlKem768SecretKeyLen,
                                   kMlKem768CiphertextLen, kMlKem768SharedSecretLen};
    return kInfo;
  }

  void keypair(Bytes& public_key, SecretBytes& secret_key) const override {
    uint8_t seeds[64];
    Wipe w(seeds);
    if (RAND_bytes(seeds, sizeof(seeds)) != 1) {
      std::abort();  // no caller can go on safely without randomness
    }
    mlkem768_keypair_derand(ByteView(seeds, 32), ByteView(seeds + 32, 32), public_key, secret_key);
  }

  bool encapsulate(ByteView public_key, Bytes& ciphertext,
                   SecretBytes& shared_secret) const override {
    uint8_t m[32];
    Wipe w(m);
    if (RAND_bytes(m, sizeof(m)) != 1) {
      std::abort();
    }
    return mlkem768_encaps_derand(public_key, ByteView(m, 32), ciphertext, shared_secret);
  }

  bool decapsulate(ByteView secret_key, ByteView ciphertext,
                   SecretBytes& shared_secret) const override {
    if (secret_key.size() != kMlKem768SecretKeyLen || ciphertext.size() != kMlKem768CiphertextLen) {
      return false;
    }
    // Hash check of FIPS 203 section 7.3: dk must carry H(ek) of its own ek.
    uint8_t h[32];
    {
      Sponge sp;
      hash_h(sp, secret_key.subspan(kSkEkOffset, kMlKem768PublicKeyLen), h);
    }
    if (CRYPTO_memcmp(h, secret_key.data() + kSkHashOffset, 32) != 0) {
      return false;
    }
    shared_secret.resize(kMlKem768SharedSecretLen);
    decaps_internal(secret_key.data(), ciphertext.data(), shared_secret.data());
    return true;
  }
};

}  // namespace

const Kem& mlkem768() {
  static const MlKem768 kem;
  return kem;
}

void mlkem768_keypair_derand(ByteView d32, ByteView z32, Bytes& pk, SecretBytes& sk) {
  if (d32.size() != kMlKem768SeedLen || z32.size() != kMlKem768SeedLen) {
    std::abort();
  }
  pk.resize(kMlKem768PublicKeyLen);
  sk.resize(kMlKem768SecretKeyLen);
  keygen_internal(d32.data(), z32.data(), pk.data(), sk.data());
}

bool mlkem768_encaps_derand(ByteView pk, ByteView m32, Bytes& ct, SecretBytes& ss) {
  if (pk.size() != kMlKem768PublicKeyLen || m32.size() != kMlKem768SeedLen ||
      !public_key_is_reduced(pk)) {
    return false;
  }
  ct.resize(kMlKem768CiphertextLen);
  ss.resize(kMlKem768SharedSecretLen);
  encaps_internal(pk.data(), m32.data(), ct.data(), ss.data());
  return true;
}

}  // namespace hashi::crypto
