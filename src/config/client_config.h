// ssh_config(5): the client configuration, resolved for one connection the way OpenSSH's ssh does
// it (readconf.c): -o options first, then the user file (or the -F file), then the system file;
// the first value obtained for a keyword wins, except for the multi-valued ones, which accumulate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_text.h"

namespace hashi::config {

// The resolved options for one connection; unset = std::nullopt (or an empty list). Values are kept
// as written (after quote removal); flags are normalised to "yes"/"no" and choices to their
// canonical spelling ("true" -> "yes"). %-tokens are not expanded here; see expand_tokens.
struct ClientOptions {
  std::optional<std::string> hostname, user;
  std::optional<uint16_t> port;
  std::optional<std::string> log_level;  // QUIET FATAL ERROR INFO VERBOSE DEBUG DEBUG1..3
  // Algorithm specs as written ("+hmac-sha1"); validated while parsing. apply_client_defaults
  // replaces them with the resolved comma-separated list.
  std::optional<std::string> kex, ciphers, macs, host_key_algorithms;
  std::optional<std::string> rekey_limit;  // validated with parse_rekey_limit
  std::optional<std::string> strict_host_key_checking;  // yes no ask accept-new
  std::optional<std::string> batch_mode, identities_only, connect_timeout /* seconds or none */;
  std::optional<std::string> user_known_hosts_file_raw, global_known_hosts_file_raw;
  std::optional<std::string> preferred_authentications, password_authentication,
      pubkey_authentication, kbd_interactive_authentication, hostbased_authentication;
  std::optional<std::string> request_tty;  // no yes force auto
  std::optional<std::string> proxy_command, proxy_jump, remote_command, local_command,
      permit_local_command;
  std::optional<std::string> forward_agent, forward_x11, forward_x11_trusted, compression,
      tcp_keep_alive, check_host_ip, exit_on_forward_failure, gateway_ports, hash_known_hosts,
      visual_host_key, update_host_keys, stdin_null, fork_after_authentication, session_type,
      clear_all_forwardings, no_host_authentication_for_localhost;
  std::optional<std::string> server_alive_interval /* seconds */, server_alive_count_max,
      connection_attempts, number_of_password_prompts;
  std::optional<std::string> host_key_alias, identity_agent, add_keys_to_agent, bind_address,
      address_family, escape_char, fingerprint_hash, ignore_unknown, tag, xauth_location,
      known_hosts_command, revoked_host_keys, pubkey_accepted_algorithms, ca_signature_algorithms,
      control_master, control_path, control_persist, syslog_facility;

  std::vector<std::string> identity_files;  // IdentityFile accumulates, as in OpenSSH
  std::vector<std::string> certificate_files;
  std::vector<std::string> user_known_hosts_files;    // UserKnownHostsFile split into paths
  std::vector<std::string> global_known_hosts_files;  // GlobalKnownHostsFile split into paths
  std::vector<std::string> local_forwards, remote_forwards, dynamic_forwards;  // as written
  std::vector<std::string> send_env, set_env;
};

// Values the %-tokens of ssh_config(5) ("TOKENS") expand to.
struct TokenValues {
  std::string remote_host;      // %h  (HostName after its own expansion)
  std::string original_host;    // %n  (as given on the command line)
  uint16_t port = 22;           // %p
  std::string remote_user;      // %r
  std::string local_user;       // %u
  std::string home_dir;         // %d and leading ~
  std::string local_host;       // %l  (local host name, with domain)
  std::string local_host_short; // %L  (local host name, first component)
  std::string uid;              // %i
  std::string jump_host;        // %j  (ProxyJump, empty if none)
  std::string host_key_alias;   // %k  (HostKeyAlias or the original host)
};

// expand_tokens expands %% %h %p %r %u %d %l %L %n %i %j %k and %C (hex SHA-1 of %l%h%p%r, as
// OpenSSH's ssh_connection_hash) and a leading "~" or "~/" to the home directory. An unknown token
// is left as written; use expand_tokens_checked to reject it.
std::string expand_tokens(std::string_view s, const TokenValues& v);
// Same, but returns nullopt and sets `error` ("unknown token %x", "trailing %") on a bad token.
std::optional<std::string> expand_tokens_checked(std::string_view s, const TokenValues& v,
                                                 std::string& error);

// apply_client_defaults fills what the files left unset: Port 22; IdentityFile
// ~/.ssh/id_rsa, id_ecdsa, id_ed25519 when none was given; UserKnownHostsFile ~/.ssh/known_hosts
// ~/.ssh/known_hosts2; GlobalKnownHostsFile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2;
// StrictHostKeyChecking ask; BatchMode no; LogLevel INFO; the algorithm lists resolved to the
// final comma-separated lists; and the other yes/no defaults of ssh_config(5). "~" is expanded
// with `home_dir`.
void apply_client_defaults(ClientOptions& options, const std::string& home_dir);

class ClientConfig {
 public:
  // resolve computes the options for a connection to `host`, parsing as ssh does: the -o options
  // first (each "Key=Value" or "Key Value"), then the user file (~/.ssh/config, or the -F file;
  // "none" = no file, "/dev/null" reads as empty), then /etc/ssh/ssh_config (skipped when -F is
  // given). The first value obtained wins (except multi-valued keys). Supports Host patterns (with
  // !negation, * and ?; whitespace-separated, as OpenSSH: a comma inside a Host pattern is a
  // literal character), Match (all, canonical, final, host, originalhost, user, localuser, tagged;
  // exec and localnetwork are rejected as unsupported), Include (globs, relative to ~/.ssh for the
  // user file and /etc/ssh for the system file), case-insensitive keywords, "=" separators and
  // quoted arguments.
  //
  // Returns nullopt and sets `error` on the first error, e.g. "file:line: Bad configuration
  // option: foo". A refused keyword (see client_keywords) that would take effect with a value
  // other than a harmless one is an error: "file:line: Unsupported option \"proxyjump\": not
  // implemented by hashi". A keyword accepted with no effect that OpenSSH implements and hashi
  // does not adds "file:line: Unsupported option \"foo\"" to `warnings` (if given; the client
  // prints them at -v). Never throws on bad input.
  static std::optional<ClientOptions> resolve(const std::string& host,
                                              const std::vector<std::string>& cli_options,
                                              const std::optional<std::string>& config_file,
                                              const std::string& home_dir,
                                              const std::string& local_user, std::string& error,
                                              std::vector<std::string>* warnings = nullptr);

  // Same, reading every file through `files` (tests and fuzzing use a MemoryFileSource).
  static std::optional<ClientOptions> resolve(const std::string& host,
                                              const std::vector<std::string>& cli_options,
                                              const std::optional<std::string>& config_file,
                                              const std::string& home_dir,
                                              const std::string& local_user,
                                              const ConfigFileSource& files, std::string& error,
                                              std::vector<std::string>* warnings = nullptr);

  // Parses one file's text (named `name` in messages) for `host`, with no -o options and no
  // system file; Include is resolved through `files`. For tests and the fuzzer.
  static std::optional<ClientOptions> resolve_text(const std::string& host, std::string_view text,
                                                   const std::string& name,
                                                   const std::string& home_dir,
                                                   const std::string& local_user,
                                                   const ConfigFileSource& files,
                                                   std::string& error,
                                                   std::vector<std::string>* warnings = nullptr);
};

// What hashi does with an ssh_config keyword.
enum class KeywordSupport {
  kApplied,  // the value is used
  kIgnored,  // accepted with no effect: already true of hashi, or tunes a feature it lacks
  kRefused,  // resolve fails with "file:line: Unsupported option ..." unless the value is harmless
};

struct ClientKeywordInfo {
  std::string_view name;  // lower-case
  KeywordSupport support;
  std::string_view harmless;  // kRefused: the accepted values ("none", "no|false"), else empty
};

// client_keywords lists every keyword the parser knows with its support, for tests and docs.
std::vector<ClientKeywordInfo> client_keywords();

// is_known_client_keyword reports whether OpenSSH's ssh knows `keyword` (case-insensitive), whether
// or not hashi implements it.
bool is_known_client_keyword(std::string_view keyword);

}  // namespace hashi::config
