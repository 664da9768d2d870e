// Host-key rotation (OpenSSH PROTOCOL section 2.5): the "hostkeys-00@openssh.com" announcement a
// server sends after authentication, the "hostkeys-prove-00@openssh.com" proof, and the client's
// known_hosts update (OpenSSH's UpdateHostKeys, clientloop.c update_known_hosts).
//
// The wire codec both roles use lives in session/hostkeys.h; KnownHostsUpdater is the client's
// file side.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keys/key.h"
#include "wire/bytes.h"

namespace hashi::client {

// KnownHostsUpdater rewrites the user's known_hosts file for one host so that it holds exactly
// the keys the server proved it has. Only lines that name the host alone (a single plain name or
// a hashed name) are touched; if the host's keys also sit on lines with patterns or other names
// the update is skipped, as OpenSSH does.
class KnownHostsUpdater {
 public:
  using Log = std::function<void(int level, const std::string& message)>;

  KnownHostsUpdater(std::string file, std::string host_name, bool hash, Log log)
      : file_(std::move(file)), host_name_(std::move(host_name)), hash_(hash),
        log_(std::move(log)) {}

  // unknown_keys returns the offered keys the file does not hold for the host (to be proved
  // before they are added); nullopt when the update must be skipped.
  std::optional<std::vector<keys::PublicKey>> unknown_keys(
      const std::vector<keys::PublicKey>& offered) const;

  // apply removes the host's lines whose key is not in `offered` and adds the `learned` keys
  // that are missing (hashed if HashKnownHosts, or if the host's existing lines were hashed). The old
  // file is kept as FILE.old; the new one replaces it atomically. False on an I/O error.
  bool apply(const std::vector<keys::PublicKey>& offered,
             const std::vector<keys::PublicKey>& learned) const;

 private:
  std::string file_;
  std::string host_name_;
  bool hash_;
  Log log_;
};

}  // namespace hashi::client
