// OpenSSH's pattern matching (match.c), in one place for every caller: sshd_config and
// ssh_config (Host, Match, AllowUsers, ...), known_hosts host fields, authorized_keys from=.
// Patterns are shell-style: `*` any run, `?` one character. Matching is iterative with one
// backtrack point, O(len(s) * len(pattern)) at worst — OpenSSH's recursive version is
// exponential on patterns such as "*a*a*a*b", which come from untrusted files here.
#pragma once

#include <string_view>

namespace hashi {

enum class PatternCase { kSensitive, kInsensitive };

// match_pattern reports whether `s` matches `pattern`. kInsensitive compares ASCII letters
// without case (known_hosts host names, as OpenSSH lowercases them).
bool match_pattern(std::string_view s, std::string_view pattern,
                   PatternCase how = PatternCase::kSensitive);

// match_pattern_list matches `s` against a comma-separated list of patterns, each optionally
// negated with a leading '!'. Returns 1 on a positive match, -1 if a negated pattern matched
// (which overrides everything), 0 on no match. With `lowercase`, `s` and the patterns are
// compared lower-cased (host names), as OpenSSH's match_hostname.
int match_pattern_list(std::string_view s, std::string_view pattern_list, bool lowercase);

// match_address_list matches an IP address against a comma-separated list of address patterns
// (wildcards or CIDR blocks such as 10.0.0.0/8 and 2001:db8::/32), each optionally negated with
// '!', as OpenSSH's addr_match_list: 1 positive match, -1 a negated pattern matched, 0 none.
// A malformed CIDR block matches nothing.
int match_address_list(std::string_view address, std::string_view list);

}  // namespace hashi
