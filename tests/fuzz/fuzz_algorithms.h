// The transport configuration every whole-connection fuzz target offers: every algorithm hashi
// implements, plus the "none" cipher and MAC last (a peer asking for them first gets an
// unencrypted session, so the fuzzer can go past NEWKEYS), and a short time-based re-key.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "config/algorithms.h"
#include "transport/transport.h"

namespace hashi::fuzz {

inline std::vector<std::string> with_none(std::vector<std::string> list) {
  list.emplace_back("none");
  return list;
}

inline transport::TransportConfig all_algorithms(transport::Role role) {
  using config::AlgorithmKind;
  using config::supported_algorithms;
  transport::TransportConfig c;
  c.role = role;
  c.kex_algorithms = supported_algorithms(AlgorithmKind::kKex);
  c.host_key_algorithms = supported_algorithms(AlgorithmKind::kHostKey);
  c.ciphers = with_none(supported_algorithms(AlgorithmKind::kCipher));
  c.macs = with_none(supported_algorithms(AlgorithmKind::kMac));
  c.rekey_interval = std::chrono::seconds(2);
  return c;
}

}  // namespace hashi::fuzz
