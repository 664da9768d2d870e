// ssh-keygen -F / -R / -H over a known_hosts file's contents, following OpenSSH's
// hostkeys_foreach() (hostfile.c) and ssh-keygen.c's known_hosts_find_delete / known_hosts_hash,
// so the results (and the messages) are the ones ssh-keygen gives on the same input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hashi::keys {

struct KnownHostsEdit {
  std::string file;    // remove / hash: the new file contents
  std::string stdout_text;  // what ssh-keygen prints on standard output while editing
  std::vector<std::string> messages;  // what it logs on standard error (no newlines)
  bool found = false;         // find / remove: some entry matched
  bool invalid = false;       // remove / hash: a line was malformed; the file must not be replaced
  bool has_unhashed = false;  // hash: some name was hashed (the .old copy shows it in clear)
};

// known_hosts_find is -F host: for each entry whose host field matches `host` (plain patterns,
// [host]:port as written, or |1|salt|hmac), "# Host HOST found: line N " (+ "CA" / "REVOKED"
// for marked lines) unless `quiet`, then the line, or with `hash` (-H -F) the line with its names
// hashed. `path` names the file in messages.
KnownHostsEdit known_hosts_find(std::string_view contents, std::string_view path,
                                std::string_view host, bool hash, bool quiet);

// known_hosts_remove is -R host: `file` is the contents without the entries for `host`
// (@cert-authority and @revoked lines are kept), and "# Host HOST found: line N" is printed for
// each removed line unless `quiet`.
KnownHostsEdit known_hosts_remove(std::string_view contents, std::string_view path,
                                  std::string_view host, bool quiet);

// known_hosts_hash is -H: each plain name of each entry becomes its own line "|1|salt|hmac key",
// in order; hashed entries, entries with wildcards or negations, and marked lines are kept as
// they are.
KnownHostsEdit known_hosts_hash(std::string_view contents, std::string_view path);

}  // namespace hashi::keys
