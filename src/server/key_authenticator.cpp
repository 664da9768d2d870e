#include "server/key_authenticator.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#include <fstream>
#include <sstream>

#include "auth/types.h"
#include "config/config_text.h"
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

bool from_allowed(std::string_view patterns, const std::string& address) {
  return config::match_address_list(address, patterns) == 1;
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

namespace {

// The revoked-keys file is a list of public keys in authorized_keys format (as ssh-keygen writes
// them); a binary KRL starts with this magic.
constexpr std::string_view kKrlMagic = "SSHKRL";

}  // namespace

bool key_revoked(const std::string& path, const keys::PublicKey& key) {
  const std::string label(auth::key_log_label(key.type()));
  std::ifstream in(path);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  if (!in || in.bad()) {
    log_error("Error checking authentication key %s %s in revoked keys file %s: %s", label.c_str(),
              key.fingerprint_sha256().c_str(), path.c_str(), std::strerror(errno));
    return true;
  }
  const std::string contents = ss.str();
  if (contents.compare(0, kKrlMagic.size(), kKrlMagic) == 0) {
    log_error("Error checking authentication key %s %s in revoked keys file %s: KRL files are "
              "not supported",
              label.c_str(), key.fingerprint_sha256().c_str(), path.c_str());
    return true;
  }
  std::vector<std::string> warnings;
  for (const auto& entry : keys::load_authorized_keys(contents, path, warnings)) {
    if (entry.key == key) {
      log_info("Authentication key %s %s revoked by file %s", label.c_str(),
               key.fingerprint_sha256().c_str(), path.c_str());
      return true;
    }
  }
  return false;
}

void KeyAuthenticator::resolve_for(std::string_view user, const std::vector<std::string>& groups) {
  config::MatchContext ctx;
  ctx.user = std::string(user);
  ctx.groups = groups;
  ctx.host = addresses_.remote_ip;
  ctx.address = addresses_.remote_ip;
  ctx.local_address = addresses_.local_ip;
  ctx.local_port = addresses_.local_port;
  resolved_ = config::resolve_match(base_, ctx);
}

bool KeyAuthenticator::user_exists(std::string_view user) {
  // The user of a connection is fixed at the first request; decide (and log) once.
  if (!user_ok_ || checked_user_ != user) {
    checked_user_ = std::string(user);
    user_ok_ = check_user(user);
  }
  return *user_ok_;
}

bool KeyAuthenticator::check_user(std::string_view user) {
  auto info = lookup_user(user);
  const std::vector<std::string> groups = info ? group_names(*info) : std::vector<std::string>{};
  if (!resolved_) resolve_for(user, groups);
  if (!info) return false;
  if (geteuid() != 0 && info->uid != geteuid()) return false;
  if (auto why = config::allowed_user(options(), info->name, groups, addresses_.remote_ip)) {
    log_info("User %s from %s not allowed because %s", info->name.c_str(),
             addresses_.remote_ip.c_str(), why->c_str());
    return false;
  }
  if (info->uid == 0 && options().permit_root_login == "no") {
    log_info("ROOT LOGIN REFUSED FROM %s", addresses_.remote_ip.c_str());
    return false;
  }
  return true;
}

std::optional<keys::KeyOptions> KeyAuthenticator::authorize_key(std::string_view user,
                                                                const keys::PublicKey& key) {
  const config::ServerOptions& opts = options();
  if (!opts.pubkey_authentication || !user_exists(user)) return std::nullopt;
  if (!opts.revoked_keys.empty() && key_revoked(opts.revoked_keys, key)) return std::nullopt;
  auto info = lookup_user(user);
  const bool forced_only = info->uid == 0 && opts.permit_root_login == "forced-commands-only";
  const std::string& peer = addresses_.remote_ip;
  for (const auto& pattern : opts.authorized_keys_files) {
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
      if (o.from && !from_allowed(*o.from, peer)) {
        log_info("Authentication tried for %s with correct key but not from a permitted host "
                 "(host=%s, ip=%s, required=%s).",
                 info->name.c_str(), peer.c_str(), peer.c_str(),
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
      if (forced_only && !o.command) {
        log_info("Root login refused for key without command= (PermitRootLogin "
                 "forced-commands-only): %s", path.c_str());
        continue;
      }
      log_debug("matching key found: file %s", path.c_str());
      return o;
    }
  }
  return std::nullopt;
}

}  // namespace hashi::server
