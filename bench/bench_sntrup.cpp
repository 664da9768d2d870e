// sntrup761 benchmark: key pairs, encapsulations and decapsulations per second through the Kem
// interface (RAND_bytes randomness), each timed for about a second.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "crypto/sntrup761.h"

namespace {

using Clock = std::chrono::steady_clock;

template <typename F>
double per_second(const char* label, F&& op) {
  int n = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    op();
    ++n;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < 1.0);
  const double rate = n / elapsed;
  std::printf("sntrup761 %-7s %9.1f/s  (%8.1f us each, %d runs)\n", label, rate, 1e6 / rate, n);
  return rate;
}

}  // namespace

int main() {
  using namespace hashi;
  const crypto::Kem& kem = crypto::sntrup761();
  Bytes pk;
  SecretBytes sk;
  per_second("keypair", [&] { kem.keypair(pk, sk); });

  Bytes ct;
  SecretBytes ss;
  per_second("enc", [&] {
    if (!kem.encapsulate(pk, ct, ss)) {
      std::abort();
    }
  });

  SecretBytes ss2;
  per_second("dec", [&] {
    if (!kem.decapsulate(view(sk), ct, ss2)) {
      std::abort();
    }
  });
  return ss == ss2 ? 0 : 1;
}
