// bcrypt_pbkdf as in OpenBSD's lib/libutil/bcrypt_pbkdf.c. The Blowfish block function is
// OpenSSL's BF_encrypt; EVP cannot express the "expensive key schedule" (eksblowfish), which
// rewrites the P-array and S-boxes directly, so we drive OpenSSL's BF_KEY state ourselves. The
// initial state (the hexadecimal digits of pi) is computed once with OpenSSL's BIGNUM instead of
// being pasted in as a table.
#include "keys/bcrypt_pbkdf.h"

#include <openssl/blowfish.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <mutex>

#include "crypto/ossl.h"

namespace hashi::keys {
namespace {

constexpr size_t kBcryptWords = 8;
constexpr size_t kBcryptHashLen = kBcryptWords * 4;
constexpr size_t kSha512Len = 64;
constexpr size_t kStateWords = BF_ROUNDS + 2 + 4 * 256;  // P-array then S-boxes

// BN_div_word's error return.
constexpr BN_ULONG kBnDivError = static_cast<BN_ULONG>(-1);

// Machin's formula, pi = 16 atan(1/5) - 4 atan(1/239), in fixed point with `bits` fraction bits.
// Adds atan(1/x) * 2^bits * coeff (coeff = +-16, +-4) to `acc`.
bool add_arctan_inverse(BIGNUM* acc, BN_ULONG x, int bits, int coeff) {
  ossl::Bn power(BN_new()), term(BN_new());
  if (!power || !term || !BN_set_bit(power.get(), bits)) return false;
  if (BN_div_word(power.get(), x) == kBnDivError) return false;  // 2^bits / x
  const BN_ULONG x2 = x * x;
  for (BN_ULONG k = 0; !BN_is_zero(power.get()); ++k) {
    if (!BN_copy(term.get(), power.get()) || BN_div_word(term.get(), 2 * k + 1) == kBnDivError ||
        !BN_mul_word(term.get(), static_cast<BN_ULONG>(coeff < 0 ? -coeff : coeff))) {
      return false;
    }
    bool subtract = (k % 2 == 1) != (coeff < 0);
    if (!(subtract ? BN_sub(acc, acc, term.get()) : BN_add(acc, acc, term.get()))) return false;
    if (BN_div_word(power.get(), x2) == kBnDivError) return false;
  }
  return true;
}

// Blowfish's initial P-array and S-boxes: the fractional hex digits of pi, 32 bits per word.
struct InitialState {
  bool ok = false;
  std::array<uint32_t, kStateWords> words{};
};

InitialState compute_initial_state() {
  InitialState st;
  constexpr int kGuardBits = 64;  // absorbs the truncation error of ~10^4 series terms
  const int bits = int(kStateWords * 32) + kGuardBits;
  ossl::Bn pi(BN_new());
  if (!pi || !add_arctan_inverse(pi.get(), 5, bits, 16) ||
      !add_arctan_inverse(pi.get(), 239, bits, -4) || !BN_rshift(pi.get(), pi.get(), kGuardBits) ||
      !BN_mask_bits(pi.get(), bits - kGuardBits)) {
    return st;
  }
  std::array<uint8_t, kStateWords * 4> raw{};
  if (BN_bn2binpad(pi.get(), raw.data(), int(raw.size())) < 0) return st;
  for (size_t i = 0; i < kStateWords; ++i) {
    st.words[i] = (uint32_t(raw[4 * i]) << 24) | (uint32_t(raw[4 * i + 1]) << 16) |
                  (uint32_t(raw[4 * i + 2]) << 8) | uint32_t(raw[4 * i + 3]);
  }
  // Known first and last words of Blowfish's tables guard against an arithmetic slip.
  st.ok = st.words[0] == 0x243F6A88u && st.words[kStateWords - 1] == 0x3AC372E6u;
  return st;
}

const InitialState& initial_state() {
  static const InitialState state = compute_initial_state();
  return state;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

// Blowfish_stream2word: the next 4 bytes of `data` (cycling) as a big-endian word.
uint32_t stream2word(const uint8_t* data, size_t len, size_t& pos) {
  uint32_t w = 0;
  for (int i = 0; i < 4; ++i) {
    if (pos >= len) pos = 0;
    w = (w << 8) | data[pos++];
  }
  return w;
}

void encipher(BF_KEY& key, uint32_t& l, uint32_t& r) {
  BF_LONG block[2] = {l, r};
  BF_encrypt(block, &key);
  l = block[0];
  r = block[1];
}

// Blowfish_expandstate (with data) / Blowfish_expand0state (data == nullptr).
void expand_state(BF_KEY& key, const uint8_t* data, size_t data_len, const uint8_t* k,
                  size_t k_len) {
  size_t pos = 0;
  for (int i = 0; i < BF_ROUNDS + 2; ++i) key.P[i] ^= stream2word(k, k_len, pos);
  pos = 0;
  uint32_t l = 0, r = 0;
  auto step = [&](BF_LONG& out_l, BF_LONG& out_r) {
    if (data) {
      l ^= stream2word(data, data_len, pos);
      r ^= stream2word(data, data_len, pos);
    }
    encipher(key, l, r);
    out_l = l;
    out_r = r;
  };
  for (int i = 0; i < BF_ROUNDS + 2; i += 2) step(key.P[i], key.P[i + 1]);
  for (int i = 0; i < 4 * 256; i += 2) step(key.S[i], key.S[i + 1]);
}

void bcrypt_hash(const uint8_t* sha2pass, const uint8_t* sha2salt, uint8_t* out) {
  static constexpr char kCipherText[] = "OxychromaticBlowfishSwatDynamite";
  const InitialState& init = initial_state();
  BF_KEY key;
  static_assert(sizeof(key.P) + sizeof(key.S) == kStateWords * sizeof(BF_LONG));
  for (int i = 0; i < BF_ROUNDS + 2; ++i) key.P[i] = init.words[size_t(i)];
  for (int i = 0; i < 4 * 256; ++i) key.S[i] = init.words[size_t(BF_ROUNDS + 2 + i)];

  expand_state(key, sha2salt, kSha512Len, sha2pass, kSha512Len);
  for (int i = 0; i < 64; ++i) {
    expand_state(key, nullptr, 0, sha2salt, kSha512Len);
    expand_state(key, nullptr, 0, sha2pass, kSha512Len);
  }
  uint32_t cdata[kBcryptWords];
  size_t pos = 0;
  for (auto& w : cdata) {
    w = stream2word(reinterpret_cast<const uint8_t*>(kCipherText), kBcryptHashLen, pos);
  }
  for (int i = 0; i < 64; ++i) {
    for (size_t j = 0; j < kBcryptWords; j += 2) encipher(key, cdata[j], cdata[j + 1]);
  }
  for (size_t i = 0; i < kBcryptWords; ++i) {  // little-endian out, as OpenBSD does
    out[4 * i + 3] = uint8_t(cdata[i] >> 24);
    out[4 * i + 2] = uint8_t(cdata[i] >> 16);
    out[4 * i + 1] = uint8_t(cdata[i] >> 8);
    out[4 * i + 0] = uint8_t(cdata[i]);
  }
  OPENSSL_cleanse(&key, sizeof(key));
  OPENSSL_cleanse(cdata, sizeof(cdata));
}

#pragma GCC diagnostic pop

bool sha512(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len, uint8_t* out) {
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  unsigned int len = 0;
  return ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha512(), nullptr) == 1 &&
         EVP_DigestUpdate(ctx.get(), a, a_len) == 1 &&
         (b_len == 0 || EVP_DigestUpdate(ctx.get(), b, b_len) == 1) &&
         EVP_DigestFinal_ex(ctx.get(), out, &len) == 1 && len == kSha512Len;
}

}  // namespace

bool bcrypt_pbkdf(std::string_view passphrase, ByteView salt, uint32_t rounds,
                  MutableByteView out) {
  if (rounds < 1 || rounds > kMaxBcryptRounds || passphrase.empty() || salt.empty() ||
      out.empty() || out.size() > kBcryptHashLen * kBcryptHashLen) {
    return false;
  }
  if (!initial_state().ok) return false;
  const size_t key_len = out.size();
  const size_t stride = (key_len + kBcryptHashLen - 1) / kBcryptHashLen;
  size_t amt = (key_len + stride - 1) / stride;

  uint8_t sha2pass[kSha512Len], sha2salt[kSha512Len];
  uint8_t block[kBcryptHashLen], tmp[kBcryptHashLen];
  if (!sha512(reinterpret_cast<const uint8_t*>(passphrase.data()), passphrase.size(), nullptr, 0,
              sha2pass)) {
    return false;
  }
  bool ok = true;
  size_t left = key_len;
  for (uint32_t count = 1; left > 0 && ok; ++count) {
    uint8_t count_be[4] = {uint8_t(count >> 24), uint8_t(count >> 16), uint8_t(count >> 8),
                           uint8_t(count)};
    ok = sha512(salt.data(), salt.size(), count_be, sizeof(count_be), sha2salt);
    if (!ok) break;
    bcrypt_hash(sha2pass, sha2salt, tmp);
    std::memcpy(block, tmp, sizeof(block));
    for (uint32_t i = 1; i < rounds && ok; ++i) {
      ok = sha512(tmp, sizeof(tmp), nullptr, 0, sha2salt);
      bcrypt_hash(sha2pass, sha2salt, tmp);
      for (size_t j = 0; j < sizeof(block); ++j) block[j] ^= tmp[j];
    }
    // Output bytes are spread across the key ("stride"), so every block feeds the whole key.
    amt = std::min(amt, left);
    size_t i = 0;
    for (; i < amt; ++i) {
      size_t dest = i * stride + (count - 1);
      if (dest >= key_len) break;
      out[dest] = block[i];
    }
    left -= i;
  }
  OPENSSL_cleanse(sha2pass, sizeof(sha2pass));
  OPENSSL_cleanse(sha2salt, sizeof(sha2salt));
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(tmp, sizeof(tmp));
  return ok;
}

}  // namespace hashi::keys
