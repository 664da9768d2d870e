// authorized_keys lines (sshd(8) "AUTHORIZED_KEYS FILE FORMAT"): options, key type, base64 blob,
// comment.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keys/key.h"

namespace hashi::keys {

// Longest line we parse. A 16384-bit RSA key is under 3 KiB of base64; options rarely exceed a
// few hundred bytes. Longer lines are rejected rather than parsed at unbounded cost.
inline constexpr size_t kMaxAuthorizedKeyLineLen = 64 * 1024;

// The options of one authorized_keys line. The permit_* flags start true; "restrict" clears
// them all and the positive options (pty, port-forwarding, ...) set them again.
struct KeyOptions {
  std::optional<std::string> command;      // command="..."
  std::optional<std::string> from;         // from="pattern-list" (raw list)
  std::vector<std::string> environment;    // environment="NAME=value", in order
  std::vector<std::string> permitopen;     // permitopen="host:port", in order
  std::vector<std::string> permitlisten;   // permitlisten="[host:]port", in order
  std::optional<std::string> expiry_time;  // expiry-time="YYYYMMDD[HHMM[SS]]" (raw)
  std::optional<std::string> principals;   // principals="name,name" (raw list)
  bool permit_pty = true;
  bool permit_port_forwarding = true;
  bool permit_agent_forwarding = true;
  bool permit_x11_forwarding = true;
  bool permit_user_rc = true;
  bool cert_authority = false;
  bool no_touch_required = false;
  bool verify_required = false;
  bool restricted = false;  // "restrict" was given
};

struct AuthorizedKey {
  PublicKey key;
  KeyOptions options;
  std::string comment;
};

// parse_authorized_key_line parses one line (without its newline; a trailing '\r' is ignored).
// Blank lines and '#' comments give nullopt with `error` empty; a bad line gives nullopt with a
// message in `error` (e.g. "bad option: missing end quote", "invalid base64", "unknown key type").
std::optional<AuthorizedKey> parse_authorized_key_line(std::string_view line, std::string& error);

// load_authorized_keys parses a whole file's contents, skipping bad lines; each skipped line adds
// a warning "file_name_for_messages:LINE: message" to `warnings`.
std::vector<AuthorizedKey> load_authorized_keys(std::string_view contents,
                                                const std::string& file_name_for_messages,
                                                std::vector<std::string>& warnings);

// find_authorized returns the first entry whose key equals `key` and that is not a
// cert-authority entry (a CA line authorizes certificates it signed, not the CA key itself);
// nullptr if there is none.
const AuthorizedKey* find_authorized(const std::vector<AuthorizedKey>& keys, const PublicKey& key);

}  // namespace hashi::keys
