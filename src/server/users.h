// Local accounts as the server sees them: one lookup through NSS (so LDAP/SSSD accounts work the
// same as /etc/passwd ones), copied out of libc's buffers into an owned value.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hashi::server {

struct UserInfo {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string shell;  // pw_shell; empty in the database means /bin/sh (as sshd does)
};

// lookup_user returns the account called `name` (getpwnam_r), or nullopt when there is no such
// account, the name is empty or holds a NUL, or the lookup itself fails. An empty pw_shell is
// reported as "/bin/sh".
std::optional<UserInfo> lookup_user(std::string_view name);

// lookup_uid returns the account with user id `uid` (getpwuid_r), or nullopt.
std::optional<UserInfo> lookup_uid(uid_t uid);

// current_user returns the account of the process's real user id, or nullopt when it has no
// passwd entry.
std::optional<UserInfo> current_user();

// supplementary_groups returns the ids of `user`'s groups, the primary one included
// (getgrouplist), or nullopt with `error` set.
std::optional<std::vector<gid_t>> supplementary_groups(const UserInfo& user, std::string& error);

// group_names returns the names of `user`'s groups (primary and supplementary), as sshd's
// ga_init; groups without a name are left out.
std::vector<std::string> group_names(const UserInfo& user);

}  // namespace hashi::server
