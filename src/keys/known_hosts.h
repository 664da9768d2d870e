// known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): host patterns (plain, comma lists,
// [host]:port, * ? wildcards, ! negation, hashed |1|salt|hmac), @revoked / @cert-authority
// markers, comments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keys/key.h"

namespace hashi::keys {

inline constexpr size_t kMaxKnownHostsLineLen = 64 * 1024;
// A known_hosts file larger than this is not read (it is certainly not a real one).
inline constexpr size_t kMaxKnownHostsFileLen = 64 * 1024 * 1024;

enum class KnownHostMarker { kNone, kRevoked, kCertAuthority };

struct KnownHostEntry {
  KnownHostMarker marker = KnownHostMarker::kNone;
  std::string hosts;  // the host-pattern field as written (comma list or one |1|salt|hash)
  PublicKey key;
  std::string comment;
};

// parse_known_host_line parses one line (no newline; a trailing '\r' is ignored). Blank lines and
// comments give nullopt with `error` empty; bad lines give nullopt with a message.
std::optional<KnownHostEntry> parse_known_host_line(std::string_view line, std::string& error);

// known_host_name is the name looked up for a host: `host` for port 22, else "[host]:port",
// lower-cased as OpenSSH does.
std::string known_host_name(std::string_view host, uint16_t port);

// host_matches_entry tells whether `host_name` (from known_host_name) matches the entry's host
// field: a hashed entry by HMAC-SHA1, otherwise the comma-separated patterns, where a matching
// negated pattern (!pattern) makes the whole entry not match.
bool host_matches_entry(const KnownHostEntry& entry, std::string_view host_name);


enum class HostKeyStatus {
  kMatch,
  kMismatch,  // host known with a different key of the same type
  kNotFound,
  kRevoked,
};

struct HostKeyLookup {
  HostKeyStatus status = HostKeyStatus::kNotFound;
  std::string file;  // for kMismatch: the mismatching entry; for kMatch / kRevoked: that entry
  size_t line = 0;   // 1-based; 0 when kNotFound
};

// check_known_host looks `key` up for host/port in `files` (missing files are skipped; bad lines
// ignored). A @revoked entry with this key anywhere wins; then any entry with this key (kMatch);
// then the first entry for this host with a different key of the same type (kMismatch).
// @cert-authority lines are ignored here (certificates are checked elsewhere).
HostKeyLookup check_known_host(const std::vector<std::string>& files, std::string_view host,
                               uint16_t port, const PublicKey& key);

// check_known_host_contents is check_known_host over one file's contents already in memory.
HostKeyLookup check_known_host_contents(std::string_view contents, const std::string& file_name,
                                        std::string_view host, uint16_t port, const PublicKey& key);

// hash_known_host_name returns "|1|base64(salt)|base64(HMAC-SHA1(salt, host_name))" with a fresh
// 20-byte random salt.
std::string hash_known_host_name(std::string_view host_name);

// append_known_host appends "name keytype base64" to `file`, creating it with mode 0600 if needed;
// the name is hashed when `hash`. Returns false if the file cannot be opened or written.
bool append_known_host(const std::string& file, std::string_view host, uint16_t port,
                       const PublicKey& key, bool hash);
// Same, for a name already in known_hosts form (a HostKeyAlias, or known_host_name's result).
bool append_known_host_name(const std::string& file, std::string_view host_name,
                            const PublicKey& key, bool hash);

}  // namespace hashi::keys
