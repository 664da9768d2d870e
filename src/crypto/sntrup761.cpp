// sntrup761 (Streamlined NTRU Prime round 3), written from the NTRU Prime specification and
// following the structure of the public-domain reference code that OpenSSH ships as sntrup761.c
// (supercop-20201130, by D. J. Bernstein, C. Chuengsatiansup, T. Lange, C. van Vredendaal).
// Section names below ("Core", "Hide", "Decap", ...) are the specification's.
//
// Constant time: values derived from secrets (f, g, 1/g, r, e, the decrypted weight, the
// re-encryption comparison) only ever flow through arithmetic and masks. Branches and array
// indexes depend on public sizes only. The one data-dependent loop is key generation's redraw of
// g while it is not invertible mod 3; it reveals only how many discarded candidates there were.
#include "crypto/secret.h"
#include "crypto/sntrup761.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "crypto/hash.h"

// The polynomial loops are plain fixed-length loops meant to be vectorized. At -O2 GCC uses its
// "very cheap" vectorizer cost model, which leaves them scalar (p + 1 = 762 is no multiple of the
// vector width); the usual model makes key generation and decapsulation 2-3x faster.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

namespace hashi::crypto {
namespace {

constexpr int p = 761;
constexpr int q = 4591;
constexpr int w = 286;
constexpr int q12 = (q - 1) / 2;

constexpr size_t kSmallBytes = (p + 3) / 4;  // 191: four coefficients in {-1,0,1} per byte
// An encoded Rq element (the public key) is kSntrup761PublicKeyLen bytes.
constexpr size_t kRoundedBytes = 1007;
constexpr size_t kHashBytes = 32;
constexpr size_t kConfirmBytes = 32;
constexpr size_t kInputsBytes = kSmallBytes;
constexpr size_t kCiphertextsBytes = kRoundedBytes;
constexpr size_t kSecretKeysBytes = 2 * kSmallBytes;  // f, then 1/g mod 3

static_assert(kSntrup761CiphertextLen == kCiphertextsBytes + kConfirmBytes);
static_assert(kSntrup761SecretKeyLen ==
              kSecretKeysBytes + kSntrup761PublicKeyLen + kInputsBytes + kHashBytes);

using small = int8_t;  // an element of F3, always -1, 0 or 1
using Fq = int16_t;    // an element of Fq, always -q12 .. q12

// Wipes `obj` when leaving scope; every stack buffer holding a secret gets one.
template <typename T>
class Wiper {
 public:
  explicit Wiper(T& obj) : obj_(obj) {}
  ~Wiper() { OPENSSL_cleanse(&obj_, sizeof(T)); }
  Wiper(const Wiper&) = delete;
  Wiper& operator=(const Wiper&) = delete;

 private:
  T& obj_;
};

// ---- constant-time division by a public constant 0 < m < 16384 -------------------------------
// The quotient is built from two multiply-shift steps and a masked final correction, so the time
// does not depend on x (CPU division instructions often do).

template <uint16_t m>
constexpr void uint32_divmod(uint32_t& out_q, uint16_t& out_r, uint32_t x) {
  static_assert(m > 0 && m < 16384);
  constexpr uint32_t v = 0x80000000u / m;
  uint32_t quot = 0;
  uint32_t qpart = static_cast<uint32_t>((x * static_cast<uint64_t>(v)) >> 31);
  x -= qpart * m;
  quot += qpart;
  qpart = static_cast<uint32_t>((x * static_cast<uint64_t>(v)) >> 31);
  x -= qpart * m;
  quot += qpart;
  x -= m;
  quot += 1;
  const uint32_t mask = 0u - (x >> 31);
  x += mask & m;
  quot += mask;
  out_q = quot;
  out_r = static_cast<uint16_t>(x);
}

template <uint16_t m>
constexpr uint16_t uint32_mod(uint32_t x) {
  uint32_t quot = 0;
  uint16_t r = 0;
  uint32_divmod<m>(quot, r, x);
  return r;
}

// x mod m in 0..m-1 for any int32 x.
template <uint16_t m>
constexpr uint16_t int32_mod(int32_t x) {
  uint16_t r = uint32_mod<m>(0x80000000u + static_cast<uint32_t>(x));
  constexpr uint16_t r2 = uint32_mod<m>(0x80000000u);
  r = static_cast<uint16_t>(r - r2);
  const uint16_t mask = static_cast<uint16_t>(0u - static_cast<uint32_t>(r >> 15));
  return static_cast<uint16_t>(r + (mask & m));
}

// -1 if x != 0, else 0.
constexpr int nonzero_mask(int16_t x) {
  const uint32_t v = static_cast<uint16_t>(x);
  return -static_cast<int>((0u - v) >> 31);
}

// -1 if x < 0, else 0.
constexpr int negative_mask(int16_t x) {
  return -static_cast<int>(static_cast<uint16_t>(x) >> 15);
}

// ---- arithmetic mod 3 and mod q ----------------------------------------------------------------

constexpr small F3_freeze(int32_t x) { return static_cast<small>(int32_mod<3>(x + 1) - 1); }

// F3_freeze for -2 <= x <= 2 with one multiply: floor((x+4)/3) = ((x+4)*11) >> 5 on that range.
constexpr small F3_freeze_small(int32_t x) {
  return static_cast<small>(x - 3 * ((((x + 4) * 11) >> 5) - 1));
}
static_assert([] {
  for (int x = -2; x <= 2; ++x) {
    if (F3_freeze_small(x) != F3_freeze(x)) {
      return false;
    }
  }
  return true;
}());

constexpr Fq Fq_freeze(int32_t x) { return static_cast<Fq>(int32_mod<q>(x + q12) - q12); }

// a^(q-2) = 1/a; only ever called on public constants and on f[0] (square-and-multiply would be
// faster, but the loop has a fixed count and runs once per key pair).
constexpr Fq Fq_recip(Fq a1) {
  Fq ai = a1;
  for (int i = 1; i < q - 2; ++i) {
    ai = Fq_freeze(a1 * static_cast<int32_t>(ai));
  }
  return ai;
}

// ---- polynomials -------------------------------------------------------------------------------
// R = Z[x]/(x^p - x - 1); R3 and Rq are R mod 3 and mod q.

// Reduces a product of length 2p-1 modulo x^p - x - 1 (x^p = x + 1), in place.
template <typename T>
void reduce_product(T* fg) {
  for (int i = p + p - 2; i >= p; --i) {
    fg[i - p] += fg[i];
    fg[i - p + 1] += fg[i];
  }
}

// h = f*g in R3. Coefficient sums stay below 3*761 in magnitude, so one reduction at the end.
void R3_mult(small* h, const small* f, const small* g) {
  std::array<int32_t, p + p - 1> fg{};
  Wiper wipe(fg);
  for (int i = 0; i < p; ++i) {
    const int32_t fi = f[i];
    for (int j = 0; j < p; ++j) {
      fg[i + j] += fi * g[j];
    }
  }
  reduce_product(fg.data());
  for (int i = 0; i < p; ++i) {
    h[i] = F3_freeze(fg[i]);
  }
}

// h = f*g in Rq for small g. |sum| <= 3 * 761 * 2295, far from int32 overflow.
void Rq_mult_small(Fq* h, const Fq* f, const small* g) {
  std::array<int32_t, p + p - 1> fg{};
  Wiper wipe(fg);
  for (int i = 0; i < p; ++i) {
    const int32_t fi = f[i];
    for (int j = 0; j < p; ++j) {
      fg[i + j] += fi * g[j];
    }
  }
  reduce_product(fg.data());
  for (int i = 0; i < p; ++i) {
    h[i] = Fq_freeze(fg[i]);
  }
}

// out = 1/in in R3; returns 0 on success, -1 if `in` is not invertible. Constant-time divstep
// loop of fixed length 2p-1 (Bernstein-Yang style), as in the reference.
int R3_recip(small* out, const small* in) {
  struct {
    std::array<small, p + 1> f, g, v, r;
  } s;
  Wiper wipe(s);
  s.v.fill(0);
  s.r.fill(0);
  s.r[0] = 1;
  s.f.fill(0);
  s.f[0] = 1;
  s.f[p - 1] = s.f[p] = -1;
  for (int i = 0; i < p; ++i) {
    s.g[p - 1 - i] = in[i];
  }
  s.g[p] = 0;
  int delta = 1;

  for (int loop = 0; loop < 2 * p - 1; ++loop) {
    for (int i = p; i > 0; --i) {
      s.v[i] = s.v[i - 1];
    }
    s.v[0] = 0;

    const int sign = -s.g[0] * s.f[0];
    const int swap = negative_mask(static_cast<int16_t>(-delta)) & nonzero_mask(s.g[0]);
    delta ^= swap & (delta ^ -delta);
    delta += 1;

    for (int i = 0; i < p + 1; ++i) {
      int t = swap & (s.f[i] ^ s.g[i]);
      s.f[i] = static_cast<small>(s.f[i] ^ t);
      s.g[i] = static_cast<small>(s.g[i] ^ t);
      t = swap & (s.v[i] ^ s.r[i]);
      s.v[i] = static_cast<small>(s.v[i] ^ t);
      s.r[i] = static_cast<small>(s.r[i] ^ t);
    }
    for (int i = 0; i < p + 1; ++i) {
      s.g[i] = F3_freeze_small(s.g[i] + sign * s.f[i]);
    }
    for (int i = 0; i < p + 1; ++i) {
      s.r[i] = F3_freeze_small(s.r[i] + sign * s.v[i]);
    }
    for (int i = 0; i < p; ++i) {
      s.g[i] = s.g[i + 1];
    }
    s.g[p] = 0;
  }

  const int sign = s.f[0];
  for (int i = 0; i < p; ++i) {
    out[i] = static_cast<small>(sign * s.v[p - 1 - i]);
  }
  return nonzero_mask(static_cast<int16_t>(delta));
}

// out = 1/(3*in) in Rq; returns 0 on success, else -1 (never happens for short `in`, since q is
// prime and x^p - x - 1 is irreducible mod q).
int Rq_recip3(Fq* out, const small* in) {
  struct {
    std::array<Fq, p + 1> f, g, v, r;
  } s;
  Wiper wipe(s);
  s.v.fill(0);
  s.r.fill(0);
  s.r[0] = Fq_recip(3);
  s.f.fill(0);
  s.f[0] = 1;
  s.f[p - 1] = s.f[p] = -1;
  for (int i = 0; i < p; ++i) {
    s.g[p - 1 - i] = in[i];
  }
  s.g[p] = 0;
  int delta = 1;

  for (int loop = 0; loop < 2 * p - 1; ++loop) {
    for (int i = p; i > 0; --i) {
      s.v[i] = s.v[i - 1];
    }
    s.v[0] = 0;

    const int swap = negative_mask(static_cast<int16_t>(-delta)) & nonzero_mask(s.g[0]);
    delta ^= swap & (delta ^ -delta);
    delta += 1;

    for (int i = 0; i < p + 1; ++i) {
      int t = swap & (s.f[i] ^ s.g[i]);
      s.f[i] = static_cast<Fq>(s.f[i] ^ t);
      s.g[i] = static_cast<Fq>(s.g[i] ^ t);
      t = swap & (s.v[i] ^ s.r[i]);
      s.v[i] = static_cast<Fq>(s.v[i] ^ t);
      s.r[i] = static_cast<Fq>(s.r[i] ^ t);
    }
    const int32_t f0 = s.f[0];
    const int32_t g0 = s.g[0];
    for (int i = 0; i < p + 1; ++i) {
      s.g[i] = Fq_freeze(f0 * s.g[i] - g0 * s.f[i]);
    }
    for (int i = 0; i < p + 1; ++i) {
      s.r[i] = Fq_freeze(f0 * s.r[i] - g0 * s.v[i]);
    }
    for (int i = 0; i < p; ++i) {
      s.g[i] = s.g[i + 1];
    }
    s.g[p] = 0;
  }

  const Fq scale = Fq_recip(s.f[0]);
  for (int i = 0; i < p; ++i) {
    out[i] = Fq_freeze(scale * static_cast<int32_t>(s.v[p - 1 - i]));
  }
  return nonzero_mask(static_cast<int16_t>(delta));
}

// 0 if r has Hamming weight w, else -1.
int Weightw_mask(const small* r) {
  int weight = 0;
  for (int i = 0; i < p; ++i) {
    weight += r[i] & 1;
  }
  return nonzero_mask(static_cast<int16_t>(weight - w));
}

// Round: each coefficient to the nearest multiple of 3.
void Round(Fq* out, const Fq* a) {
  for (int i = 0; i < p; ++i) {
    out[i] = static_cast<Fq>(a[i] - F3_freeze(a[i]));
  }
}

// ---- constant-time sort (djbsort, supercop crypto_sort/int32/portable4) -------------------------

inline void int32_minmax(int32_t& a, int32_t& b) {
  const int64_t ab = static_cast<int64_t>(b) ^ static_cast<int64_t>(a);
  int64_t c = static_cast<int64_t>(b) - static_cast<int64_t>(a);
  c ^= ab & (c ^ b);
  c >>= 31;
  c &= ab;
  a = static_cast<int32_t>(a ^ c);
  b = static_cast<int32_t>(b ^ c);
}

// Sorts x[0..n) ascending with a fixed network: the sequence of compared positions depends on n
// only.
void sort_int32(int32_t* x, long n) {
  if (n < 2) {
    return;
  }
  long top = 1;
  while (top < n - top) {
    top += top;
  }
  for (long pp = top; pp >= 1; pp >>= 1) {
    long i = 0;
    while (i + 2 * pp <= n) {
      for (long j = i; j < i + pp; ++j) {
        int32_minmax(x[j], x[j + pp]);
      }
      i += 2 * pp;
    }
    for (long j = i; j < n - pp; ++j) {
      int32_minmax(x[j], x[j + pp]);
    }

    i = 0;
    long j = 0;
    for (long qq = top; qq > pp; qq >>= 1) {
      bool done = false;
      if (j != i) {
        for (;;) {
          if (j == n - qq) {
            done = true;
            break;
          }
          int32_t a = x[j + pp];
          for (long r = qq; r > pp; r >>= 1) {
            int32_minmax(a, x[j + r]);
          }
          x[j + pp] = a;
          ++j;
          if (j == i + pp) {
            i += 2 * pp;
            break;
          }
        }
      }
      if (done) {
        continue;
      }
      while (i + pp <= n - qq) {
        for (j = i; j < i + pp; ++j) {
          int32_t a = x[j + pp];
          for (long r = qq; r > pp; r >>= 1) {
            int32_minmax(a, x[j + r]);
          }
          x[j + pp] = a;
        }
        i += 2 * pp;
      }
      j = i;
      while (j < n - qq) {
        int32_t a = x[j + pp];
        for (long r = qq; r > pp; r >>= 1) {
          int32_minmax(a, x[j + r]);
        }
        x[j + pp] = a;
        ++j;
      }
    }
  }
}

void sort_uint32(uint32_t* x, long n) {
  for (long j = 0; j < n; ++j) {
    x[j] ^= 0x80000000u;
  }
  // Same object representation; int32_t and uint32_t may alias.
  sort_int32(reinterpret_cast<int32_t*>(x), n);
  for (long j = 0; j < n; ++j) {
    x[j] ^= 0x80000000u;
  }
}

// A short polynomial (exactly w nonzero coefficients, each ±1) from p random words: tag w words
// as nonzero and the rest as zero in their low bits, sort by the random high bits, read the tags.
void Short_fromlist(small* out, const uint32_t* in) {
  std::array<uint32_t, p> L;
  Wiper wipe(L);
  for (int i = 0; i < w; ++i) {
    L[i] = in[i] & static_cast<uint32_t>(-2);
  }
  for (int i = w; i < p; ++i) {
    L[i] = (in[i] & static_cast<uint32_t>(-3)) | 1;
  }
  sort_uint32(L.data(), p);
  for (int i = 0; i < p; ++i) {
    out[i] = static_cast<small>((L[i] & 3) - 1);
  }
}

// ---- hashing: Hash_prefix(b, in) = first 32 bytes of SHA-512(b || in) ---------------------------

void Hash_prefix(uint8_t* out, int b, const uint8_t* in, size_t in_len) {
  const uint8_t prefix = static_cast<uint8_t>(b);
  uint8_t h[64];
  unsigned int h_len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, &prefix, 1) != 1 || EVP_DigestUpdate(ctx, in, in_len) != 1 ||
      EVP_DigestFinal_ex(ctx, h, &h_len) != 1 || h_len != sizeof h) {
    std::abort();  // SHA-512 cannot fail short of memory exhaustion; no caller could recover
  }
  EVP_MD_CTX_free(ctx);
  std::memcpy(out, h, kHashBytes);
  OPENSSL_cleanse(h, sizeof h);
}

// ---- randomness --------------------------------------------------------------------------------

// p little-endian uint32 words from one call to `rng`.
void random_words(const RandomBytesFn& rng, uint32_t* out) {
  std::array<uint8_t, 4 * p> buf;
  Wiper wipe(buf);
  rng(MutableByteView(buf.data(), buf.size()));
  for (int i = 0; i < p; ++i) {
    out[i] = static_cast<uint32_t>(buf[4 * i]) | static_cast<uint32_t>(buf[4 * i + 1]) << 8 |
             static_cast<uint32_t>(buf[4 * i + 2]) << 16 |
             static_cast<uint32_t>(buf[4 * i + 3]) << 24;
  }
}

void Short_random(const RandomBytesFn& rng, small* out) {
  std::array<uint32_t, p> L;
  Wiper wipe(L);
  random_words(rng, L.data());
  Short_fromlist(out, L.data());
}

// Uniform-ish in {-1,0,1}: the top two bits of 3*(30 random bits).
void Small_random(const RandomBytesFn& rng, small* out) {
  std::array<uint32_t, p> L;
  Wiper wipe(L);
  random_words(rng, L.data());
  for (int i = 0; i < p; ++i) {
    out[i] = static_cast<small>((((L[i] & 0x3fffffff) * 3) >> 30) - 1);
  }
}

// ---- encodings ---------------------------------------------------------------------------------

// The same division for a modulus known only at run time (the public moduli of Decode).
inline void uint32_divmod_dyn(uint32_t& out_q, uint16_t& out_r, uint32_t x, uint16_t m) {
  const uint32_t v = 0x80000000u / m;
  uint32_t quot = 0;
  uint32_t qpart = static_cast<uint32_t>((x * static_cast<uint64_t>(v)) >> 31);
  x -= qpart * m;
  quot += qpart;
  qpart = static_cast<uint32_t>((x * static_cast<uint64_t>(v)) >> 31);
  x -= qpart * m;
  quot += qpart;
  x -= m;
  quot += 1;
  const uint32_t mask = 0u - (x >> 31);
  x += mask & m;
  quot += mask;
  out_q = quot;
  out_r = static_cast<uint16_t>(x);
}

inline uint16_t uint32_mod_dyn(uint32_t x, uint16_t m) {
  uint32_t quot = 0;
  uint16_t r = 0;
  uint32_divmod_dyn(quot, r, x, m);
  return r;
}

constexpr int kMaxHalf = (p + 1) / 2;

// Encode: a mixed-radix encoding of 0 <= R[i] < M[i] < 16384 (spec section "Encoding"). The
// moduli M are public; the loop structure depends only on them.
void Encode(uint8_t*& out, const uint16_t* R, const uint16_t* M, int len) {
  if (len == 1) {
    uint16_t r = R[0];
    uint16_t m = M[0];
    while (m > 1) {
      *out++ = static_cast<uint8_t>(r);
      r = static_cast<uint16_t>(r >> 8);
      m = static_cast<uint16_t>((m + 255) >> 8);
    }
  }
  if (len > 1) {
    std::array<uint16_t, kMaxHalf> R2, M2;
    int i = 0;
    for (; i < len - 1; i += 2) {
      const uint32_t m0 = M[i];
      uint32_t r = R[i] + R[i + 1] * m0;
      uint32_t m = M[i + 1] * m0;
      while (m >= 16384) {
        *out++ = static_cast<uint8_t>(r);
        r >>= 8;
        m = (m + 255) >> 8;
      }
      R2[i / 2] = static_cast<uint16_t>(r);
      M2[i / 2] = static_cast<uint16_t>(m);
    }
    if (i < len) {
      R2[i / 2] = R[i];
      M2[i / 2] = M[i];
    }
    Encode(out, R2.data(), M2.data(), (len + 1) / 2);
  }
}

// Decode: the inverse of Encode, producing 0 <= out[i] < M[i] for any input bytes (invalid
// encodings are reduced, never rejected). `in` must hold as many bytes as Encode writes for M.
void Decode(uint16_t* out, const uint8_t* in, const uint16_t* M, int len) {
  if (len == 1) {
    if (M[0] == 1) {
      *out = 0;
    } else if (M[0] <= 256) {
      *out = uint32_mod_dyn(in[0], M[0]);
    } else {
      *out = uint32_mod_dyn(in[0] + (static_cast<uint32_t>(in[1]) << 8), M[0]);
    }
  }
  if (len > 1) {
    std::array<uint16_t, kMaxHalf> R2, M2, bottomr;
    std::array<uint32_t, kMaxHalf> bottomt;
    int i = 0;
    for (; i < len - 1; i += 2) {
      const uint32_t m = M[i] * static_cast<uint32_t>(M[i + 1]);
      if (m > 256 * 16383) {
        bottomt[i / 2] = 256 * 256;
        bottomr[i / 2] = static_cast<uint16_t>(in[0] + 256 * in[1]);
        in += 2;
        M2[i / 2] = static_cast<uint16_t>((((m + 255) >> 8) + 255) >> 8);
      } else if (m >= 16384) {
        bottomt[i / 2] = 256;
        bottomr[i / 2] = in[0];
        in += 1;
        M2[i / 2] = static_cast<uint16_t>((m + 255) >> 8);
      } else {
        bottomt[i / 2] = 1;
        bottomr[i / 2] = 0;
        M2[i / 2] = static_cast<uint16_t>(m);
      }
    }
    if (i < len) {
      M2[i / 2] = M[i];
    }
    Decode(R2.data(), in, M2.data(), (len + 1) / 2);
    for (i = 0; i < len - 1; i += 2) {
      const uint32_t r = bottomr[i / 2] + bottomt[i / 2] * R2[i / 2];
      uint32_t r1 = 0;
      uint16_t r0 = 0;
      uint32_divmod_dyn(r1, r0, r, M[i]);
      r1 = uint32_mod_dyn(r1, M[i + 1]);  // only needed for invalid inputs
      *out++ = r0;
      *out++ = static_cast<uint16_t>(r1);
    }
    if (i < len) {
      *out++ = R2[i / 2];
    }
  }
}


// Small_encode: four coefficients (each + 1, so 0..2) per byte, little end first; p = 4*190 + 1.
void Small_encode(uint8_t* s, const small* f) {
  for (int i = 0; i < p / 4; ++i) {
    int x = f[0] + 1;
    x += (f[1] + 1) << 2;
    x += (f[2] + 1) << 4;
    x += (f[3] + 1) << 6;
    f += 4;
    *s++ = static_cast<uint8_t>(x);
  }
  *s = static_cast<uint8_t>(*f + 1);
}

// Small_decode: the inverse; each 2-bit field minus 1 (the value 3 decodes to 2, as in the
// reference; only our own secret keys are ever decoded).
void Small_decode(small* f, const uint8_t* s) {
  for (int i = 0; i < p / 4; ++i) {
    uint8_t x = *s++;
    *f++ = static_cast<small>((x & 3) - 1);
    x = static_cast<uint8_t>(x >> 2);
    *f++ = static_cast<small>((x & 3) - 1);
    x = static_cast<uint8_t>(x >> 2);
    *f++ = static_cast<small>((x & 3) - 1);
    x = static_cast<uint8_t>(x >> 2);
    *f++ = static_cast<small>((x & 3) - 1);
  }
  *f = static_cast<small>((*s & 3) - 1);
}

void Rq_encode(uint8_t* s, const Fq* r) {
  std::array<uint16_t, p> R, M;
  for (int i = 0; i < p; ++i) {
    R[i] = static_cast<uint16_t>(r[i] + q12);
    M[i] = q;
  }
  uint8_t* out = s;
  Encode(out, R.data(), M.data(), p);
}

void Rq_decode(Fq* r, const uint8_t* s) {
  std::array<uint16_t, p> R, M;
  M.fill(q);
  Decode(R.data(), s, M.data(), p);
  for (int i = 0; i < p; ++i) {
    r[i] = static_cast<Fq>(R[i] - q12);
  }
}

// Rounded polynomials (multiples of 3) are sent as (c + q12)/3 in radix (q+2)/3 = 1531;
// 10923/2^15 is 1/3 rounded up, exact on this range.
void Rounded_encode(uint8_t* s, const Fq* r) {
  std::array<uint16_t, p> R, M;
  Wiper wipe(R);
  for (int i = 0; i < p; ++i) {
    R[i] = static_cast<uint16_t>(((r[i] + q12) * 10923) >> 15);
    M[i] = (q + 2) / 3;
  }
  uint8_t* out = s;
  Encode(out, R.data(), M.data(), p);
}

void Rounded_decode(Fq* r, const uint8_t* s) {
  std::array<uint16_t, p> R, M;
  M.fill((q + 2) / 3);
  Decode(R.data(), s, M.data(), p);
  for (int i = 0; i < p; ++i) {
    r[i] = static_cast<Fq>(R[i] * 3 - q12);
  }
}

// ---- Streamlined NTRU Prime Core ----------------------------------------------------------------

// KeyGen: h = g / (3f) in Rq, with secret (f, 1/g in R3).
void KeyGen(const RandomBytesFn& rng, Fq* h, small* f, small* ginv) {
  struct {
    std::array<small, p> g;
    std::array<Fq, p> finv;
  } s;
  Wiper wipe(s);
  for (;;) {
    Small_random(rng, s.g.data());
    if (R3_recip(ginv, s.g.data()) == 0) {
      break;
    }
  }
  Short_random(rng, f);
  (void)Rq_recip3(s.finv.data(), f);  // always succeeds: Rq is a field
  Rq_mult_small(h, s.finv.data(), s.g.data());
}

// Encrypt: c = Round(h*r).
void Encrypt(Fq* c, const small* r, const Fq* h) {
  std::array<Fq, p> hr;
  Wiper wipe(hr);
  Rq_mult_small(hr.data(), h, r);
  Round(c, hr.data());
}

// Decrypt: e = 3fc mod 3 = g*r mod 3, r = e/g; a result of the wrong weight becomes the fixed
// short polynomial (1,...,1,0,...,0) so that re-encryption fails without a branch.
void Decrypt(small* r, const Fq* c, const small* f, const small* ginv) {
  struct {
    std::array<Fq, p> cf, cf3;
    std::array<small, p> e, ev;
  } s;
  Wiper wipe(s);
  Rq_mult_small(s.cf.data(), c, f);
  for (int i = 0; i < p; ++i) {
    s.cf3[i] = Fq_freeze(3 * s.cf[i]);
  }
  for (int i = 0; i < p; ++i) {
    s.e[i] = F3_freeze(s.cf3[i]);
  }
  R3_mult(s.ev.data(), s.e.data(), ginv);
  const int mask = Weightw_mask(s.ev.data());  // 0 if weight w, else -1
  for (int i = 0; i < w; ++i) {
    r[i] = static_cast<small>(((s.ev[i] ^ 1) & ~mask) ^ 1);
  }
  for (int i = w; i < p; ++i) {
    r[i] = static_cast<small>(s.ev[i] & ~mask);
  }
}

// ---- the KEM (spec: "Streamlined NTRU Prime" with Hide / Encap / Decap) -------------------------

// HashConfirm(r, pk) = Hash2(Hash3(r_enc) || Hash4(pk)); `cache` is Hash4(pk).
void HashConfirm(uint8_t* h, const uint8_t* r_enc, const uint8_t* cache) {
  uint8_t x[kHashBytes * 2];
  Hash_prefix(x, 3, r_enc, kInputsBytes);
  std::memcpy(x + kHashBytes, cache, kHashBytes);
  Hash_prefix(h, 2, x, sizeof x);
  OPENSSL_cleanse(x, sizeof x);
}

// HashSession(b, y, z) = Hash_b(Hash3(y) || z), z = ciphertext || confirmation.
void HashSession(uint8_t* k, int b, const uint8_t* y, const uint8_t* z) {
  uint8_t x[kHashBytes + kCiphertextsBytes + kConfirmBytes];
  Hash_prefix(x, 3, y, kInputsBytes);
  std::memcpy(x + kHashBytes, z, kCiphertextsBytes + kConfirmBytes);
  Hash_prefix(k, b, x, sizeof x);
  OPENSSL_cleanse(x, sizeof x);
}

// Hide: c = ZEncrypt(r, pk) || HashConfirm(r, pk), and r_enc = Small_encode(r).
void Hide(uint8_t* c, uint8_t* r_enc, const small* r, const uint8_t* pk, const uint8_t* cache) {
  struct {
    std::array<Fq, p> h, cpoly;
  } s;
  Wiper wipe(s);
  Small_encode(r_enc, r);
  Rq_decode(s.h.data(), pk);
  Encrypt(s.cpoly.data(), r, s.h.data());
  Rounded_encode(c, s.cpoly.data());
  HashConfirm(c + kCiphertextsBytes, r_enc, cache);
}

// 0 if the two (ciphertext || confirmation) strings match, else -1.
int Ciphertexts_diff_mask(const uint8_t* c, const uint8_t* c2) {
  uint16_t differentbits = 0;
  for (size_t i = 0; i < kCiphertextsBytes + kConfirmBytes; ++i) {
    differentbits = static_cast<uint16_t>(differentbits | (c[i] ^ c2[i]));
  }
  return static_cast<int>(1 & ((differentbits - 1) >> 8)) - 1;
}

void rand_bytes_rng(MutableByteView out) { random_bytes(out); }

class Sntrup761Kem final : public Kem {
 public:
  const KemInfo& info() const override { return kInfo; }
  void keypair(Bytes& public_key, SecretBytes& secret_key) const override {
    sntrup761_keypair_with(rand_bytes_rng, public_key, secret_key);
  }
  bool encapsulate(ByteView public_key, Bytes& ciphertext,
                   SecretBytes& shared_secret) const override {
    return sntrup761_encapsulate_with(rand_bytes_rng, public_key, ciphertext, shared_secret);
  }
  bool decapsulate(ByteView secret_key, ByteView ciphertext,
                   SecretBytes& shared_secret) const override {
    return sntrup761_decapsulate(secret_key, ciphertext, shared_secret);
  }

 private:
  static constexpr KemInfo kInfo{"sntrup761", kSntrup761PublicKeyLen, kSntrup761SecretKeyLen,
                                 kSntrup761CiphertextLen, kSntrup761SharedSecretLen};
};

}  // namespace

const Kem& sntrup761() {
  static const Sntrup761Kem kem;
  return kem;
}

// KEM_KeyGen: sk = Small_encode(f) || Small_encode(1/g) || pk || rho || Hash4(pk).
void sntrup761_keypair_with(const RandomBytesFn& rng, Bytes& out_public_key,
                            SecretBytes& out_secret_key) {
  struct {
    std::array<Fq, p> h;
    std::array<small, p> f, ginv;
  } s;
  Wiper wipe(s);
  KeyGen(rng, s.h.data(), s.f.data(), s.ginv.data());

  out_public_key.assign(kSntrup761PublicKeyLen, 0);
  Rq_encode(out_public_key.data(), s.h.data());

  out_secret_key.assign(kSntrup761SecretKeyLen, 0);
  uint8_t* sk = out_secret_key.data();
  Small_encode(sk, s.f.data());
  sk += kSmallBytes;
  Small_encode(sk, s.ginv.data());
  sk += kSmallBytes;
  std::memcpy(sk, out_public_key.data(), kSntrup761PublicKeyLen);
  sk += kSntrup761PublicKeyLen;
  rng(MutableByteView(sk, kInputsBytes));  // rho, for implicit rejection
  sk += kInputsBytes;
  Hash_prefix(sk, 4, out_public_key.data(), kSntrup761PublicKeyLen);
}

// Encap: r random short, c = Hide(r, pk), k = Hash1(Hash3(r_enc) || c).
bool sntrup761_encapsulate_with(const RandomBytesFn& rng, ByteView public_key,
                                Bytes& out_ciphertext, SecretBytes& out_shared_secret) {
  if (public_key.size() != kSntrup761PublicKeyLen) {
    return false;
  }
  struct {
    std::array<small, p> r;
    uint8_t r_enc[kInputsBytes];
  } s;
  Wiper wipe(s);
  uint8_t cache[kHashBytes];
  Hash_prefix(cache, 4, public_key.data(), kSntrup761PublicKeyLen);
  Short_random(rng, s.r.data());

  Bytes ct(kSntrup761CiphertextLen);
  Hide(ct.data(), s.r_enc, s.r.data(), public_key.data(), cache);
  out_shared_secret.assign(kSntrup761SharedSecretLen, 0);
  HashSession(out_shared_secret.data(), 1, s.r_enc, ct.data());
  out_ciphertext = std::move(ct);
  return true;
}

// Decap: r = ZDecrypt(c), re-encrypt; if the result differs from c (in constant time), hash rho
// with prefix 0 instead of r_enc with prefix 1.
bool sntrup761_decapsulate(ByteView secret_key, ByteView ciphertext,
                           SecretBytes& out_shared_secret) {
  if (secret_key.size() != kSntrup761SecretKeyLen ||
      ciphertext.size() != kSntrup761CiphertextLen) {
    return false;
  }
  const uint8_t* sk = secret_key.data();
  const uint8_t* pk = sk + kSecretKeysBytes;
  const uint8_t* rho = pk + kSntrup761PublicKeyLen;
  const uint8_t* cache = rho + kInputsBytes;
  const uint8_t* c = ciphertext.data();

  struct {
    std::array<small, p> f, v, r;
    std::array<Fq, p> cpoly;
    uint8_t r_enc[kInputsBytes];
    uint8_t cnew[kCiphertextsBytes + kConfirmBytes];
  } s;
  Wiper wipe(s);
  Small_decode(s.f.data(), sk);
  Small_decode(s.v.data(), sk + kSmallBytes);
  Rounded_decode(s.cpoly.data(), c);
  Decrypt(s.r.data(), s.cpoly.data(), s.f.data(), s.v.data());

  Hide(s.cnew, s.r_enc, s.r.data(), pk, cache);
  const int mask = Ciphertexts_diff_mask(c, s.cnew);
  for (size_t i = 0; i < kInputsBytes; ++i) {
    s.r_enc[i] = static_cast<uint8_t>(s.r_enc[i] ^ (mask & (s.r_enc[i] ^ rho[i])));
  }
  out_shared_secret.assign(kSntrup761SharedSecretLen, 0);
  HashSession(out_shared_secret.data(), 1 + mask, s.r_enc, c);
  return true;
}

}  // namespace hashi::crypto
