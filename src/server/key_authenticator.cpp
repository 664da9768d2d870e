#include "server/key_authenticator.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#include <fstream>
#include <sstream>

#include "keys/authorized_keys.h"
#include "keys/known_hosts.h"
#include "server/log.h"
#include "server/users.h"

namespace hashi::server {

std::string expand_authorized_keys_path(const std::string& pattern, const std::string& home,
                                        const std::string& user, unsigned uid) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      out += pattern[i];
      continue;
    }
    char t = pattern[++i];
    if (t == '%') out += '%';
    else if (t == 'h') out += home;
    else if (t == 'u') out += user;
    else if (t == 'U') out += std::to_string(uid);
    else out += std::string("%") + t;
  }
  if (out.empty() || out[0] != '/') out = home + "/" + out;
  return out;
}

namespace {

// addr_in_cidr: `address` lies in "net/bits" (both IPv4 or both IPv6).
bool addr_in_cidr(const std::string& address, std::string_view cidr) {
  auto slash = cidr.find('/');
  std::string net(cidr.substr(0, slash));
  std::string bits_text(cidr.substr(slash + 1));
  if (bits_text.empty() || bits_text.size() > 3 ||
      bits_text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  int bits = std::stoi(bits_text);
  unsigned char a[16], n[16];
  size_t len = 0;
  if (inet_pton(AF_INET, address.c_str(), a) == 1 && inet_pton(AF_INET, net.c_str(), n) == 1) {
    len = 4;
  } else if (inet_pton(AF_INET6, address.c_str(), a) == 1 &&
             inet_pton(AF_INET6, net.c_str(), n) == 1) {
    len = 16;
  } else {
    return false;
  }
  if (bits > int(len * 8)) return false;
  for (size_t i = 0; i < len && bits > 0; ++i, bits -= 8) {
    unsigned mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i] & mask) != (n[i] & mask)) return false;
  }
  return true;
}

}  // namespace

bool from_allowed(std::string_view patterns, const std::string& address) {
  bool allowed = false;
  while (!patterns.empty()) {
    size_t comma = patterns.find(',');
    std::string_view pat = patterns.substr(0, comma);
    patterns.remove_prefix(comma == std::string_view::npos ? patterns.size() : comma + 1);
    bool negated = !pat.empty() && pat.front() == '!';
    if (negated) pat.remove_prefix(1);
    if (pat.empty()) continue;
    bool match = pat.find('/') != std::string_view::npos ? addr_in_cidr(address, pat)
                                                         : keys::match_pattern(address, pat);
    if (match && negated) return false;
    allowed |= match;
  }
  return allowed;
}

std::optional<int64_t> parse_expiry_time(std::string_view text) {
  bool utc = !text.empty() && (text.back() == 'Z' || text.back() == 'z');
  if (utc) text.remove_suffix(1);
  if ((text.size() != 8 && text.size() != 12 && text.size() != 14) ||
      text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  auto num = [&](size_t pos, size_t len) { return std::stoi(std::string(text.substr(pos, len))); };
  struct tm tm {};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  if (text.size() >= 12) {
    tm.tm_hour = num(8, 2);
    tm.tm_min = num(10, 2);
  }
  if (text.size() == 14) tm.tm_sec = num(12, 2);
  tm.tm_isdst = -1;
  time_t t = utc ? timegm(&tm) : mktime(&tm);
  if (t == time_t(-1)) return std::nullopt;
  return int64_t(t);
}

bool KeyAuthenticator::user_exists(std::string_view user) {
  auto info = lookup_user(user);
  if (!info) return false;
  if (geteuid() != 0 && info->uid != geteuid()) return false;
  if (info->uid == 0 && options_.permit_root_login == "no") return false;
  return true;
}

std::optional<keys::KeyOptions> KeyAuthenticator::authorize_key(std::string_view user,
                                                                const keys::PublicKey& key) {
  if (!options_.pubkey_authentication || !user_exists(user)) return std::nullopt;
  auto info = lookup_user(user);
  for (const auto& pattern : options_.authorized_keys_files) {
    if (pattern == "none") continue;
    std::string path = expand_authorized_keys_path(pattern, info->home, info->name, info->uid);
    std::ifstream in(path);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<std::string> warnings;
    auto entries = keys::load_authorized_keys(ss.str(), path, warnings);
    for (const auto& w : warnings) log_verbose("%s", w.c_str());
    for (const auto& entry : entries) {
      if (entry.options.cert_authority || !(entry.key == key)) continue;
      const keys::KeyOptions& o = entry.options;
      if (o.from && !from_allowed(*o.from, peer_address_)) {
        log_info("Authentication tried for %s with correct key but not from a permitted host "
                 "(host=%s, ip=%s, required=%s).",
                 info->name.c_str(), peer_address_.c_str(), peer_address_.c_str(),
                 o.from->c_str());
        continue;
      }
      if (o.expiry_time) {
        auto expiry = parse_expiry_time(*o.expiry_time);
        if (!expiry || *expiry < int64_t(std::time(nullptr))) {
          log_info("%s: key for %s expired at %s", path.c_str(), info->name.c_str(),
                   o.expiry_time->c_str());
          continue;
        }
      }
      log_debug("matching key found: file %s", path.c_str());
      return o;
    }
  }
  return std::nullopt;
}

}  // namespace hashi::server
