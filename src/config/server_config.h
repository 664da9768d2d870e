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

struct ServerOptions {
  std::vector<uint16_t> ports;                // default {22}
  std::vector<std::string> listen_addresses;  // as written ("host", "host:port", "[v6]:port")
  std::vector<std::string> host_keys;         // default ssh_host_{rsa,ecdsa,ed25519}_key
  std::vector<std::string> host_certificates;
  std::string host_key_agent;
  std::string address_family = "any";
  std::vector<std::string> authorized_keys_files = {".ssh/authorized_keys",
                                                    ".ssh/authorized_keys2"};
  std::string authorized_keys_command, authorized_keys_command_user;
  std::string authorized_principals_file, trusted_user_ca_keys, revoked_keys;
  bool pubkey_authentication = true, password_authentication = true,
       kbd_interactive_authentication = true, permit_empty_passwords = false,
       hostbased_authentication = false;
  std::string authentication_methods = "any";
  std::string permit_root_login = "prohibit-password";  // yes prohibit-password forced-commands-only no
  std::vector<std::string> kex, ciphers, macs, host_key_algorithms;  // resolved lists
  std::string pubkey_accepted_algorithms;  // as written; empty = default
  uint64_t rekey_bytes = 0, rekey_seconds = 0;
  std::string pid_file = "/run/hashi-server.pid";
  std::string log_level = "INFO";
  std::string syslog_facility = "AUTH";
  unsigned max_auth_tries = 6;
  unsigned login_grace_time = 120;  // seconds, 0 = none
  unsigned max_sessions = 10;
  std::string max_startups = "10:30:100";
  std::string per_source_max_startups = "none";
  unsigned client_alive_interval = 0, client_alive_count_max = 3;
  bool use_pam = false, use_dns = false, print_motd = true, print_last_log = true,
       tcp_keep_alive = true, strict_modes = true, x11_forwarding = false,
       x11_use_localhost = true, permit_tty = true, permit_user_rc = true,
       allow_agent_forwarding = true, disable_forwarding = false, ignore_rhosts = true,
       expose_auth_info = false;
  unsigned x11_display_offset = 10;
  std::string allow_tcp_forwarding = "yes";  // yes all no local remote
  std::string allow_stream_local_forwarding = "yes";
  std::string gateway_ports = "no";  // no yes clientspecified
  std::string permit_tunnel = "no";
  std::string permit_user_environment = "no";
  std::string compression = "yes";  // yes delayed no
  std::string fingerprint_hash = "sha256";
  std::string banner;  // empty = none
  std::string force_command, chroot_directory, version_addendum;
  std::string moduli_file = "/etc/ssh/moduli";
  std::string xauth_location = "/usr/bin/xauth";
  std::map<std::string, std::string> subsystems;  // name -> command line
  std::vector<std::string> allow_users, deny_users, allow_groups, deny_groups;
  std::vector<std::string> accept_env, set_env, permit_open, permit_listen;

  std::vector<ServerMatchBlock> match_blocks;
};

struct ConfigDiagnostic {
  std::string file;
  size_t line = 0;
  std::string message;  // "file:line: ..." as printed
  bool fatal = false;
};

// parse_server_config parses `path` as sshd does: the `cli_options` (-o "Key=Value" or "Key Value")
// first, then the file; first value wins for single-valued keywords, lists accumulate.
// Diagnostics: a keyword sshd knows but hashi does not implement -> warning
// "file:line: Unsupported option Foo" (non-fatal); sshd's deprecated keywords -> warning
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
// per line.
std::string dump_server_config(const ServerOptions& options);

// is_known_server_keyword reports whether OpenSSH's sshd knows `keyword` (case-insensitive).
bool is_known_server_keyword(std::string_view keyword);

}  // namespace hashi::config
