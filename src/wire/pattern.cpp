#include "wire/pattern.h"

#include <arpa/inet.h>

#include <string>

namespace hashi {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool same(char a, char b, PatternCase how) {
  return how == PatternCase::kSensitive ? a == b : lower(a) == lower(b);
}

// Calls f(item, negated) for each comma-separated item; stops at the first f returning true.
template <typename F>
void for_each_item(std::string_view list, F f) {
  while (true) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    bool negated = !item.empty() && item[0] == '!';
    if (negated) {
      item.remove_prefix(1);
    }
    if (f(item, negated) || comma == std::string_view::npos) {
      return;
    }
    list.remove_prefix(comma + 1);
  }
}

bool parse_ip(std::string_view text, unsigned char out[16], int& family) {
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), out) == 1) {
    family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out) == 1) {
    family = AF_INET6;
    return true;
  }
  return false;
}

// A prefix length of 1-3 decimal digits, at most 128.
bool parse_bits(std::string_view text, unsigned& bits) {
  if (text.empty() || text.size() > 3) {
    return false;
  }
  bits = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    bits = bits * 10 + unsigned(c - '0');
  }
  return bits <= 128;
}

// One address pattern: "net/len" (CIDR, both sides of the same family) or a wildcard pattern.
bool address_matches(std::string_view address, std::string_view pattern) {
  size_t slash = pattern.find('/');
  if (slash == std::string_view::npos) {
    return match_pattern(address, pattern);
  }
  unsigned char net[16] = {}, addr[16] = {};
  int net_family = 0, addr_family = 0;
  unsigned bits = 0;
  if (!parse_bits(pattern.substr(slash + 1), bits) ||
      !parse_ip(pattern.substr(0, slash), net, net_family) ||
      !parse_ip(address, addr, addr_family) || net_family != addr_family ||
      (net_family == AF_INET && bits > 32)) {
    return false;
  }
  for (unsigned i = 0; i < bits; ++i) {
    unsigned char mask = static_cast<unsigned char>(0x80 >> (i % 8));
    if ((net[i / 8] & mask) != (addr[i / 8] & mask)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool match_pattern(std::string_view s, std::string_view pattern, PatternCase how) {
  size_t si = 0, pi = 0;
  size_t star_pi = std::string_view::npos, star_si = 0;
  while (si < s.size()) {
    if (pi < pattern.size() && pattern[pi] == '*') {
      star_pi = pi++;
      star_si = si;
    } else if (pi < pattern.size() && (pattern[pi] == '?' || same(pattern[pi], s[si], how))) {
      ++si;
      ++pi;
    } else if (star_pi != std::string_view::npos) {
      pi = star_pi + 1;
      si = ++star_si;
    } else {
      return false;
    }
  }
  while (pi < pattern.size() && pattern[pi] == '*') {
    ++pi;
  }
  return pi == pattern.size();
}

int match_pattern_list(std::string_view s, std::string_view pattern_list, bool lowercase) {
  const PatternCase how = lowercase ? PatternCase::kInsensitive : PatternCase::kSensitive;
  int result = 0;
  for_each_item(pattern_list, [&](std::string_view item, bool negated) {
    if (!match_pattern(s, item, how)) {
      return false;
    }
    result = negated ? -1 : 1;
    return negated;  // a negated match decides; a positive one may still be overridden
  });
  return result;
}

int match_address_list(std::string_view address, std::string_view list) {
  int result = 0;
  for_each_item(list, [&](std::string_view item, bool negated) {
    if (!address_matches(address, item)) {
      return false;
    }
    result = negated ? -1 : 1;
    return negated;
  });
  return result;
}

}  // namespace hashi
