// Fuzz target for the KEMs behind crypto::Kem (ML-KEM-768 and sntrup761), fed hostile
// ciphertexts, public keys and secret keys.
//
// Input: byte 0 selects the KEM (bit 0: 0 = mlkem768, 1 = sntrup761) and the operation
// (bits 1-2); the rest is the operation's data:
//   0: decapsulate `rest` as a ciphertext with a fixed key pair (made deterministically, so seeds
//      can hold valid ciphertexts for it): a right-length ciphertext must give true and a 32-byte
//      secret (implicit rejection for a malformed one), any other length false.
//   1: encapsulate to `rest` as a public key: any length but the KEM's must be refused; success
//      must give a right-length ciphertext and a 32-byte secret.
//   2: decapsulate with `rest` = secret key || ciphertext (both arbitrary; the split is at the
//      KEM's secret-key length): right lengths must give true and 32 bytes, never a crash.
//   3: encapsulate to the fixed public key, XOR `rest` into the ciphertext (cyclically), then
//      decapsulate: always 32 bytes; when nothing changed, the secret encapsulated.
// Must never crash (ASan/UBSan catch out-of-bounds reads and writes in the arithmetic).
//
// Define HASHI_FUZZ_GENERATE_SEEDS to build a small program that writes seeds (argv[1]): valid
// ciphertexts for the fixed key pairs, the fixed public keys, a valid secret key || ciphertext,
// and an empty XOR mask, for both KEMs.
#include <cstddef>
#include <cstdint>
#include <cstring>

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

// A fixed, deterministic byte stream (splitmix64): the fuzzer's key pairs must be the same in
// every run so that the seeds' ciphertexts stay valid for them.
struct Stream {
  uint64_t x;
  void fill(MutableByteView out) {
    for (auto& b : out) {
      x += 0x9E3779B97F4A7C15ull;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      b = static_cast<uint8_t>(z ^ (z >> 31));
    }
  }
};

struct Fixed {
  const crypto::Kem* kem;
  Bytes pk;
  SecretBytes sk;
};

const Fixed& fixed(bool ntru) {
  static const Fixed mlkem = [] {
    Fixed f{&crypto::mlkem768(), {}, {}};
    Stream s{1};
    uint8_t d[32], z[32];
    s.fill(d);
    s.fill(z);
    crypto::mlkem768_keypair_derand(ByteView(d, 32), ByteView(z, 32), f.pk, f.sk);
    return f;
  }();
  static const Fixed sntrup = [] {
    Fixed f{&crypto::sntrup761(), {}, {}};
    Stream s{2};
    crypto::sntrup761_keypair_with([&s](MutableByteView out) { s.fill(out); }, f.pk, f.sk);
    return f;
  }();
  return ntru ? sntrup : mlkem;
}

void check_secret(bool ok, const SecretBytes& ss, size_t want) {
  if (!ok || ss.size() != want) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool ntru = (data[0] & 1) != 0;
  const int op = (data[0] >> 1) & 3;
  const ByteView rest(data + 1, size - 1);
  const Fixed& f = fixed(ntru);
  const crypto::Kem& kem = *f.kem;
  const crypto::KemInfo& info = kem.info();
  if (info.shared_secret_len != 32) __builtin_trap();

  switch (op) {
    case 0: {
      SecretBytes ss;
      const bool ok = kem.decapsulate(view(f.sk), rest, ss);
      if (rest.size() == info.ciphertext_len) {
        check_secret(ok, ss, 32);
      } else if (ok) {
        __builtin_trap();
      }
      break;
    }
    case 1: {
      Bytes ct;
      SecretBytes ss;
      const bool ok = kem.encapsulate(rest, ct, ss);
      if (rest.size() != info.public_key_len && ok) __builtin_trap();
      if (ok) {
        if (ct.size() != info.ciphertext_len) __builtin_trap();
        check_secret(true, ss, 32);
        // our own public key must round-trip
        if (rest.size() == f.pk.size() && std::memcmp(rest.data(), f.pk.data(), f.pk.size()) == 0) {
          SecretBytes back;
          if (!kem.decapsulate(view(f.sk), ct, back) || back != ss) __builtin_trap();
        }
      } else if (rest.size() == f.pk.size() &&
                 std::memcmp(rest.data(), f.pk.data(), f.pk.size()) == 0) {
        __builtin_trap();  // a valid public key refused
      }
      break;
    }
    case 2: {
      const ByteView sk = rest.first(rest.size() < info.secret_key_len ? rest.size() : info.secret_key_len);
      const ByteView ct = rest.subspan(sk.size());
      SecretBytes ss;
      const bool ok = kem.decapsulate(sk, ct, ss);
      if (sk.size() == info.secret_key_len && ct.size() == info.ciphertext_len) {
        check_secret(ok, ss, 32);
      } else if (ok) {
        __builtin_trap();
      }
      break;
    }
    case 3: {
      Bytes ct;
      SecretBytes ss, back;
      if (!kem.encapsulate(f.pk, ct, ss)) __builtin_trap();
      const Bytes original = ct;
      for (size_t i = 0; i < rest.size(); ++i) {
        ct[i % ct.size()] ^= rest[i];
      }
      const bool changed = ct != original;
      check_secret(kem.decapsulate(view(f.sk), ct, back), back, 32);
      if (!changed && back != ss) __builtin_trap();
      break;
    }
  }
  return 0;
}

#ifdef HASHI_FUZZ_GENERATE_SEEDS
#include <cstdio>
#include <string>
namespace {
bool write(const std::string& path, uint8_t selector, ByteView a, ByteView b = {}) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  bool ok = std::fwrite(&selector, 1, 1, f) == 1;
  ok = ok && std::fwrite(a.data(), 1, a.size(), f) == a.size();
  ok = ok && std::fwrite(b.data(), 1, b.size(), f) == b.size();
  return std::fclose(f) == 0 && ok;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  for (int k = 0; k < 2; ++k) {
    const Fixed& f = fixed(k == 1);
    const std::string name(f.kem->info().name);
    Bytes ct;
    SecretBytes ss;
    if (!f.kem->encapsulate(f.pk, ct, ss)) return 1;
    Bytes short_ct(ct.begin(), ct.end() - 1);
    const auto kb = static_cast<uint8_t>(k);
    if (!write(dir + "/decaps_valid_" + name, kb | 0, ct) ||
        !write(dir + "/decaps_short_" + name, kb | 0, short_ct) ||
        !write(dir + "/encaps_pk_" + name, kb | 2, f.pk) ||
        !write(dir + "/decaps_sk_ct_" + name, kb | 4, view(f.sk), ct) ||
        !write(dir + "/roundtrip_" + name, kb | 6, {})) {
      return 1;
    }
  }
  return 0;
}
#endif
