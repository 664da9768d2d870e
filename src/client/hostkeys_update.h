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

// What the client does with the server's hostkeys-00@openssh.com announcement (UpdateHostKeys).
// Both hooks do the file work; the client only parses, asks for proofs and verifies them.
struct HostKeysHooks {
  // The offered keys the client does not know yet (to be proved); nullopt to ignore the
  // announcement.
  std::function<std::optional<std::vector<keys::PublicKey>>(const std::vector<keys::PublicKey>&)>
      unknown_keys;
  // The proofs checked out: drop the host's keys that are not `offered`, add `learned`.
  std::function<void(const std::vector<keys::PublicKey>& offered,
                     const std::vector<keys::PublicKey>& learned)>
      update;
};

// keys_to_prove reads a hostkeys-00@openssh.com announcement (clientloop.c client_input_hostkeys):
// nullopt to ignore it (malformed, without the key this connection was verified with, or
// unknown_keys declined); else `out_offered` holds every offered key and the result the unknown
// ones of a type `host_key_algorithms` allows (empty: only removals to do). `log` gets the
// debug lines.
std::optional<std::vector<keys::PublicKey>> keys_to_prove(
    ByteView data, const std::optional<keys::PublicKey>& current,
    const std::vector<std::string>& host_key_algorithms, const HostKeysHooks& hooks,
    const std::function<void(const std::string&)>& log,
    std::vector<keys::PublicKey>& out_offered);

// proof_accepted checks the server's reply to hostkeys-prove-00 for `to_prove`: RSA proofs may
// use SHA-1 only if `host_key_algorithms` offered no rsa-sha2-*. Logs why it refuses.
bool proof_accepted(bool success, ByteView reply, const std::vector<keys::PublicKey>& to_prove,
                    ByteView session_id, const std::vector<std::string>& host_key_algorithms,
                    const std::function<void(const std::string&)>& log);

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
