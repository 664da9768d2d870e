// ML-KEM-768 benchmark: key pairs, encapsulations and decapsulations per second through the Kem
// interface (crypto/kem.h), single-threaded. Usage: bench_kem [seconds per operation, default 1].
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "crypto/kem.h"

namespace {

using hashi::Bytes;
using hashi::SecretBytes;
using Clock = std::chrono::steady_clock;

// Runs `op` in batches until `seconds` have passed; returns operations per second.
double rate(double seconds, const std::function<void()>& op) {
  long count = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 64; ++i) {
      op();
    }
    count += 64;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(count) / elapsed;
}

void bench(const hashi::crypto::Kem& kem, double seconds) {
  Bytes pk, ct;
  SecretBytes sk, ss_enc, ss_dec;
  kem.keypair(pk, sk);
  if (!kem.encapsulate(pk, ct, ss_enc) || !kem.decapsulate(hashi::view(sk), ct, ss_dec) ||
      ss_enc != ss_dec) {
    std::fprintf(stderr, "%s: round trip failed\n", std::string(kem.info().name).c_str());
    std::exit(1);
  }
  Bytes pk2;
  SecretBytes sk2;
  const double keypair = rate(seconds, [&] { kem.keypair(pk2, sk2); });
  const double encaps = rate(seconds, [&] { (void)kem.encapsulate(pk, ct, ss_enc); });
  const double decaps = rate(seconds, [&] { (void)kem.decapsulate(hashi::view(sk), ct, ss_dec); });
  std::printf(
      "%-10s keypair %9.0f/s (%6.1f us)  encaps %9.0f/s (%6.1f us)  decaps %9.0f/s (%6.1f us)\n",
      std::string(kem.info().name).c_str(), keypair, 1e6 / keypair, encaps, 1e6 / encaps, decaps,
      1e6 / decaps);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  bench(hashi::crypto::mlkem768(), seconds > 0 ? seconds : 1.0);
  return 0;
}
