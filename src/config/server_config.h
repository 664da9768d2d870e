// sshd_config(5): the server configuration, parsed as OpenSSH's sshd does (servconf.c): -o options
// first, then the file; the first value wins for single-valued keywords, lists (Port,
// ListenAddress, HostKey, AllowUsers, AcceptEnv, ...) accumulate. Match blocks are parsed,
// validated and stored, and applied per connection by resolve_match.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config_text.h"

namespace hashi::config {

// One keyword line kept for later (inside a Match block).
struct ServerDirective {
  std::string keyword;  // as written
  std::vector<std::string> args;
  std::string raw_rest;
  std::string file;
  size_t line = 0;
};

// One "Match" criterion: `criterion` lower-cased (user group host address localaddress localport
// rdomain all), `patterns` its argument (empty for all).
struct MatchCondition {
  std::string criterion;
  std::string patterns;
};

struct ServerMatchBlock {
  std::vector<MatchCondition> conditions;
  std::vector<ServerDirective> directives;
  std::string file;
  size_t line = 0;
};

// What a connection is matched on.
struct MatchContext {
  std::string user;
  std::vector<std::string> groups;  // the user's group names
  std::string host;                 // the client's host name (or its address if UseDNS no)
  std::string address;              // client address
  std::string local_address;
  uint16_t local_port = 0;
  std::string rdomain;
};

// Only what hashi applies has a field: a keyword hashi refuses, or accepts with its one value in
// force (UsePAM no, X11Forwarding no, ...), stores nothing (see server_keyword_states).
struct ServerOptions {
  std::vector<uint16_t> ports;                // default {22}
  std::vector<std::string> listen_addresses;  // as written ("host", "host:port", "[v6]:port")
  std::vector<std::string> host_keys;         // default ssh_host_{rsa,ecdsa,ed25519}_key
  std::string address_family = "any";         // any inet inet6
  std::vector<std::string> authorized_keys_files = {".ssh/authorized_keys",
                                                    ".ssh/authorized_keys2"};
  std::string revoked_keys;  // empty = none
  bool pubkey_authentication = true;
  // yes prohibit-password forced-commands-only no
  std::string permit_root_login = "prohibit-password";
  std::vector<std::string> kex, ciphers, macs, host_key_algorithms;  // resolved lists
  std::vector<std::string> pubkey_accepted_algorithms;               // resolved list
  uint64_t rekey_bytes = 0, rekey_seconds = 0;
  std::string pid_file = "/run/hashi-server.pid";
  std::string log_level = "INFO";
  std::string syslog_facility = "AUTH";
  unsigned max_auth_tries = 6;
  unsigned login_grace_time = 120;  // seconds, 0 = none
  unsigned max_sessions = 10;
  std::string permit_user_environment = "no";
  std::string force_command;                      // empty = none
  std::map<std::string, std::string> subsystems;  // name -> command line
  std::vector<std::string> allow_users, deny_users, allow_groups, deny_groups;
  std::vector<std::string> accept_env, set_env;

  std::vector<ServerMatchBlock> match_blocks;
};

// What hashi does with an sshd_config keyword. kApplied: the setting takes effect (when
// `only_value` is set, that is the one value hashi implements and any other value is refused).
// kRefused: the keyword is a fatal "Unsupported option" wherever it appears. kDeprecated: OpenSSH
// ignores it too (a warning).
enum class KeywordState { kApplied, kRefused, kDeprecated };

struct KeywordInfo {
  std::string name;  // lower case, as sshd -T prints it
  KeywordState state = KeywordState::kApplied;
  std::string only_value;    // for kApplied: the only accepted value, or empty for any
  bool in_match = false;     // may appear inside Match (applied per connection)
};

// server_keyword_states lists every keyword of the table with its state, in table order.
std::vector<KeywordInfo> server_keyword_states();

struct ConfigDiagnostic {
  std::string file;
  size_t line = 0;
  std::string message;  // "file:line: ..." as printed
  bool fatal = false;
};

// parse_server_config parses `path` as sshd does: the `cli_options` (-o "Key=Value" or "Key Value")
// first, then the file; first value wins for single-valued keywords, lists accumulate.
// Diagnostics: a keyword sshd knows but hashi does not implement, or a value other than the one
// hashi implements -> fatal "file:line: Unsupported option Foo..."; sshd's deprecated keywords ->
// warning
// "file:line: Deprecated option Foo"; an unknown keyword -> fatal "file:line: Bad configuration
// option: foo"; a bad value, a global-only keyword inside Match, a bad Match line -> fatal with
// file:line. Returns nullopt if any diagnostic is fatal (all are still collected, as sshd reports
// every bad line before exiting). Defaults (ports, host keys, algorithm lists) are filled in.
std::optional<ServerOptions> parse_server_config(const std::string& path,
                                                 const std::vector<std::string>& cli_options,
                                                 std::vector<ConfigDiagnostic>& diagnostics);

// Same, reading `path` and any Include through `files`.
std::optional<ServerOptions> parse_server_config(const std::string& path,
                                                 const std::vector<std::string>& cli_options,
                                                 const ConfigFileSource& files,
                                                 std::vector<ConfigDiagnostic>& diagnostics);

// Parses config text named `name` (for tests and fuzzing); Include goes through `files`.
std::optional<ServerOptions> parse_server_config_text(std::string_view text,
                                                      const std::string& name,
                                                      const std::vector<std::string>& cli_options,
                                                      const ConfigFileSource& files,
                                                      std::vector<ConfigDiagnostic>& diagnostics);

// resolve_match returns `base` with the Match blocks that match `context` applied, in file order:
// among Match blocks the first value wins, and it overrides the global value (a list keyword in a
// matching block replaces the global list). Directives were validated while parsing.
ServerOptions resolve_match(const ServerOptions& base, const MatchContext& context);

// dump_server_config prints the options as `sshd -T` does: one lower-case keyword and its value
// per line; only keywords hashi applies (refused ones are never in force).
std::string dump_server_config(const ServerOptions& options);

// allowed_user applies AllowUsers/DenyUsers/AllowGroups/DenyGroups of `options` in sshd's order
// (auth.c allowed_user: DenyUsers, AllowUsers, DenyGroups, AllowGroups) to `user`, whose group
// names are `groups` (primary and supplementary), connecting from `address` (also matched as the
// host name, since UseDNS is not implemented). Returns nullopt if allowed, else the reason as sshd
// words it after "not allowed because " ("listed in DenyUsers", ...).
std::optional<std::string> allowed_user(const ServerOptions& options, const std::string& user,
                                        const std::vector<std::string>& groups,
                                        const std::string& address);

// is_known_server_keyword reports whether OpenSSH's sshd knows `keyword` (case-insensitive).
bool is_known_server_keyword(std::string_view keyword);

}  // namespace hashi::config
