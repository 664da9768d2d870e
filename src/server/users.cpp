#include "server/users.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace hashi::server {
namespace {

// Upper bound on the getpwnam_r scratch buffer: NSS modules report ERANGE until it is large
// enough; an entry needing more than this is not a real account.
constexpr size_t kMaxPwBufferLen = 1 << 20;

UserInfo from_passwd(const passwd& pw) {
  UserInfo out;
  out.name = pw.pw_name ? pw.pw_name : "";
  out.uid = pw.pw_uid;
  out.gid = pw.pw_gid;
  out.home = pw.pw_dir ? pw.pw_dir : "";
  out.shell = (pw.pw_shell && pw.pw_shell[0] != '\0') ? pw.pw_shell : "/bin/sh";
  return out;
}

template <typename Lookup>
std::optional<UserInfo> lookup_with(Lookup&& lookup) {
  long suggested = sysconf(_SC_GETPW_R_SIZE_MAX);
  size_t len = suggested > 0 ? static_cast<size_t>(suggested) : 1024;
  std::vector<char> buf;
  for (;;) {
    buf.resize(len);
    passwd pw{};
    passwd* result = nullptr;
    int rc = lookup(&pw, buf.data(), buf.size(), &result);
    if (rc == ERANGE && len < kMaxPwBufferLen) {
      len *= 2;
      continue;
    }
    if (rc != 0 || result == nullptr) {
      return std::nullopt;
    }
    return from_passwd(pw);
  }
}

}  // namespace

std::optional<UserInfo> lookup_user(std::string_view name) {
  if (name.empty() || name.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string owned(name);
  return lookup_with([&](passwd* pw, char* buf, size_t len, passwd** result) {
    return getpwnam_r(owned.c_str(), pw, buf, len, result);
  });
}

std::optional<UserInfo> lookup_uid(uid_t uid) {
  return lookup_with([&](passwd* pw, char* buf, size_t len, passwd** result) {
    return getpwuid_r(uid, pw, buf, len, result);
  });
}

std::optional<UserInfo> current_user() { return lookup_uid(getuid()); }

}  // namespace hashi::server
