// KeyAuthenticator: the server's Authenticator over the system's users and their
// AuthorizedKeysFile(s), as sshd reads them.
#pragma once

#include <string>

#include "auth/server_auth.h"
#include "config/server_config.h"

namespace hashi::server {

class KeyAuthenticator final : public auth::Authenticator {
 public:
  explicit KeyAuthenticator(const config::ServerOptions& options) : options_(options) {}

  // The client's address, for from= (UseDNS is not implemented: patterns match the address).
  void set_peer_address(std::string address) { peer_address_ = std::move(address); }

  // A user exists if the system knows them and, when we do not run as root, if they are us
  // (an unprivileged server can only serve its own user). PermitRootLogin no refuses root.
  bool user_exists(std::string_view user) override;
  // Looks the key up in each AuthorizedKeysFile (%h, %u, %% expanded; relative to home). An entry
  // whose from= does not admit the peer address, or whose expiry-time has passed, does not
  // authorize the key (later entries are still tried), as sshd's auth_authorise_keyopts.
  std::optional<keys::KeyOptions> authorize_key(std::string_view user,
                                                const keys::PublicKey& key) override;

 private:
  const config::ServerOptions& options_;
  std::string peer_address_;
};

// from_allowed evaluates an authorized_keys from= pattern list against the client's address:
// comma-separated patterns with * and ?, CIDR blocks (10.0.0.0/8, 2001:db8::/32), and !negation
// (a matching negated pattern refuses). True if a positive pattern matches and no negated one.
bool from_allowed(std::string_view patterns, const std::string& address);

// parse_expiry_time parses expiry-time's YYYYMMDD[HHMM[SS]] (local time, or UTC with a trailing
// 'Z') into seconds since the epoch; nullopt if malformed.
std::optional<int64_t> parse_expiry_time(std::string_view text);

// Expands sshd's AuthorizedKeysFile tokens: %% %h (home) %u (user) %U (uid); relative paths are
// taken from the home directory.
std::string expand_authorized_keys_path(const std::string& pattern, const std::string& home,
                                        const std::string& user, unsigned uid);

}  // namespace hashi::server
