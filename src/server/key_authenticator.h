// KeyAuthenticator: the server's Authenticator over the system's users and their
// AuthorizedKeysFile(s), as sshd reads them.
#pragma once

#include <string>

#include "auth/server_auth.h"
#include "config/server_config.h"

namespace hashi::server {

// The connection's addresses, for Match and from= (UseDNS is not implemented: host patterns
// match the client's address).
struct ConnectionAddresses {
  std::string remote_ip;
  std::string local_ip;
  uint16_t local_port = 0;
};

class KeyAuthenticator final : public auth::Authenticator {
 public:
  KeyAuthenticator(const config::ServerOptions& options, ConnectionAddresses addresses)
      : base_(options), addresses_(std::move(addresses)) {}

  // The options in force for this connection: the global ones with the Match blocks for the
  // user applied once user_exists has run (as sshd, at the first USERAUTH_REQUEST).
  const config::ServerOptions& options() const { return resolved_ ? *resolved_ : base_; }

  // Resolves the Match blocks for `user`, then: a user exists if the system knows them, when we
  // do not run as root if they are us (an unprivileged server can only serve its own user), if
  // AllowUsers/DenyUsers/AllowGroups/DenyGroups let them in (a refusal is logged in sshd's
  // words), and unless they are root with PermitRootLogin no.
  bool user_exists(std::string_view user) override;
  // Looks the key up in each AuthorizedKeysFile (%h, %u, %% expanded; relative to home) unless
  // PubkeyAuthentication is off or RevokedKeys lists the key. An entry whose from= does not admit
  // the peer address, whose expiry-time has passed, or (root with PermitRootLogin
  // forced-commands-only) that has no command=, does not authorize the key (later entries are
  // still tried), as sshd's auth_authorise_keyopts.
  std::optional<keys::KeyOptions> authorize_key(std::string_view user,
                                                const keys::PublicKey& key) override;
  std::optional<uint32_t> max_auth_tries() const override { return options().max_auth_tries; }

 private:
  bool check_user(std::string_view user);
  void resolve_for(std::string_view user, const std::vector<std::string>& groups);

  const config::ServerOptions& base_;
  ConnectionAddresses addresses_;
  std::optional<config::ServerOptions> resolved_;
  std::string checked_user_;
  std::optional<bool> user_ok_;
};

// key_revoked reports whether RevokedKeys file `path` revokes `key`: listed there, or the file
// cannot be read (then every key is refused, as sshd), or it is a KRL (not implemented). Logs why.
bool key_revoked(const std::string& path, const keys::PublicKey& key);

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
