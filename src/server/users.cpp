#include "server/users.h"

#include <grp.h>
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

// Upper bound on the number of groups of one user (NGROUPS_MAX on Linux).
constexpr int kMaxGroups = 65536;

// The name of group `gid` (getgrgid_r), or nullopt.
std::optional<std::string> group_name(gid_t gid) {
  std::vector<char> buf(4096);
  for (;;) {
    group grp{};
    group* result = nullptr;
    int rc = getgrgid_r(gid, &grp, buf.data(), buf.size(), &result);
    if (rc == ERANGE && buf.size() < kMaxPwBufferLen) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || result == nullptr || grp.gr_name == nullptr) {
      return std::nullopt;
    }
    return std::string(grp.gr_name);
  }
}

}  // namespace

std::optional<std::vector<gid_t>> supplementary_groups(const UserInfo& user, std::string& error) {
  int num_groups = 64;
  std::vector<gid_t> groups;
  for (;;) {
    groups.resize(static_cast<size_t>(num_groups));
    int n = num_groups;
    if (getgrouplist(user.name.c_str(), user.gid, groups.data(), &n) >= 0) {
      groups.resize(static_cast<size_t>(n));
      return groups;
    }
    if (n <= num_groups || n > kMaxGroups) {
      error = "getgrouplist for user " + user.name + " failed";
      return std::nullopt;
    }
    num_groups = n;
  }
}

std::vector<std::string> group_names(const UserInfo& user) {
  std::string error;
  std::vector<std::string> out;
  for (gid_t gid : supplementary_groups(user, error).value_or(std::vector<gid_t>{user.gid})) {
    if (auto name = group_name(gid)) {
      out.push_back(std::move(*name));
    }
  }
  return out;
}

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
