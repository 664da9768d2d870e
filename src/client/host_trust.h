// Host-key trust on the client: known_hosts lookup, StrictHostKeyChecking, and the first-contact
// question, as OpenSSH's ssh does it.
#pragma once

#include <string>
#include <vector>

#include "keys/key.h"
#include "transport/status.h"

namespace hashi::client {

struct HostTrust {
  std::string host;
  uint16_t port = 22;
  std::string strict = "ask";  // yes | no | ask | accept-new (ssh_config StrictHostKeyChecking)
  bool batch_mode = false;
  bool hash_new_entries = false;
  std::vector<std::string> user_files;    // the first one receives new keys
  std::vector<std::string> global_files;

  // Decides whether to trust `key` for host:port; may ask on the terminal and add the key to the
  // first user file. `verbose` prints the notes ssh prints ("Warning: Permanently added ...").
  transport::Status check(const keys::PublicKey& key, bool verbose) const;
};

// The name a known_hosts entry uses: "host" for port 22, "[host]:port" otherwise.
std::string known_hosts_name(const std::string& host, uint16_t port);

}  // namespace hashi::client
