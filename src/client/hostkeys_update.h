// Host-key rotation (OpenSSH PROTOCOL section 2.5): the "hostkeys-00@openssh.com" announcement a
// server sends after authentication, the "hostkeys-prove-00@openssh.com" proof, and the client's
// known_hosts update (OpenSSH's UpdateHostKeys, clientloop.c update_known_hosts).
//
// The wire helpers are used by both roles; KnownHostsUpdater is the client's file side.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keys/key.h"
#include "wire/bytes.h"

namespace hashi::client {

inline constexpr std::string_view kHostkeysRequest = "hostkeys-00@openssh.com";
inline constexpr std::string_view kHostkeysProveRequest = "hostkeys-prove-00@openssh.com";
// A server announcing more keys than this is not believed (OpenSSH has no limit; sshd offers
// one per HostKey line).
inline constexpr size_t kMaxAnnouncedHostKeys = 64;

// encode_hostkeys returns the request data: one string per key blob.
Bytes encode_hostkeys(const std::vector<keys::PublicKey>& keys);

// parse_hostkeys parses a hostkeys-00 / hostkeys-prove-00 request's data (strings of key blobs).
// Blobs of key types we do not know are skipped and counted in `num_unsupported`. nullopt if the
// data is malformed, a known-type blob does not decode, a key repeats, or there are more than
// kMaxAnnouncedHostKeys.
std::optional<std::vector<keys::PublicKey>> parse_hostkeys(ByteView data, size_t& num_unsupported);

// hostkeys_prove_data is what each proof signs: string "hostkeys-prove-00@openssh.com",
// string session identifier, string host-key blob.
Bytes hostkeys_prove_data(ByteView session_id, ByteView blob);

// hostkeys_prove_algorithm is the signature algorithm a server signs a proof with: the key's
// own, and for RSA the negotiated host-key algorithm when that is an RSA/SHA-2 one, otherwise
// rsa-sha2-512 (sshd's server_input_hostkeys_prove).
std::string hostkeys_prove_algorithm(keys::KeyType type, std::string_view negotiated_hostkey_alg);

// verify_hostkeys_proof checks a hostkeys-prove reply (one string signature per key, in order,
// nothing after) for `keys`. RSA proofs use rsa-sha2-256 or rsa-sha2-512; ssh-rsa (SHA-1) only
// when `allow_rsa_sha1` — a client that offered no rsa-sha2-* host-key algorithm, to which
// sshd falls back to SHA-1 (OpenSSH's client accepts it whatever it offered).
bool verify_hostkeys_proof(const std::vector<keys::PublicKey>& keys, ByteView session_id,
                           ByteView reply, bool allow_rsa_sha1);

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
