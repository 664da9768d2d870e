// Tests for src/crypto/sntrup761: known answers (NIST PQC KAT format, via liboqs's published
// hashes), implicit rejection of malformed ciphertexts, and random round trips.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "crypto/hash.h"
#include "crypto/kem.h"
#include "crypto/sntrup761.h"

namespace hashi::crypto {
namespace {

std::string hex_upper(ByteView b) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string s;
  s.reserve(2 * b.size());
  for (uint8_t c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 15];
  }
  return s;
}

std::string hex_lower(ByteView b) {
  std::string s = hex_upper(b);
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// NIST's AES-256-CTR DRBG from the PQC submission package (rng.c: randombytes_init, randombytes,
// AES256_CTR_DRBG_Update), with AES-256-ECB from OpenSSL. Test-only: it exists to reproduce KATs.
class NistDrbg {
 public:
  explicit NistDrbg(const uint8_t entropy[48]) {
    key_.fill(0);
    v_.fill(0);
    update(entropy);
  }

  // randombytes(x, xlen): counter-mode blocks, then an update with no provided data.
  void randombytes(MutableByteView out) {
    size_t i = 0;
    while (i < out.size()) {
      increment_v();
      uint8_t block[16];
      aes256_ecb(v_.data(), block);
      const size_t n = std::min<size_t>(16, out.size() - i);
      std::memcpy(out.data() + i, block, n);
      i += n;
    }
    update(nullptr);
  }

 private:
  void increment_v() {
    for (int j = 15; j >= 0; --j) {
      if (v_[j] == 0xff) {
        v_[j] = 0;
      } else {
        ++v_[j];
        break;
      }
    }
  }

  void aes256_ecb(const uint8_t in[16], uint8_t out[16]) const {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    ASSERT_NE(ctx, nullptr);
    int len = 0;
    ASSERT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_256_ecb(), nullptr, key_.data(), nullptr), 1);
    ASSERT_EQ(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
    ASSERT_EQ(EVP_EncryptUpdate(ctx, out, &len, in, 16), 1);
    ASSERT_EQ(len, 16);
    EVP_CIPHER_CTX_free(ctx);
  }

  void update(const uint8_t* provided) {
    uint8_t temp[48];
    for (int i = 0; i < 3; ++i) {
      increment_v();
      aes256_ecb(v_.data(), temp + 16 * i);
    }
    if (provided != nullptr) {
      for (int i = 0; i < 48; ++i) {
        temp[i] ^= provided[i];
      }
    }
    std::memcpy(key_.data(), temp, 32);
    std::memcpy(v_.data(), temp + 32, 16);
  }

  std::array<uint8_t, 32> key_;
  std::array<uint8_t, 16> v_;
};

// One KAT entry as liboqs's tests/kat_kem.c prints it (NIST PQCgenKAT_kem format).
std::string kat_entry(size_t count, const uint8_t seed[48]) {
  NistDrbg drbg(seed);
  const RandomBytesFn rng = [&drbg](MutableByteView out) { drbg.randombytes(out); };
  Bytes pk;
  SecretBytes sk;
  sntrup761_keypair_with(rng, pk, sk);
  Bytes ct;
  SecretBytes ss;
  EXPECT_TRUE(sntrup761_encapsulate_with(rng, pk, ct, ss));
  SecretBytes ss2;
  EXPECT_TRUE(sntrup761_decapsulate(view(sk), ct, ss2));
  EXPECT_EQ(ss, ss2);
  return "count = " + std::to_string(count) + "\nseed = " + hex_upper({seed, 48}) +
         "\npk = " + hex_upper(pk) + "\nsk = " + hex_upper(view(sk)) + "\nct = " + hex_upper(ct) +
         "\nss = " + hex_upper(view(ss)) + "\n";
}

// The KAT file for counts 0..num_entries-1: seeds come from a DRBG seeded with 0, 1, ..., 47;
// entries are separated by a blank line (liboqs omits the final one).
std::string kat_file(size_t num_entries) {
  uint8_t entropy[48];
  for (int i = 0; i < 48; ++i) {
    entropy[i] = static_cast<uint8_t>(i);
  }
  NistDrbg outer(entropy);
  std::string file;
  for (size_t count = 0; count < num_entries; ++count) {
    uint8_t seed[48];
    outer.randombytes(MutableByteView(seed, 48));
    if (count != 0) {
      file += "\n";
    }
    file += kat_entry(count, seed);
  }
  return file;
}

std::string sha256_hex(const std::string& s) { return hex_lower(hash(HashAlg::kSha256, as_bytes(s))); }

// Expected values: liboqs tests/KATs/kem/kats.json, entry "sntrup761" (open-quantum-safe/liboqs,
// checked by tests/test_kat.py against `kat_kem sntrup761 [--all]`): "single" is the SHA-256 of
// the count = 0 entry, "all" of counts 0..99. liboqs's sntrup761 is PQClean's, i.e. the NTRU
// Prime team's round-3 code, and matches the NIST PQC round-3 kat_kem.rsp.
constexpr const char* kLiboqsSingleSha256 =
    "afc42c3a5b10f4ef69654250097ebda9b9564570f4086744b24a6daf2bd1f89a";
constexpr const char* kLiboqsAllSha256 =
    "36e1e53d4e6e295e8fb804449958ad9a3719aa350e91933c65791b9117382d57";

TEST(Sntrup761, SizesAndInfo) {
  const KemInfo& info = sntrup761().info();
  EXPECT_EQ(info.name, "sntrup761");
  EXPECT_EQ(info.public_key_len, 1158u);
  EXPECT_EQ(info.secret_key_len, 1763u);
  EXPECT_EQ(info.ciphertext_len, 1039u);
  EXPECT_EQ(info.shared_secret_len, 32u);
}

TEST(Sntrup761, KnownAnswerFirstEntry) {
  const std::string entry = kat_file(1);
  // The NIST seed of count = 0, as printed in every kat_kem.rsp.
  EXPECT_NE(entry.find("seed = 061550234D158C5EC95595FE04EF7A25767F2E24CC2BC479D09D86DC9ABCFDE7056A8C"
                       "266F9EF97ED08541DBD2E1FFA1\n"),
            std::string::npos);
  EXPECT_EQ(sha256_hex(entry), kLiboqsSingleSha256) << entry.substr(0, 400);
}

TEST(Sntrup761Slow, KnownAnswerAllHundredEntries) {
  EXPECT_EQ(sha256_hex(kat_file(100)), kLiboqsAllSha256);
}


// Bytes from a counter-seeded SHA-512 stream, so the random tests are reproducible.
class TestRng {
 public:
  explicit TestRng(uint64_t seed) : counter_(seed << 32) {}
  void fill(MutableByteView out) {
    size_t i = 0;
    while (i < out.size()) {
      uint8_t in[8];
      for (int b = 0; b < 8; ++b) {
        in[b] = static_cast<uint8_t>(counter_ >> (8 * b));
      }
      ++counter_;
      const Bytes block = hash(HashAlg::kSha512, ByteView(in, 8));
      const size_t n = std::min(block.size(), out.size() - i);
      std::memcpy(out.data() + i, block.data(), n);
      i += n;
    }
  }
  RandomBytesFn fn() {
    return [this](MutableByteView out) { fill(out); };
  }

 private:
  uint64_t counter_;
};

// The implicit-rejection secret, computed independently of the implementation from the spec:
// Hash0(Hash3(rho) || c), Hash_b(x) = SHA-512(b || x)[0..32), rho = sk[382 + 1158 .. +191).
Bytes rejection_secret(ByteView sk, ByteView ct) {
  const ByteView rho = sk.subspan(382 + 1158, 191);
  Bytes x3{3};
  x3.insert(x3.end(), rho.begin(), rho.end());
  Bytes h3 = hash(HashAlg::kSha512, x3);
  Bytes x0{0};
  x0.insert(x0.end(), h3.begin(), h3.begin() + 32);
  x0.insert(x0.end(), ct.begin(), ct.end());
  Bytes k = hash(HashAlg::kSha512, x0);
  k.resize(32);
  return k;
}

TEST(Sntrup761, MalformedCiphertextsGiveImplicitRejection) {
  TestRng rng(1);
  Bytes pk;
  SecretBytes sk;
  sntrup761_keypair_with(rng.fn(), pk, sk);
  Bytes ct;
  SecretBytes ss;
  ASSERT_TRUE(sntrup761_encapsulate_with(rng.fn(), pk, ct, ss));

  SecretBytes good;
  ASSERT_TRUE(sntrup761_decapsulate(view(sk), ct, good));
  EXPECT_EQ(good, ss);
  EXPECT_NE(Bytes(good.begin(), good.end()), rejection_secret(view(sk), ct));

  // A flip in the rounded polynomial (first and last byte, middle), in the confirmation hash,
  // and every bit of one byte.
  std::vector<std::pair<size_t, uint8_t>> flips = {
      {0, 0x01}, {500, 0x80}, {1006, 0x01}, {1007, 0x01}, {1038, 0x80}, {1038, 0xff}};
  for (int bit = 0; bit < 8; ++bit) {
    flips.emplace_back(17, static_cast<uint8_t>(1 << bit));
  }
  for (const auto& [pos, mask] : flips) {
    Bytes bad = ct;
    bad[pos] ^= mask;
    SecretBytes out1, out2;
    ASSERT_TRUE(sntrup761_decapsulate(view(sk), bad, out1));
    ASSERT_TRUE(sntrup761_decapsulate(view(sk), bad, out2));
    EXPECT_EQ(out1, out2) << "pos " << pos;  // deterministic
    EXPECT_NE(out1, ss) << "pos " << pos;
    EXPECT_EQ(Bytes(out1.begin(), out1.end()), rejection_secret(view(sk), bad)) << "pos " << pos;
  }

  // All-zero and all-0xff ciphertexts are rejected the same way.
  for (uint8_t fill : {uint8_t{0}, uint8_t{0xff}}) {
    const Bytes bad(kSntrup761CiphertextLen, fill);
    SecretBytes out;
    ASSERT_TRUE(sntrup761_decapsulate(view(sk), bad, out));
    EXPECT_EQ(Bytes(out.begin(), out.end()), rejection_secret(view(sk), bad));
  }

  // The same ciphertext under another key pair is rejected too.
  Bytes pk2;
  SecretBytes sk2;
  sntrup761_keypair_with(rng.fn(), pk2, sk2);
  SecretBytes other;
  ASSERT_TRUE(sntrup761_decapsulate(view(sk2), ct, other));
  EXPECT_EQ(Bytes(other.begin(), other.end()), rejection_secret(view(sk2), ct));
}

TEST(Sntrup761, WrongLengthsAreRefused) {
  const Kem& kem = sntrup761();
  Bytes pk;
  SecretBytes sk;
  kem.keypair(pk, sk);
  Bytes ct;
  SecretBytes ss;
  EXPECT_FALSE(kem.encapsulate(ByteView(pk).first(1157), ct, ss));
  Bytes longer = pk;
  longer.push_back(0);
  EXPECT_FALSE(kem.encapsulate(longer, ct, ss));
  EXPECT_TRUE(ct.empty());
  ASSERT_TRUE(kem.encapsulate(pk, ct, ss));
  SecretBytes out;
  EXPECT_FALSE(kem.decapsulate(view(sk), ByteView(ct).first(1038), out));
  EXPECT_FALSE(kem.decapsulate(view(sk).first(1762), ct, out));
  ASSERT_TRUE(kem.decapsulate(view(sk), ct, out));
  EXPECT_EQ(out, ss);
}

// 10,000 encapsulate/decapsulate pairs with RAND_bytes randomness (100 key pairs x 100). A
// "Slow" suite: minutes under ASan, so it runs in the optimised build (label "slow").
TEST(Sntrup761Slow, TenThousandRandomRoundTrips) {
  const Kem& kem = sntrup761();
  const auto start = std::chrono::steady_clock::now();
  int failures = 0;
  for (int k = 0; k < 100; ++k) {
    Bytes pk;
    SecretBytes sk;
    kem.keypair(pk, sk);
    ASSERT_EQ(pk.size(), kSntrup761PublicKeyLen);
    ASSERT_EQ(sk.size(), kSntrup761SecretKeyLen);
    for (int i = 0; i < 100; ++i) {
      Bytes ct;
      SecretBytes ss, ss2;
      ASSERT_TRUE(kem.encapsulate(pk, ct, ss));
      ASSERT_EQ(ct.size(), kSntrup761CiphertextLen);
      ASSERT_TRUE(kem.decapsulate(view(sk), ct, ss2));
      failures += (ss != ss2);
    }
  }
  EXPECT_EQ(failures, 0);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::printf("[sntrup761] 100 keypairs + 10000 encaps/decaps: %lld ms\n",
              static_cast<long long>(ms));
}

}  // namespace
}  // namespace hashi::crypto
