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

  // A user exists if the system knows them and, when we do not run as root, if they are us
  // (an unprivileged server can only serve its own user). PermitRootLogin no refuses root.
  bool user_exists(std::string_view user) override;
  // Looks the key up in each AuthorizedKeysFile (%h, %u, %% expanded; relative to home).
  std::optional<keys::KeyOptions> authorize_key(std::string_view user,
                                                const keys::PublicKey& key) override;

 private:
  const config::ServerOptions& options_;
};

// Expands sshd's AuthorizedKeysFile tokens: %% %h (home) %u (user) %U (uid); relative paths are
// taken from the home directory.
std::string expand_authorized_keys_path(const std::string& pattern, const std::string& home,
                                        const std::string& user, unsigned uid);

}  // namespace hashi::server
