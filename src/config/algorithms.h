// The algorithm names hashi implements, the default preference lists, and OpenSSH's algorithm
// list syntax (ssh_config(5) KexAlgorithms/Ciphers/MACs/HostKeyAlgorithms; kex.c
// kex_assemble_names), plus the RekeyLimit value form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hashi::config {

enum class AlgorithmKind { kKex, kCipher, kMac, kHostKey };

// supported_algorithms returns every name hashi implements for `kind`, in default preference
// order (also what a `-Q`-style listing shows).
const std::vector<std::string>& supported_algorithms(AlgorithmKind kind);

// default_algorithms returns the default preference list for `kind` (client and server share it).
const std::vector<std::string>& default_algorithms(AlgorithmKind kind);

// apply_algorithm_spec applies an OpenSSH-style spec to the default list for `kind`:
//   "a,b"   replaces the default list;
//   "+a,b"  appends to the default list;
//   "-a,b*" removes matching names from the default list (patterns with '*' and '?' and '!'
//           negation, as OpenSSH's match_filter_denylist);
//   "^a,b"  puts the names first, the rest of the default list after them.
// Names outside "-" must be supported exactly. Returns the resulting list, without duplicates, in
// order. On failure returns nullopt and sets `error`: "Unsupported algorithm 'x'" naming the bad
// name, "empty algorithm list", or "no algorithms left" when "-" removed everything.
std::optional<std::vector<std::string>> apply_algorithm_spec(AlgorithmKind kind,
                                                             std::string_view spec,
                                                             std::string& error);

// join_names joins names with commas (the wire and config form of a name-list).
std::string join_names(const std::vector<std::string>& names);

// Human name of a kind for messages ("KexAlgorithms", "Ciphers", "MACs", "HostKeyAlgorithms").
std::string_view algorithm_keyword(AlgorithmKind kind);

// parse_rekey_limit parses the RekeyLimit arguments: "<bytes> [<time>]" where bytes is a number
// with an optional K/M/G/T suffix (powers of 1024) or "default" (0: the cipher's own limit), and
// time is an interval ("1h", "30m", s/m/h/d/w suffixes) or "none"/"default" (0: no time limit).
// The two may be separated by spaces. Returns {bytes, seconds}; nullopt on bad syntax, on a byte
// count below 16 (OpenSSH's minimum), or on overflow.
std::optional<std::pair<uint64_t, uint64_t>> parse_rekey_limit(std::string_view value);

}  // namespace hashi::config
