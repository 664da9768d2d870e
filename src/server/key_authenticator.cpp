#include "server/key_authenticator.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "keys/authorized_keys.h"
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
    if (const keys::AuthorizedKey* found = keys::find_authorized(entries, key)) {
      log_debug("matching key found: file %s", path.c_str());
      return found->options;
    }
  }
  return std::nullopt;
}

}  // namespace hashi::server
