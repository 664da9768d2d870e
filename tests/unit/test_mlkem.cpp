// Tests for crypto/mlkem768 (FIPS 203 ML-KEM-768) through the Kem interface of crypto/kem.h:
// published known-answer vectors (C2SP CCTV), implicit rejection, the modulus check on
// encapsulation keys, and random encapsulate <-> decapsulate round trips.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "crypto/kem.h"
#include "crypto/mlkem768.h"

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HASHI_SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define HASHI_PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define HASHI_SECRET(p, n) ((void)(p), (void)(n))
#define HASHI_PUBLIC(p, n) ((void)(p), (void)(n))
#endif

namespace hashi::crypto {
namespace {

Bytes unhex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string tohex(ByteView b) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 15];
  }
  return s;
}

// A SHAKE instance through OpenSSL's EVP, independent of the code under test.
class Shake {
 public:
  explicit Shake(const char* name) : md_(EVP_MD_fetch(nullptr, name, nullptr)) {
    EXPECT_NE(md_, nullptr);
    EXPECT_EQ(EVP_DigestInit_ex2(ctx_, md_, nullptr), 1);
  }
  ~Shake() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Shake(const Shake&) = delete;
  Shake& operator=(const Shake&) = delete;
  void update(ByteView data) { EXPECT_EQ(EVP_DigestUpdate(ctx_, data.data(), data.size()), 1); }
  Bytes finish(size_t len) {
    Bytes out(len);
    EXPECT_EQ(EVP_DigestFinalXOF(ctx_, out.data(), out.size()), 1);
    return out;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_ = EVP_MD_CTX_new();
};

// J(z || c) = SHAKE256(z || c, 32): the implicit-rejection secret (FIPS 203 algorithm 18).
Bytes rejection_secret(ByteView sk, ByteView ct) {
  Shake j("SHAKE256");
  j.update(sk.subspan(kMlKem768SecretKeyLen - 32, 32));
  j.update(ct);
  return j.finish(32);
}

ByteView bv(const SecretBytes& s) { return view(s); }

TEST(MlKem, InfoSizes) {
  const KemInfo& info = mlkem768().info();
  EXPECT_EQ(info.name, "mlkem768");
  EXPECT_EQ(info.public_key_len, 1184u);
  EXPECT_EQ(info.secret_key_len, 2400u);
  EXPECT_EQ(info.ciphertext_len, 1088u);
  EXPECT_EQ(info.shared_secret_len, 32u);
}

// The accumulated vectors of C2SP CCTV (https://github.com/C2SP/CCTV/blob/main/ML-KEM/README.md,
// "Accumulated pq-crystals vectors"): inputs come from one SHAKE-128 stream over the empty
// string; per test d, z, m (32 bytes each) and a random ciphertext (1088 bytes) are drawn, and
// ek, dk, ct, K (from encapsulation, which must equal decapsulation of ct) and K from decapsulating
// the random ciphertext are absorbed into a second SHAKE-128, whose first 32 bytes are compared.
// The expected value is the README's ML-KEM-768 hash for 10 000 tests of final FIPS 203 (d || k
// hashed by G): f959d18d3d1180121433bf0e05f11e7908cf9d03edc150b2b07cb90bef5bc1c1.
TEST(MlKemSlow, CctvAccumulated10000) {
  constexpr int kTests = 10000;
  constexpr size_t kPerTest = 3 * 32 + kMlKem768CiphertextLen;
  Shake rng("SHAKE128");
  // OpenSSL 3.0 cannot squeeze incrementally, so the whole input stream is squeezed at once.
  const Bytes stream = rng.finish(kTests * kPerTest);
  EXPECT_EQ(tohex(ByteView(stream).first(16)), "7f9c2ba4e88f827d616045507605853e");

  const Kem& kem = mlkem768();
  Shake acc("SHAKE128");
  Bytes ek, ct;
  SecretBytes dk, k_enc, k_dec, k_rej;
  for (int t = 0; t < kTests; ++t) {
    const ByteView in = ByteView(stream).subspan(t * kPerTest, kPerTest);
    mlkem768_keypair_derand(in.subspan(0, 32), in.subspan(32, 32), ek, dk);
    ASSERT_TRUE(mlkem768_encaps_derand(ek, in.subspan(64, 32), ct, k_enc));
    ASSERT_TRUE(kem.decapsulate(bv(dk), ct, k_dec));
    ASSERT_EQ(k_dec, k_enc) << "test " << t;
    ASSERT_TRUE(kem.decapsulate(bv(dk), in.subspan(96), k_rej));
    acc.update(ek);
    acc.update(bv(dk));
    acc.update(ct);
    acc.update(bv(k_enc));
    acc.update(bv(k_rej));
  }
  EXPECT_EQ(tohex(acc.finish(32)),
            "f959d18d3d1180121433bf0e05f11e7908cf9d03edc150b2b07cb90bef5bc1c1");
}

// C2SP CCTV ML-KEM/unluckysample/ML-KEM-768.txt: d was searched so that SampleNTT needs more than
// 575 bytes of SHAKE-128 output (probability about 2^-38), which exercises the path that extends
// the XOF beyond its first read.
constexpr std::string_view kUnluckyEk =
    "ad568015b87690ebbe1fb438ee8a22b9ac4379a12422e34037c231341c316bc0be74d49aaeb09d9039ad875a"
    "6b81f48b20b73c517533f85ba5ce46029319382e00012020297f475d906bc3b6ea08f3e10069d3095c87c1a6"
    "456c18b92ef25bcb5e59363bb1acaa0627c1ec3811251b9f7487d7b70fadea527e67ace1049ee74303c6220e"
    "d8807b1936b4d02b2b5c7b3795e13c40654a47d72784d3c09b4b7b3969a633001f37c7cabc51773b15868430"
    "45059337587983c5f88c5e62619f47ae784c292779a30c8a93eb40a9921c10b461128af7c29a92a348db86a3"
    "03b6031376cc6768a8e06caab48e33a073ae06cbd225972fb47c28d46a57471b133a3ad18a95a35b838a469b"
    "f4e820e78570c72946b9f3b44bc7778e4a05dd106b8e14b093a49239d22a9eecb664454126b75ae24c600b3c"
    "4d167699d841842fb956119209af596e20cca0e2a53980232ee2f3916e570fffa805f6241488106d57d39c92"
    "19afaeb5b7379c5347270c7dccc280e34dae801153285dc8421a95c7a2f4cc8389ac9316da0816dacc3bf71c"
    "5619802e0a691e4a323836428e6587330a52c2f76578035986e7c15d500a2ec36dc7f430fc03813453b1a666"
    "946571641e32b4cafbbae6ea1d7f47c43549c802d97cd839689517b80b619da8137296a5be4a9c3b32e63759"
    "84b1ca00557f960583582c5503a48f5309ca802b6967a9488314bb51909536187c2082ab200c8344c4fa2c26"
    "2915ac582796d3007db7566f64031a4cc48c975b593b424b04855a6af98065474560e7cb48ac043f25b65116"
    "981f17cfc11b0ccd62200d7a2d70f54994087d0056400e1525fa498386241dc10c95c372361330919f773765"
    "f730405c23a5c7a088b8a422251b0153c750e6c2b33aa1cc1c7288d536c405a6ae7b40626aac52488ad5522e"
    "3f5696ae26b7cb592d1c4690fc8602a4c833b1f57ba5bb255f3359924b98da49b757127686750f301b87058a"
    "3b66b9cd98d8c611cc472e243f8d2aa631ca98e8c162a9b87e406471698349d236119f78b98c61a83648880d"
    "7875f450975f49ca3dc29082d2a07b91ab834b6ddcc0c5495b6b5de24c735852b917bf749b0f1f3034f34647"
    "5355018989c4cef23745a352f6680104ab59c2643405a24f89a8232fe33ed667be9c282adef009b585bda08c"
    "64dc169c41344c6d570020b02cdbc26437c046719bbc02b39c8f9b01d020c242080bf221000594bab19668d9"
    "f7cfbfb50583b45e71c230a93a16a20a9c81a269544bafd00bba65e48ba99582587a360da68f68b2ba7f2432"
    "d8976c9a0990a4d34714064e1bd960e8f12c27dc1bd410a856f16b5eca293891152e724b58fc7940852cdd9c"
    "39231671bd278f38e18c886a4b0c714a432c9c354a304aec6c65fc85ebaaa143f181e2b10e40300ff7913346"
    "eb315c499b68343b5e70395755745f4775524cc223bc635582680f5cbea9269650393231a31b8a6b2364985c"
    "4d9b9275d417c7c327e6525a0370766a508f087c437ac105cbba4646a0bc3ab7a3a68307f100a7545b6c08d3"
    "8501e404833c19f4eb6ec73792a8c5253b67a398e79aa1cb3c2433a4bacba5f4fc135751987d071be157bbd9"
    "76a9cb029cc0e2b99a795daadc9cce56db4bfd02cf1893c6441a1b78f1bdd9b13626b9f21b7c6161";
constexpr std::string_view kUnluckyCt =
    "696ef1699d5ac2aa9a012a64c60c6c214dcedec75ff87fb3a5850044202a790bfdaa6fb517a8c714a6685b1e"
    "ea8ac01d28e2f1e7350e79b1371b2aab98723f40ac1adb809751118a53eb56f13cf9fadf698c7a2ae127746b"
    "b661f6772d8227777c22d388e2a0f635f97913191033d3c487a9d2822348be19710e5f47d2b740c044f39dda"
    "e838699f62a1056dbc43364046d36a972f7110c88e900ca37daec64039b0c96319cef8ea01d5974c5da29392"
    "222b838e7c3d19892aa70f3a232b64f94ae72ff2032941a70dd71e2e24c987fe4c2f5027fd435618288f50e8"
    "d248fbe009d93af8b0dea451414f2cbaceda51b3a7aabff1faed24293e0d5d57da89868630e1b09a6b27a034"
    "bd5da40d622e0b9507e64d81669a1074b5f67728a9fadb600bc57d55d9c3a0fe376fdefd32a30b1931315210"
    "bd8622ff0b2ad9bf6d00749942e07a90572d0468d5f5a95aa6c338b2e5e5175dd8f4bd118e8849be829e3fb0"
    "8628101a33b1295b1c7ee3e9158d4beaea203a22c1b97af6ad7fc004f0f9895a51da0c26a7b46734c418afe9"
    "8ddbaada3fffcd4642075bd23e044154cfe19a0b6a05e24e83c55057a50d24f956617534dfcf99f134bbc539"
    "b1e7c9c3d00f59de4351e9ecfbec3f66374ecea6ab72d0fd00e0f91461db0a74fc5ab63b30a2caf455fea339"
    "878ba665aeeee0b52d427a4e4ccad8526386951f5b1d61778a56dfa243d3f6186aa4f8fd953127599bc14da3"
    "e8e918aaa5b4182a9bde4b5bb1871a972ef526b9f4417373001842f2b3eae1fe0d4693220b843bf265c59a64"
    "7930946bdd72aa54a1af18daa3864327d91b80611c30bc1e16a89f71ddc51cf6fce4a179239d0f21a0bce88c"
    "86499ef9ca1219039be087664c365149b3683b94fcb06dc858dea2f5bb7edb32fdc09cd91c74bfe29608b48d"
    "0db29061099671f6cf8dfbba2b1db456eca1c8657de5e982f11da9c3173a633ba7ec0066a717bc6eadde242f"
    "3e03cddab1c42def35f9cc2d6fa2f4222bfa096d321dd504d6c8dd6e6d18937151330be89bf2a218752442f8"
    "a50df3075463476db1e0a5275fd7958f7b650a11a36db809cee7074bc763d035245c3c6da7fcc93425175e0c"
    "b3f7407000fb6c0b7a7450ada28c05c34f883af2cd0965826cec71435d87e8cd192137e3abae4050d68be1d9"
    "7fa3af08728daa4ba05aa7f61b8a7f52701d6c969b25fd2fd1a68a5b2098a348273337782ec52143e1f51e5a"
    "512e91f2469da136e8d8f96af7cc6fe21f929203bcd12de6826bba19cfe5a69bc2c3d3f503a14cab590591cd"
    "134b375feaae76c764c95dae6644551c6d5bce2665f9c1dd4c33694100d88fcc4e3282eb8c17669179561992"
    "73f0f80c67dc3e944a449ab2ed9d58554c62ee43bdc2d1408d784f08c0c71d6171176ca6c912626c45eb1fa1"
    "292774885a73bd614ae833797a1c84afee1a7e7c105eca8273b304cbc44acab0305aba4ef6ba671739d1f80d"
    "09c7640acea982655b3294ee0371019b134559be391c29d990f82f8a1dd4a715";

TEST(MlKem, CctvUnluckySample) {
  const Bytes d = unhex("82c4a361586b9715c2375a45fb85c32d04be7fe6e26acd820ec5d4080093afe1");
  const Bytes z = unhex("8476013560151d986dc7834dcb57c75f845f8d7ee71558d0955f3f4feb723cf2");
  const Bytes m = unhex("e48f74ad416e99631003ded1478aec62a02c245d88ed7f2fae92aedf13ca03b3");
  Bytes ek, ct;
  SecretBytes dk, k_enc, k_dec;
  mlkem768_keypair_derand(d, z, ek, dk);
  EXPECT_EQ(tohex(ek), kUnluckyEk);
  ASSERT_EQ(dk.size(), 2400u);
  // dk = dk_pke || ek || H(ek) || z; the file's dk starts and ends with these bytes.
  EXPECT_EQ(tohex(bv(dk).first(32)),
            "c50385c7c4b17639049f390088bac9d5549acc166b2db7ba00344527fc2d31c2");
  EXPECT_EQ(tohex(bv(dk).subspan(1152, 1184)), kUnluckyEk);
  EXPECT_EQ(tohex(bv(dk).subspan(2336, 32)),
            "451f9b6547b8f6e927fbfe7598658160206040fdb57dd39ba8bf1f3a5ff89b9c");
  EXPECT_EQ(tohex(bv(dk).subspan(2368, 32)), tohex(z));

  ASSERT_TRUE(mlkem768_encaps_derand(ek, m, ct, k_enc));
  EXPECT_EQ(tohex(ct), kUnluckyCt);
  EXPECT_EQ(tohex(bv(k_enc)), "4f7cc64c040fc4e335a539691f4638caf8b1bf5da6455754afe699e41813801b");
  ASSERT_TRUE(mlkem768().decapsulate(bv(dk), ct, k_dec));
  EXPECT_EQ(k_dec, k_enc);
}

TEST(MlKem, DerandIsDeterministic) {
  const Bytes d(32, 0x11), z(32, 0x22), m(32, 0x33);
  Bytes ek1, ek2, ct1, ct2;
  SecretBytes dk1, dk2, k1, k2;
  mlkem768_keypair_derand(d, z, ek1, dk1);
  mlkem768_keypair_derand(d, z, ek2, dk2);
  EXPECT_EQ(ek1, ek2);
  EXPECT_EQ(dk1, dk2);
  ASSERT_TRUE(mlkem768_encaps_derand(ek1, m, ct1, k1));
  ASSERT_TRUE(mlkem768_encaps_derand(ek1, m, ct2, k2));
  EXPECT_EQ(ct1, ct2);
  EXPECT_EQ(k1, k2);
  EXPECT_FALSE(mlkem768_encaps_derand(ek1, ByteView(m).first(31), ct1, k1));
}

// Flipping bits anywhere in the ciphertext (u, v, first and last bytes) must give J(z || c') for
// the tampered c', computed here independently, and never the real secret.
TEST(MlKem, ImplicitRejectionOnTamperedCiphertext) {
  const Kem& kem = mlkem768();
  Bytes ek, ct;
  SecretBytes dk, k_enc, k_dec;
  kem.keypair(ek, dk);
  ASSERT_TRUE(kem.encapsulate(ek, ct, k_enc));
  ASSERT_TRUE(kem.decapsulate(bv(dk), ct, k_dec));
  ASSERT_EQ(k_dec, k_enc);
  ASSERT_EQ(bv(k_dec).size(), 32u);
  EXPECT_NE(Bytes(k_enc.begin(), k_enc.end()), rejection_secret(bv(dk), ct));

  const size_t positions[] = {0, 1, 100, 319, 320, 639, 959, 960, 1000, 1087};
  const uint8_t flips[] = {0x01, 0x80, 0xff};
  for (size_t pos : positions) {
    for (uint8_t flip : flips) {
      Bytes bad = ct;
      bad[pos] ^= flip;
      SecretBytes k_bad;
      ASSERT_TRUE(kem.decapsulate(bv(dk), bad, k_bad)) << pos;
      EXPECT_NE(k_bad, k_enc) << "byte " << pos << " ^ " << int(flip);
      EXPECT_EQ(Bytes(k_bad.begin(), k_bad.end()), rejection_secret(bv(dk), bad))
          << "byte " << pos << " ^ " << int(flip);
    }
  }
  // A ciphertext of all zeros or all ones is just as well-formed (every encoding is valid).
  for (uint8_t fill : {uint8_t{0x00}, uint8_t{0xff}}) {
    const Bytes junk(kMlKem768CiphertextLen, fill);
    SecretBytes k_junk;
    ASSERT_TRUE(kem.decapsulate(bv(dk), junk, k_junk));
    EXPECT_EQ(Bytes(k_junk.begin(), k_junk.end()), rejection_secret(bv(dk), junk));
  }
}

TEST(MlKem, WrongLengthsAreRefused) {
  const Kem& kem = mlkem768();
  Bytes ek, ct;
  SecretBytes dk, ss;
  kem.keypair(ek, dk);
  ASSERT_EQ(ek.size(), 1184u);
  ASSERT_EQ(dk.size(), 2400u);
  EXPECT_FALSE(kem.encapsulate(ByteView(ek).first(1183), ct, ss));
  Bytes longer = ek;
  longer.push_back(0);
  EXPECT_FALSE(kem.encapsulate(longer, ct, ss));
  EXPECT_FALSE(kem.encapsulate({}, ct, ss));
  ASSERT_TRUE(kem.encapsulate(ek, ct, ss));
  EXPECT_FALSE(kem.decapsulate(bv(dk), ByteView(ct).first(1087), ss));
  Bytes ct_long = ct;
  ct_long.push_back(0);
  EXPECT_FALSE(kem.decapsulate(bv(dk), ct_long, ss));
  EXPECT_FALSE(kem.decapsulate(bv(dk).first(2399), ct, ss));
  // The hash check of FIPS 203 section 7.3: dk's H(ek) must match its ek.
  SecretBytes bad_dk = dk;
  bad_dk[2336] ^= 1;
  EXPECT_FALSE(kem.decapsulate(bv(bad_dk), ct, ss));
}

// Sets the 12-bit coefficient `index` (0..767) of ByteEncode12(t) in `ek` to `value`.
void set_coefficient(Bytes& ek, size_t index, unsigned value) {
  const size_t at = 3 * (index / 2);
  if (index % 2 == 0) {
    ek[at] = static_cast<uint8_t>(value);
    ek[at + 1] = static_cast<uint8_t>((ek[at + 1] & 0xf0) | (value >> 8));
  } else {
    ek[at + 1] = static_cast<uint8_t>((ek[at + 1] & 0x0f) | ((value & 0x0f) << 4));
    ek[at + 2] = static_cast<uint8_t>(value >> 4);
  }
}

// The modulus check (FIPS 203 section 7.2): a coefficient of t encoded as q..4095 at any position
// makes the key invalid; q - 1 is still valid. (The same construction as C2SP CCTV's modulus/
// vectors, which test every value from q to 4095 at every position.)
TEST(MlKem, MalformedPublicKeysAreRejected) {
  const Kem& kem = mlkem768();
  Bytes ek, ct;
  SecretBytes dk, ss;
  kem.keypair(ek, dk);
  ASSERT_TRUE(kem.encapsulate(ek, ct, ss));
  for (size_t index = 0; index < 768; ++index) {
    for (unsigned value : {3329u, 3330u, 4095u}) {
      Bytes bad = ek;
      set_coefficient(bad, index, value);
      ASSERT_FALSE(kem.encapsulate(bad, ct, ss)) << index << " = " << value;
      ASSERT_FALSE(mlkem768_encaps_derand(bad, Bytes(32, 7), ct, ss)) << index;
    }
  }
  for (size_t index : {size_t{0}, size_t{1}, size_t{400}, size_t{767}}) {
    Bytes edge = ek;
    set_coefficient(edge, index, 3328);
    EXPECT_TRUE(kem.encapsulate(edge, ct, ss)) << index;
    set_coefficient(edge, index, 0);
    EXPECT_TRUE(kem.encapsulate(edge, ct, ss)) << index;
  }
  // rho (the last 32 bytes) is a seed, not coefficients: any value is valid.
  Bytes rho_ff = ek;
  std::fill(rho_ff.end() - 32, rho_ff.end(), 0xff);
  EXPECT_TRUE(kem.encapsulate(rho_ff, ct, ss));
}

// A ctgrind-style constant-time check: the secrets are marked undefined for valgrind's memcheck,
// which then reports any branch or memory index that depends on them. Natively the marks do
// nothing; run it as
//   valgrind bin/hashi_tests --gtest_filter=MlKem.ConstantTimeUnderValgrind
// and expect no report whose stack passes through mlkem768.cpp (or OpenSSL's Keccak).
// Encapsulation's m and decapsulation's dk_pke and z are secret; ek, ct and the hash of ek inside
// dk are public. (Key generation is not covered: rho comes from the secret d but is published, and
// SampleNTT on it branches by design.)
TEST(MlKem, ConstantTimeUnderValgrind) {
  const Kem& kem = mlkem768();
  Bytes ek, ct;
  SecretBytes dk, k_enc, k_dec, k_rej;
  kem.keypair(ek, dk);
  uint8_t m[32] = {1, 2, 3};
  HASHI_SECRET(m, sizeof(m));
  ASSERT_TRUE(mlkem768_encaps_derand(ek, ByteView(m, 32), ct, k_enc));
  HASHI_PUBLIC(ct.data(), ct.size());
  HASHI_SECRET(dk.data(), 1152);
  HASHI_SECRET(dk.data() + 2368, 32);
  ASSERT_TRUE(kem.decapsulate(bv(dk), ct, k_dec));
  Bytes bad = ct;
  bad[7] ^= 0x10;
  ASSERT_TRUE(kem.decapsulate(bv(dk), bad, k_rej));
  HASHI_PUBLIC(dk.data(), dk.size());
  HASHI_PUBLIC(k_enc.data(), k_enc.size());
  HASHI_PUBLIC(k_dec.data(), k_dec.size());
  HASHI_PUBLIC(k_rej.data(), k_rej.size());
  EXPECT_EQ(k_dec, k_enc);
  EXPECT_EQ(Bytes(k_rej.begin(), k_rej.end()), rejection_secret(bv(dk), bad));
}

// 10 000 random key pairs and encapsulations: decapsulation always agrees (issue 10). A "Slow"
// suite: minutes under ASan, so it runs in the optimised build (label "slow").
TEST(MlKemSlow, RandomRoundTrips10000) {
  const Kem& kem = mlkem768();
  const auto start = std::chrono::steady_clock::now();
  Bytes ek, ct;
  SecretBytes dk, k_enc, k_dec;
  for (int i = 0; i < 10000; ++i) {
    kem.keypair(ek, dk);
    ASSERT_TRUE(kem.encapsulate(ek, ct, k_enc));
    ASSERT_TRUE(kem.decapsulate(bv(dk), ct, k_dec));
    ASSERT_EQ(k_dec, k_enc) << "round " << i;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[          ] 10000 ML-KEM-768 keypair+encaps+decaps in %.2f s\n", secs);
}

}  // namespace
}  // namespace hashi::crypto
