// One algorithm registry: config/algorithms.cpp names what hashi negotiates (and in which order
// by default); the transport's tables implement them. The two must name exactly the same
// algorithms, so a name cannot be offered without an implementation or implemented and never
// offered.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "config/algorithms.h"
#include "keys/key.h"
#include "transport/kex.h"
#include "transport/packet_cipher.h"

namespace hashi {
namespace {

using config::AlgorithmKind;

std::set<std::string> registry(AlgorithmKind kind) {
  const auto& names = config::supported_algorithms(kind);
  return {names.begin(), names.end()};
}

std::set<std::string> implemented(const std::vector<std::string_view>& names) {
  std::set<std::string> out;
  for (auto n : names) {
    if (n != "none") {  // never negotiated
      out.emplace(n);
    }
  }
  return out;
}

TEST(AlgorithmRegistry, KexNamesAreExactlyTheImplementedMethods) {
  EXPECT_EQ(registry(AlgorithmKind::kKex), implemented(transport::kex_method_names()));
}

TEST(AlgorithmRegistry, CipherNamesAreExactlyTheImplementedCiphers) {
  EXPECT_EQ(registry(AlgorithmKind::kCipher), implemented(transport::cipher_names()));
}

TEST(AlgorithmRegistry, MacNamesAreExactlyTheImplementedMacs) {
  EXPECT_EQ(registry(AlgorithmKind::kMac), implemented(transport::mac_names()));
}

TEST(AlgorithmRegistry, EveryHostKeyAlgorithmHasAKeyType) {
  for (const auto& name : config::supported_algorithms(AlgorithmKind::kHostKey)) {
    EXPECT_TRUE(keys::key_type_for_algorithm(name).has_value()) << name;
  }
}

}  // namespace
}  // namespace hashi
