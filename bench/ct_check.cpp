// Constant-time check of the KEMs (ctgrind style): secret inputs are marked undefined with
// valgrind's memcheck client requests, so any branch or memory index that depends on them is
// reported by valgrind as a use of an uninitialised value. Run under
//   valgrind --error-exitcode=1 --track-origins=yes build/bench/ct_check CHECK
// (scripts/ct-check.sh does); without valgrind the requests do nothing and it only round-trips.
//
// CHECK is one of:
//   mlkem768-decaps, sntrup761-decaps: a key pair, an encapsulation, then the secret key (its
//     secret parts, see mark_secret_key; nothing else) marked undefined while a valid and a tampered ciphertext are decapsulated
//     (the tampered one exercises implicit rejection); the outputs are marked defined again
//     before they are compared with the encapsulated secret.
//   mlkem768-encaps, sntrup761-encaps: encapsulation to a valid public key with its random input
//     (ML-KEM's m, sntrup761's Short_random bytes) marked undefined.
//   selftest-leak: a deliberate branch and table index on a secret byte, which valgrind must
//     report (so the script can show that the check catches leaks at all).
// Key generation is not checked: sntrup761's rejects candidates (a legitimate, public-outcome
// branch), and ML-KEM's expands the public rho from the secret seed.
#include <valgrind/memcheck.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <openssl/rand.h>

#include "crypto/kem.h"
#include "crypto/mlkem768.h"
#include "crypto/sntrup761.h"

namespace {

using hashi::Bytes;
using hashi::ByteView;
using hashi::MutableByteView;
using hashi::SecretBytes;
using hashi::view;
namespace crypto = hashi::crypto;

template <typename C>
void declassify(C& c) {
  VALGRIND_MAKE_MEM_DEFINED(c.data(), c.size());
}

// The secret parts of a secret key. ML-KEM's dk (FIPS 203 algorithm 16) is
// dk_pke (1152) || ek (1184) || H(ek) (32) || z (32): ek and H(ek) are the public key and its
// hash, which decapsulation legitimately checks (section 7.3) and expands (rho -> A) with
// public-outcome rejection sampling, so only dk_pke and z are secret. sntrup761's secret key
// is marked whole (its embedded public key is only hashed).
void mark_secret_key(const crypto::Kem& kem, SecretBytes& sk, bool undefined) {
  auto mark = [undefined](uint8_t* p, size_t n) {
    if (undefined) {
      VALGRIND_MAKE_MEM_UNDEFINED(p, n);
    } else {
      VALGRIND_MAKE_MEM_DEFINED(p, n);
    }
  };
  if (kem.info().name == "mlkem768") {
    if (sk.size() != 2400) std::abort();
    mark(sk.data(), 1152);           // dk_pke: the secret vector s, NTT domain
    mark(sk.data() + 2400 - 32, 32);  // z: the implicit-rejection seed
  } else {
    mark(sk.data(), sk.size());
  }
}

int check_decaps(const crypto::Kem& kem) {
  const std::string name(kem.info().name);
  Bytes pk, ct;
  SecretBytes sk, ss, got;
  kem.keypair(pk, sk);
  if (!kem.encapsulate(pk, ct, ss)) {
    std::fprintf(stderr, "%s: encapsulation failed\n", name.c_str());
    return 2;
  }
  Bytes tampered = ct;
  tampered[tampered.size() / 2] ^= 0x01;

  // valid ciphertext: the secret key is the only secret input
  mark_secret_key(kem, sk, true);
  const bool ok = kem.decapsulate(view(sk), ct, got);
  declassify(got);
  if (!ok || got != ss) {
    std::fprintf(stderr, "%s: decapsulation of a valid ciphertext gave another secret\n", name.c_str());
    return 2;
  }
  // tampered ciphertext: implicit rejection must be just as quiet
  SecretBytes rejected;
  const bool ok2 = kem.decapsulate(view(sk), tampered, rejected);
  declassify(rejected);
  mark_secret_key(kem, sk, false);
  if (!ok2 || rejected.size() != 32 || rejected == ss) {
    std::fprintf(stderr, "%s: decapsulation of a tampered ciphertext was not rejected\n", name.c_str());
    return 2;
  }
  return 0;
}

int check_encaps(bool ntru) {
  const crypto::Kem& kem = ntru ? crypto::sntrup761() : crypto::mlkem768();
  const std::string name(kem.info().name);
  Bytes pk, ct;
  SecretBytes sk, ss, back;
  kem.keypair(pk, sk);
  bool ok;
  if (ntru) {
    ok = crypto::sntrup761_encapsulate_with(
        [](MutableByteView out) {
          if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
          VALGRIND_MAKE_MEM_UNDEFINED(out.data(), out.size());
        },
        pk, ct, ss);
  } else {
    unsigned char m[32];
    if (RAND_bytes(m, sizeof(m)) != 1) std::abort();
    VALGRIND_MAKE_MEM_UNDEFINED(m, sizeof(m));
    ok = crypto::mlkem768_encaps_derand(pk, ByteView(m, sizeof(m)), ct, ss);
    VALGRIND_MAKE_MEM_DEFINED(m, sizeof(m));
  }
  // the ciphertext is public, the secret is compared below
  declassify(ct);
  declassify(ss);
  if (!ok || !kem.decapsulate(view(sk), ct, back) || back != ss) {
    std::fprintf(stderr, "%s: encapsulation did not round-trip\n", name.c_str());
    return 2;
  }
  return 0;
}

// A leak valgrind must see: a branch on a secret byte and a table lookup indexed by it.
volatile int sink;
int selftest_leak() {
  static const unsigned char table[256] = {1};
  unsigned char s[1];
  if (RAND_bytes(s, 1) != 1) std::abort();
  VALGRIND_MAKE_MEM_UNDEFINED(s, 1);
  if (s[0] & 1) sink = 1;
  sink = table[s[0]];
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view check = argc == 2 ? argv[1] : "";
  if (check == "mlkem768-decaps") return check_decaps(crypto::mlkem768());
  if (check == "sntrup761-decaps") return check_decaps(crypto::sntrup761());
  if (check == "mlkem768-encaps") return check_encaps(false);
  if (check == "sntrup761-encaps") return check_encaps(true);
  if (check == "selftest-leak") return selftest_leak();
  std::fprintf(stderr,
               "usage: %s mlkem768-decaps|sntrup761-decaps|mlkem768-encaps|sntrup761-encaps|"
               "selftest-leak\n(run under valgrind: scripts/ct-check.sh)\n",
               argv[0]);
  return 2;
}
