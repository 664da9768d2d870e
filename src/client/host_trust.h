// Host-key trust on the client: known_hosts lookup, StrictHostKeyChecking, and the first-contact
// question, as OpenSSH's ssh does it (sshconnect.c check_host_key, hostfile.c).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keys/key.h"
#include "keys/known_hosts.h"
#include "transport/status.h"

namespace hashi::client {

// What the known_hosts files say about a host's key (hostfile.c check_key_in_hostkeys).
enum class TrustStatus {
  kOk,       // an entry for the host holds this key
  kNew,      // no entry for the host
  kChanged,  // entries for the host, none with this key (of this type or another)
  kRevoked,  // a @revoked entry for the host holds this key
};

struct TrustLookup {
  TrustStatus status = TrustStatus::kNew;
  // kOk: the matching entry; kChanged: the last entry for the host (OpenSSH's "Offending" one).
  std::string file;
  size_t line = 0;
  std::optional<keys::KeyType> found_type;  // kChanged: that entry's key type
};

// lookup_host_key looks `key` up for the known_hosts name `name` ("host" or "[host]:port") in
// `files`, in order; missing files and bad lines are skipped. @revoked wins over everything;
// @cert-authority lines are not host keys.
TrustLookup lookup_host_key(const std::vector<std::string>& files, const std::string& name,
                            const keys::PublicKey& key);

// The label ssh prints for a key type: "ED25519", "ECDSA", "RSA".
std::string key_type_label(keys::KeyType type);

// ask_tty writes `prompt` to /dev/tty and reads one line back (echoed); nullopt without a
// terminal or on EOF.
std::optional<std::string> ask_tty(const std::string& prompt);

// The answer to the first-contact question: "yes" (any case) or the key's fingerprint accept;
// "no", empty or EOF refuse; anything else asks again (nullopt).
std::optional<bool> parse_confirmation(const std::string& answer, const std::string& fingerprint);

struct HostTrust {
  std::string host;  // the name the user gave
  // HostKeyAlias: when set, the known_hosts name instead of host and port, used as written
  // (lower-cased), with no [host]:port brackets, as OpenSSH's get_hostfile_hostname_ipaddr.
  std::string alias;
  std::string address;  // the numeric address connected to, for the prompt; empty: host
  uint16_t port = 22;
  std::string strict = "ask";  // yes | no | ask | accept-new (ssh_config StrictHostKeyChecking)
  bool batch_mode = false;
  bool hash_new_entries = false;
  std::vector<std::string> user_files;  // the first one receives new keys
  std::vector<std::string> global_files;
  // The default user file (~/.ssh/known_hosts): the removal hint names -f only for other files.
  std::string default_user_file;

  // Set by check(): the key was accepted although it did not match (StrictHostKeyChecking=no
  // with a changed key). Password authentication, forwarding and UpdateHostKeys are then off.
  bool untrusted = false;

  // Decides whether to trust `key` for host:port; may ask on /dev/tty and add the key to the
  // first user file. `verbose` prints the notes ssh prints at LogLevel INFO ("Warning:
  // Permanently added ..."); errors are always printed. On refusal returns a failed Status whose
  // message is "Host key verification failed.".
  transport::Status check(const keys::PublicKey& key, bool verbose);

  // The known_hosts name of the host: the alias if any, else "host" for port 22 or
  // "[host]:port"; lower-case.
  std::string name() const;
};

// The name a known_hosts entry uses: "host" for port 22, "[host]:port" otherwise.
std::string known_hosts_name(const std::string& host, uint16_t port);

}  // namespace hashi::client
