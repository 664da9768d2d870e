#include "config/server_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "config/algorithms.h"

namespace hashi::config {
namespace {

using S = ServerOptions;

enum class Kind {
  kBool,
  kUint,
  kTime,     // seconds into an unsigned
  kString,   // one argument
  kChoice,   // one of `choices` ("a|b=canon")
  kArgs,     // all arguments joined by spaces, into a string
  kRest,     // raw rest of line (ForceCommand, commands)
  kList,     // every argument accumulates (AllowUsers, AcceptEnv, HostKey...)
  kListFirst,  // all arguments, first line wins (AuthorizedKeysFile)
  kAlgorithms,
  kRekey,
  kPort,
  kSubsystem,
  kMatch,
  kInclude,
  kIgnore,
  kDeprecated,
  kUnsupported,
};

// Where a keyword may appear (servconf.c SSHCFG_*).
enum Scope : unsigned { kGlobal = 1, kInMatch = 2, kAll = 3 };

struct Keyword {
  const char* name;
  Kind kind;
  unsigned scope = kAll;
  bool S::*b = nullptr;
  unsigned S::*u = nullptr;
  std::string S::*s = nullptr;
  std::vector<std::string> S::*v = nullptr;
  const char* choices = nullptr;
  AlgorithmKind algorithms = AlgorithmKind::kKex;
};

Keyword flag(const char* n, bool S::*m, unsigned scope) { return {n, Kind::kBool, scope, m}; }
Keyword uint(const char* n, unsigned S::*m, unsigned scope) {
  return {n, Kind::kUint, scope, nullptr, m};
}
Keyword time(const char* n, unsigned S::*m, unsigned scope) {
  return {n, Kind::kTime, scope, nullptr, m};
}
Keyword str(const char* n, std::string S::*m, unsigned scope, Kind k = Kind::kString) {
  return {n, k, scope, nullptr, nullptr, m};
}
Keyword choice(const char* n, std::string S::*m, unsigned scope, const char* choices) {
  return {n, Kind::kChoice, scope, nullptr, nullptr, m, nullptr, choices};
}
Keyword list(const char* n, std::vector<std::string> S::*m, unsigned scope,
             Kind k = Kind::kList) {
  return {n, k, scope, nullptr, nullptr, nullptr, m};
}
Keyword algos(const char* n, std::vector<std::string> S::*m, AlgorithmKind kind) {
  return {n, Kind::kAlgorithms, kGlobal, nullptr, nullptr, nullptr, m, nullptr, kind};
}
Keyword other(const char* n, Kind k, unsigned scope = kAll) { return {n, k, scope}; }

constexpr const char* kFacilities =
    "DAEMON|USER|AUTH|AUTHPRIV|LOCAL0|LOCAL1|LOCAL2|LOCAL3|LOCAL4|LOCAL5|LOCAL6|LOCAL7";

// OpenSSH 9.x servconf.c keywords; those hashi implements are bound to a field.
const std::vector<Keyword>& keywords() {
  static const std::vector<Keyword> table = {
      flag("usepam", &S::use_pam, kGlobal),
      other("pamauthenticationviakbdint", Kind::kDeprecated, kGlobal),
      other("port", Kind::kPort, kGlobal),
      list("hostkey", &S::host_keys, kGlobal),
      list("hostdsakey", &S::host_keys, kGlobal),
      str("hostkeyagent", &S::host_key_agent, kGlobal),
      str("pidfile", &S::pid_file, kGlobal),
      str("modulifile", &S::moduli_file, kGlobal),
      other("serverkeybits", Kind::kDeprecated, kGlobal),
      time("logingracetime", &S::login_grace_time, kGlobal),
      other("keyregenerationinterval", Kind::kDeprecated, kGlobal),
      choice("permitrootlogin", &S::permit_root_login, kAll,
             "yes|true=yes|no|false=no|prohibit-password|without-password=prohibit-password|"
             "forced-commands-only"),
      choice("syslogfacility", &S::syslog_facility, kGlobal, kFacilities),
      choice("loglevel", &S::log_level, kAll,
             "QUIET|FATAL|ERROR|INFO|VERBOSE|DEBUG|DEBUG1|DEBUG2|DEBUG3"),
      other("logverbose", Kind::kUnsupported),
      other("rhostsauthentication", Kind::kDeprecated, kGlobal),
      other("rhostsrsaauthentication", Kind::kDeprecated),
      flag("hostbasedauthentication", &S::hostbased_authentication, kAll),
      other("hostbasedusesnamefrompacketonly", Kind::kUnsupported),
      other("hostbasedacceptedalgorithms", Kind::kUnsupported),
      other("hostbasedacceptedkeytypes", Kind::kUnsupported),
      algos("hostkeyalgorithms", &S::host_key_algorithms, AlgorithmKind::kHostKey),
      other("rsaauthentication", Kind::kDeprecated),
      flag("pubkeyauthentication", &S::pubkey_authentication, kAll),
      str("pubkeyacceptedalgorithms", &S::pubkey_accepted_algorithms, kAll),
      str("pubkeyacceptedkeytypes", &S::pubkey_accepted_algorithms, kAll),
      other("pubkeyauthoptions", Kind::kUnsupported),
      flag("dsaauthentication", &S::pubkey_authentication, kGlobal),
      other("kerberosauthentication", Kind::kUnsupported),
      other("kerberosorlocalpasswd", Kind::kUnsupported, kGlobal),
      other("kerberosticketcleanup", Kind::kUnsupported, kGlobal),
      other("kerberosgetafstoken", Kind::kUnsupported, kGlobal),
      other("kerberostgtpassing", Kind::kUnsupported, kGlobal),
      other("afstokenpassing", Kind::kUnsupported, kGlobal),
      other("gssapiauthentication", Kind::kUnsupported),
      other("gssapicleanupcredentials", Kind::kUnsupported, kGlobal),
      other("gssapistrictacceptorcheck", Kind::kUnsupported, kGlobal),
      flag("passwordauthentication", &S::password_authentication, kAll),
      flag("kbdinteractiveauthentication", &S::kbd_interactive_authentication, kAll),
      flag("challengeresponseauthentication", &S::kbd_interactive_authentication, kAll),
      flag("skeyauthentication", &S::kbd_interactive_authentication, kAll),
      other("checkmail", Kind::kDeprecated, kGlobal),
      list("listenaddress", &S::listen_addresses, kGlobal, Kind::kArgs),
      choice("addressfamily", &S::address_family, kGlobal, "any|inet|inet6"),
      flag("printmotd", &S::print_motd, kGlobal),
      flag("printlastlog", &S::print_last_log, kGlobal),
      flag("ignorerhosts", &S::ignore_rhosts, kAll),
      other("ignoreuserknownhosts", Kind::kUnsupported, kGlobal),
      flag("x11forwarding", &S::x11_forwarding, kAll),
      uint("x11displayoffset", &S::x11_display_offset, kAll),
      flag("x11uselocalhost", &S::x11_use_localhost, kAll),
      str("xauthlocation", &S::xauth_location, kGlobal),
      flag("strictmodes", &S::strict_modes, kGlobal),
      flag("permitemptypasswords", &S::permit_empty_passwords, kAll),
      choice("permituserenvironment", &S::permit_user_environment, kGlobal,
             "yes|true=yes|no|false=no"),
      other("uselogin", Kind::kDeprecated, kGlobal),
      choice("compression", &S::compression, kGlobal, "yes|true=yes|delayed=yes|no|false=no"),
      other("rekeylimit", Kind::kRekey),
      flag("tcpkeepalive", &S::tcp_keep_alive, kGlobal),
      flag("keepalive", &S::tcp_keep_alive, kGlobal),
      choice("allowtcpforwarding", &S::allow_tcp_forwarding, kAll,
             "yes|true=yes|all=yes|no|false=no|local|remote"),
      flag("allowagentforwarding", &S::allow_agent_forwarding, kAll),
      list("allowusers", &S::allow_users, kAll),
      list("denyusers", &S::deny_users, kAll),
      list("allowgroups", &S::allow_groups, kAll),
      list("denygroups", &S::deny_groups, kAll),
      algos("ciphers", &S::ciphers, AlgorithmKind::kCipher),
      algos("macs", &S::macs, AlgorithmKind::kMac),
      other("protocol", Kind::kIgnore, kGlobal),
      choice("gatewayports", &S::gateway_ports, kAll,
             "yes|true=yes|no|false=no|clientspecified"),
      other("subsystem", Kind::kSubsystem, kGlobal),
      str("maxstartups", &S::max_startups, kGlobal),
      str("persourcemaxstartups", &S::per_source_max_startups, kGlobal),
      other("persourcenetblocksize", Kind::kUnsupported, kGlobal),
      uint("maxauthtries", &S::max_auth_tries, kAll),
      uint("maxsessions", &S::max_sessions, kAll),
      str("banner", &S::banner, kAll),
      flag("usedns", &S::use_dns, kGlobal),
      other("verifyreversemapping", Kind::kDeprecated, kGlobal),
      other("reversemappingcheck", Kind::kDeprecated, kGlobal),
      time("clientaliveinterval", &S::client_alive_interval, kAll),
      uint("clientalivecountmax", &S::client_alive_count_max, kAll),
      list("authorizedkeysfile", &S::authorized_keys_files, kAll, Kind::kListFirst),
      other("authorizedkeysfile2", Kind::kDeprecated),
      other("useprivilegeseparation", Kind::kDeprecated, kGlobal),
      list("acceptenv", &S::accept_env, kAll),
      list("setenv", &S::set_env, kAll),
      choice("permittunnel", &S::permit_tunnel, kAll,
             "yes|true=yes|no|false=no|point-to-point|ethernet"),
      flag("permittty", &S::permit_tty, kAll),
      flag("permituserrc", &S::permit_user_rc, kAll),
      other("match", Kind::kMatch),
      list("permitopen", &S::permit_open, kAll),
      list("permitlisten", &S::permit_listen, kAll),
      str("forcecommand", &S::force_command, kAll, Kind::kRest),
      str("chrootdirectory", &S::chroot_directory, kAll),
      list("hostcertificate", &S::host_certificates, kGlobal),
      str("revokedkeys", &S::revoked_keys, kAll),
      str("trustedusercakeys", &S::trusted_user_ca_keys, kAll),
      str("authorizedprincipalsfile", &S::authorized_principals_file, kAll),
      algos("kexalgorithms", &S::kex, AlgorithmKind::kKex),
      other("include", Kind::kInclude),
      other("ipqos", Kind::kUnsupported),
      str("authorizedkeyscommand", &S::authorized_keys_command, kAll, Kind::kRest),
      str("authorizedkeyscommanduser", &S::authorized_keys_command_user, kAll),
      other("authorizedprincipalscommand", Kind::kUnsupported),
      other("authorizedprincipalscommanduser", Kind::kUnsupported),
      str("versionaddendum", &S::version_addendum, kGlobal, Kind::kRest),
      str("authenticationmethods", &S::authentication_methods, kAll, Kind::kArgs),
      other("streamlocalbindmask", Kind::kUnsupported),
      other("streamlocalbindunlink", Kind::kUnsupported),
      choice("allowstreamlocalforwarding", &S::allow_stream_local_forwarding, kAll,
             "yes|true=yes|all=yes|no|false=no|local|remote"),
      choice("fingerprinthash", &S::fingerprint_hash, kGlobal, "md5|sha256"),
      flag("disableforwarding", &S::disable_forwarding, kAll),
      flag("exposeauthinfo", &S::expose_auth_info, kAll),
      other("rdomain", Kind::kUnsupported),
      other("casignaturealgorithms", Kind::kUnsupported),
      other("securitykeyprovider", Kind::kUnsupported, kGlobal),
      other("requiredrsasize", Kind::kUnsupported),
      other("channeltimeout", Kind::kUnsupported),           // 9.2
      other("unusedconnectiontimeout", Kind::kUnsupported),  // 9.2
      other("sshdsessionpath", Kind::kUnsupported, kGlobal),  // 9.8
      other("persourcepenalties", Kind::kUnsupported, kGlobal),
      other("persourcepenaltyexemptlist", Kind::kUnsupported, kGlobal),
      other("refuseconnection", Kind::kUnsupported),  // 10.0
      other("sshdauthpath", Kind::kUnsupported, kGlobal),
      // Debian's patched sshd knows these; a Debian sshd_config must load.
      other("debianbanner", Kind::kUnsupported, kGlobal),
      other("gssapikeyexchange", Kind::kUnsupported, kGlobal),
      other("gssapistorecredentialsonrekey", Kind::kUnsupported, kGlobal),
      other("gssapikexalgorithms", Kind::kUnsupported, kGlobal),
  };
  return table;
}

const Keyword* find_keyword(std::string_view name) {
  for (const auto& k : keywords()) {
    if (iequals(name, k.name)) {
      return &k;
    }
  }
  return nullptr;
}

std::optional<std::string> match_choice(std::string_view value, std::string_view choices) {
  size_t start = 0;
  while (start <= choices.size()) {
    size_t bar = choices.find('|', start);
    if (bar == std::string_view::npos) {
      bar = choices.size();
    }
    std::string_view item = choices.substr(start, bar - start);
    std::string_view canon = item;
    size_t eq = item.find('=');
    if (eq != std::string_view::npos) {
      canon = item.substr(eq + 1);
      item = item.substr(0, eq);
    }
    if (iequals(value, item)) {
      return std::string(canon);
    }
    if (bar == choices.size()) {
      break;
    }
    start = bar + 1;
  }
  return std::nullopt;
}

std::string join(const std::vector<std::string>& v, const char* sep = " ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) {
      out += sep;
    }
    out += s;
  }
  return out;
}

// Applies one directive to `o`. `seen` holds the canonical keyword of every single-valued option
// already set (first wins); in `match_mode`, a list keyword replaces the global list the first
// time it is seen. Returns an error message, empty on success.
std::string apply(ServerOptions& o, std::set<const void*>& seen, const Keyword& kw,
                  const ServerDirective& d, bool match_mode) {
  const auto& args = d.args;
  if (args.empty()) {
    return "Missing argument.";
  }
  const std::string& arg = args[0];
  const bool multi = kw.kind == Kind::kArgs || kw.kind == Kind::kRest || kw.kind == Kind::kList ||
                     kw.kind == Kind::kListFirst || kw.kind == Kind::kRekey ||
                     kw.kind == Kind::kSubsystem;
  if (!multi && args.size() > 1) {
    return "keyword " + to_lower(d.keyword) + " extra arguments at end of line";
  }
  // Identity of the option for first-wins: the member it writes (aliases share it).
  const void* id = kw.b ? static_cast<const void*>(&(o.*kw.b))
                 : kw.u ? static_cast<const void*>(&(o.*kw.u))
                 : kw.s ? static_cast<const void*>(&(o.*kw.s))
                 : kw.v ? static_cast<const void*>(&(o.*kw.v))
                        : static_cast<const void*>(kw.name);
  const bool first = seen.insert(id).second;
  switch (kw.kind) {
    case Kind::kBool: {
      auto v = parse_yes_no(arg);
      if (!v) {
        return "Bad yes/no argument: " + arg;
      }
      if (first) {
        o.*kw.b = *v;
      }
      return {};
    }
    case Kind::kUint: {
      auto v = parse_uint(arg, 0, 0x7fffffff);
      if (!v) {
        return "Bad number '" + arg + "'";
      }
      if (first) {
        o.*kw.u = static_cast<unsigned>(*v);
      }
      return {};
    }
    case Kind::kTime: {
      auto v = parse_time_interval(arg);
      if (!v) {
        return "invalid time value '" + arg + "'";
      }
      if (first) {
        o.*kw.u = static_cast<unsigned>(*v);
      }
      return {};
    }
    case Kind::kString:
      if (first) {
        o.*kw.s = arg;
      }
      return {};
    case Kind::kChoice: {
      auto v = match_choice(arg, kw.choices);
      if (!v) {
        return "unsupported option \"" + arg + "\"";
      }
      if (first) {
        o.*kw.s = *v;
      }
      return {};
    }
    case Kind::kArgs:
      if (kw.v != nullptr) {  // ListenAddress: each line one entry ("addr [rdomain x]")
        if (match_mode && first) {
          (o.*kw.v).clear();
        }
        (o.*kw.v).push_back(join(args));
      } else if (first) {
        o.*kw.s = join(args);
      }
      return {};
    case Kind::kRest:
      if (first) {
        o.*kw.s = d.raw_rest;
      }
      return {};
    case Kind::kList:
      if (match_mode && first) {
        (o.*kw.v).clear();
      }
      for (const auto& a : args) {
        (o.*kw.v).push_back(a);
      }
      return {};
    case Kind::kListFirst:
      if (first) {
        o.*kw.v = args;
      }
      return {};
    case Kind::kAlgorithms: {
      std::string why;
      auto v = apply_algorithm_spec(kw.algorithms, arg, why);
      if (!v) {
        return "Bad " + std::string(algorithm_keyword(kw.algorithms)) + " spec '" + arg +
               "': " + why;
      }
      if (first) {
        o.*kw.v = std::move(*v);
      }
      return {};
    }
    case Kind::kRekey: {
      auto v = args.size() <= 2 ? parse_rekey_limit(join(args)) : std::nullopt;
      if (!v) {
        return "Bad RekeyLimit '" + join(args) + "'";
      }
      if (first) {
        o.rekey_bytes = v->first;
        o.rekey_seconds = v->second;
      }
      return {};
    }
    case Kind::kPort: {
      auto v = parse_uint(arg, 1, 65535);
      if (!v) {
        return "Badly formatted port number.";
      }
      o.ports.push_back(static_cast<uint16_t>(*v));
      return {};
    }
    case Kind::kSubsystem: {
      if (args.size() < 2) {
        return "Missing subsystem command.";
      }
      if (o.subsystems.count(arg) != 0) {
        return "Subsystem '" + arg + "' already defined.";
      }
      std::vector<std::string> command(args.begin() + 1, args.end());
      o.subsystems[arg] = join(command);
      return {};
    }
    default:
      return "internal error: unhandled keyword";
  }
}

bool parse_ip(std::string_view text, unsigned char out[16], int& family) {
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), out) == 1) {
    family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out) == 1) {
    family = AF_INET6;
    return true;
  }
  return false;
}

// One address pattern: "a.b.c.d/len" (CIDR) or a wildcard pattern.
bool address_matches(const std::string& address, std::string_view pattern) {
  size_t slash = pattern.find('/');
  if (slash == std::string_view::npos) {
    return match_pattern(address, pattern);
  }
  unsigned char net[16] = {}, addr[16] = {};
  int net_family = 0, addr_family = 0;
  auto bits = parse_uint(pattern.substr(slash + 1), 0, 128);
  if (!bits || !parse_ip(pattern.substr(0, slash), net, net_family) ||
      !parse_ip(address, addr, addr_family) || net_family != addr_family ||
      (net_family == AF_INET && *bits > 32)) {
    return false;
  }
  for (uint64_t i = 0; i < *bits; ++i) {
    unsigned char mask = static_cast<unsigned char>(0x80 >> (i % 8));
    if ((net[i / 8] & mask) != (addr[i / 8] & mask)) {
      return false;
    }
  }
  return true;
}

// addr_match_list: 1 positive, -1 negated match, 0 none.
int address_list_matches(const std::string& address, std::string_view list) {
  bool positive = false;
  size_t start = 0;
  while (true) {
    size_t comma = list.find(',', start);
    std::string_view item =
        list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    bool negated = !item.empty() && item[0] == '!';
    if (negated) {
      item.remove_prefix(1);
    }
    if (address_matches(address, item)) {
      if (negated) {
        return -1;
      }
      positive = true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return positive ? 1 : 0;
}

bool condition_matches(const MatchCondition& c, const MatchContext& ctx) {
  const std::string& crit = c.criterion;
  if (crit == "all") {
    return true;
  }
  if (crit == "user") {
    return match_pattern_list(ctx.user, c.patterns, false) == 1;
  }
  if (crit == "group") {
    bool found = false;
    for (const auto& g : ctx.groups) {
      int r = match_pattern_list(g, c.patterns, false);
      if (r == -1) {
        return false;
      }
      found = found || r == 1;
    }
    return found;
  }
  if (crit == "host") {
    return match_pattern_list(ctx.host, c.patterns, true) == 1;
  }
  if (crit == "address") {
    return address_list_matches(ctx.address, c.patterns) == 1;
  }
  if (crit == "localaddress") {
    return address_list_matches(ctx.local_address, c.patterns) == 1;
  }
  if (crit == "localport") {
    auto port = parse_uint(c.patterns, 1, 65535);
    return port && *port == ctx.local_port;
  }
  if (crit == "rdomain") {
    return match_pattern_list(ctx.rdomain, c.patterns, false) == 1;
  }
  return false;
}

class ServerParser {
 public:
  ServerParser(const ConfigFileSource& files, std::vector<ConfigDiagnostic>& diagnostics)
      : files_(files), diagnostics_(diagnostics) {}

  ServerOptions options;

  void text(std::string_view text, const std::string& name, int depth) {
    size_t linenum = 0;
    for (std::string_view line : split_lines(text)) {
      ++linenum;
      if (++total_lines_ > kMaxTotalLines) {
        if (!too_large_) {
          too_large_ = true;
          diag(name, linenum, "configuration too large (Include loop?)", true);
        }
        return;
      }
      process_line(line, name, linenum, depth);
    }
  }

  bool file(const std::string& path) {
    bool missing = false;
    std::string why;
    auto contents = files_.read(path, missing, why);
    if (!contents) {
      diagnostics_.push_back({path, 0, why, true});
      return false;
    }
    text(*contents, path, 0);
    return true;
  }

  void command_line(const std::string& option) { process_line(option, "command-line", 0, 0); }

  // Ends the Match block state (after the -o options and after each top-level file).
  void reset_block() { block_ = -1; }

 private:
  void diag(const std::string& file, size_t line, const std::string& message, bool fatal) {
    diagnostics_.push_back({file, line, file + ":" + std::to_string(line) + ": " + message, fatal});
  }

  void process_line(std::string_view text, const std::string& file, size_t linenum, int depth) {
    ConfigLine line;
    std::string why;
    if (!split_config_line(text, line, why)) {
      diag(file, linenum, why, true);
      return;
    }
    if (line.keyword.empty()) {
      return;
    }
    const Keyword* kw = find_keyword(line.keyword);
    if (kw == nullptr) {
      diag(file, linenum, "Bad configuration option: " + to_lower(line.keyword), true);
      return;
    }
    if (block_ >= 0 && (kw->scope & kInMatch) == 0) {
      diag(file, linenum,
           "Directive '" + to_lower(line.keyword) + "' is not allowed within a Match block", true);
      return;
    }
    ServerDirective d{line.keyword, line.args, line.raw_rest, file, linenum};
    switch (kw->kind) {
      case Kind::kIgnore:
        return;
      case Kind::kDeprecated:
        diag(file, linenum, "Deprecated option " + line.keyword, false);
        return;
      case Kind::kUnsupported:
        diag(file, linenum, "Unsupported option " + line.keyword, false);
        return;
      case Kind::kMatch:
        if (file == "command-line") {
          diag(file, linenum, "Match directive not supported as a command-line option", true);
          return;
        }
        match_line(d);
        return;
      case Kind::kInclude:
        include_line(d, depth);
        return;
      default:
        break;
    }
    if (block_ >= 0) {
      // Validate now (so errors carry file:line at startup, as sshd), apply per connection.
      ServerOptions scratch;
      std::set<const void*> scratch_seen;
      std::string error = apply(scratch, scratch_seen, *kw, d, true);
      if (!error.empty()) {
        diag(file, linenum, error, true);
        return;
      }
      options.match_blocks[static_cast<size_t>(block_)].directives.push_back(std::move(d));
      return;
    }
    std::string error = apply(options, seen_, *kw, d, false);
    if (!error.empty()) {
      diag(file, linenum, error, true);
    }
  }

  void match_line(const ServerDirective& d) {
    ServerMatchBlock block;
    block.file = d.file;
    block.line = d.line;
    const auto& args = d.args;
    for (size_t i = 0; i < args.size(); ++i) {
      std::string crit = to_lower(args[i]);
      if (crit == "all") {
        if (!block.conditions.empty() || i + 1 < args.size()) {
          diag(d.file, d.line, "'all' cannot be combined with other Match attributes", true);
          return;
        }
        block.conditions.push_back({crit, ""});
        break;
      }
      static const char* const kCriteria[] = {"user",         "group",     "host",   "address",
                                              "localaddress", "localport", "rdomain"};
      if (std::find_if(std::begin(kCriteria), std::end(kCriteria),
                       [&](const char* c) { return crit == c; }) == std::end(kCriteria)) {
        diag(d.file, d.line, "Unsupported Match attribute " + args[i], true);
        return;
      }
      if (i + 1 >= args.size() || args[i + 1].empty()) {
        diag(d.file, d.line, "Missing Match criteria for " + args[i], true);
        return;
      }
      if (crit == "localport" && !parse_uint(args[i + 1], 1, 65535)) {
        diag(d.file, d.line, "Invalid LocalPort '" + args[i + 1] + "' on Match line", true);
        return;
      }
      block.conditions.push_back({crit, args[++i]});
    }
    if (block.conditions.empty()) {
      diag(d.file, d.line, "One or more attributes required for Match", true);
      return;
    }
    options.match_blocks.push_back(std::move(block));
    block_ = static_cast<int>(options.match_blocks.size() - 1);
  }

  void include_line(const ServerDirective& d, int depth) {
    if (depth >= kMaxIncludeDepth) {
      diag(d.file, d.line, "Include nesting too deep", true);
      return;
    }
    if (d.args.empty()) {
      diag(d.file, d.line, "Include missing filename argument", true);
      return;
    }
    for (const auto& arg : d.args) {
      std::string path = (!arg.empty() && arg[0] == '/') ? arg : "/etc/ssh/" + arg;
      const int outer_block = block_;
      for (const auto& match : files_.glob(path)) {
        bool missing = false;
        std::string why;
        auto contents = files_.read(match, missing, why);
        if (!contents) {
          if (!missing) {
            diag(d.file, d.line, why, true);
          }
          continue;
        }
        text(*contents, match, depth + 1);
        // A Match inside an included file ends with that file.
        block_ = outer_block;
      }
    }
  }

  const ConfigFileSource& files_;
  std::vector<ConfigDiagnostic>& diagnostics_;
  std::set<const void*> seen_;
  int block_ = -1;  // index of the Match block being read, -1 for global
  size_t total_lines_ = 0;
  bool too_large_ = false;
};

void fill_defaults(ServerOptions& o) {
  if (o.ports.empty()) {
    o.ports.push_back(22);
  }
  if (o.host_keys.empty()) {
    o.host_keys = {"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key",
                   "/etc/ssh/ssh_host_ed25519_key"};
  }
  auto def = [](std::vector<std::string>& v, AlgorithmKind kind) {
    if (v.empty()) {
      v = default_algorithms(kind);
    }
  };
  def(o.kex, AlgorithmKind::kKex);
  def(o.ciphers, AlgorithmKind::kCipher);
  def(o.macs, AlgorithmKind::kMac);
  def(o.host_key_algorithms, AlgorithmKind::kHostKey);
  // "none" clears these, as sshd's CLEAR_ON_NONE.
  for (std::string* v : {&o.banner, &o.pid_file, &o.force_command, &o.chroot_directory,
                         &o.trusted_user_ca_keys, &o.revoked_keys, &o.authorized_principals_file,
                         &o.host_key_agent, &o.xauth_location}) {
    if (iequals(*v, "none")) {
      v->clear();
    }
  }
}

std::optional<ServerOptions> finish(ServerParser& parser,
                                    const std::vector<ConfigDiagnostic>& diagnostics) {
  for (const auto& d : diagnostics) {
    if (d.fatal) {
      return std::nullopt;
    }
  }
  fill_defaults(parser.options);
  return std::move(parser.options);
}

}  // namespace

bool is_known_server_keyword(std::string_view keyword) { return find_keyword(keyword) != nullptr; }

std::optional<ServerOptions> parse_server_config(const std::string& path,
                                                 const std::vector<std::string>& cli_options,
                                                 const ConfigFileSource& files,
                                                 std::vector<ConfigDiagnostic>& diagnostics) {
  ServerParser parser(files, diagnostics);
  for (const auto& option : cli_options) {
    parser.command_line(option);
  }
  parser.reset_block();
  parser.file(path);
  return finish(parser, diagnostics);
}

std::optional<ServerOptions> parse_server_config(const std::string& path,
                                                 const std::vector<std::string>& cli_options,
                                                 std::vector<ConfigDiagnostic>& diagnostics) {
  return parse_server_config(path, cli_options, system_file_source(), diagnostics);
}

std::optional<ServerOptions> parse_server_config_text(std::string_view text,
                                                      const std::string& name,
                                                      const std::vector<std::string>& cli_options,
                                                      const ConfigFileSource& files,
                                                      std::vector<ConfigDiagnostic>& diagnostics) {
  ServerParser parser(files, diagnostics);
  for (const auto& option : cli_options) {
    parser.command_line(option);
  }
  parser.reset_block();
  parser.text(text, name, 0);
  return finish(parser, diagnostics);
}

ServerOptions resolve_match(const ServerOptions& base, const MatchContext& context) {
  ServerOptions out = base;
  std::set<const void*> seen;
  for (const auto& block : base.match_blocks) {
    bool matches = std::all_of(block.conditions.begin(), block.conditions.end(),
                               [&](const MatchCondition& c) { return condition_matches(c, context); });
    if (!matches) {
      continue;
    }
    for (const auto& d : block.directives) {
      const Keyword* kw = find_keyword(d.keyword);
      if (kw != nullptr) {
        (void)apply(out, seen, *kw, d, true);  // validated while parsing
      }
    }
  }
  return out;
}

std::string dump_server_config(const ServerOptions& o) {
  std::string out;
  auto line = [&](const char* key, const std::string& value) {
    out += key;
    out += ' ';
    out += value;
    out += '\n';
  };
  auto yn = [](bool b) { return std::string(b ? "yes" : "no"); };
  for (uint16_t p : o.ports) {
    line("port", std::to_string(p));
  }
  line("addressfamily", o.address_family);
  if (o.listen_addresses.empty()) {
    for (uint16_t p : o.ports) {
      line("listenaddress", "[::]:" + std::to_string(p));
      line("listenaddress", "0.0.0.0:" + std::to_string(p));
    }
  }
  for (const auto& a : o.listen_addresses) {
    line("listenaddress", a);
  }
  line("usepam", yn(o.use_pam));
  line("logingracetime", std::to_string(o.login_grace_time));
  line("x11displayoffset", std::to_string(o.x11_display_offset));
  line("maxauthtries", std::to_string(o.max_auth_tries));
  line("maxsessions", std::to_string(o.max_sessions));
  line("clientaliveinterval", std::to_string(o.client_alive_interval));
  line("clientalivecountmax", std::to_string(o.client_alive_count_max));
  line("permitrootlogin",
       o.permit_root_login == "prohibit-password" ? "without-password" : o.permit_root_login);
  line("ignorerhosts", yn(o.ignore_rhosts));
  line("hostbasedauthentication", yn(o.hostbased_authentication));
  line("pubkeyauthentication", yn(o.pubkey_authentication));
  line("passwordauthentication", yn(o.password_authentication));
  line("kbdinteractiveauthentication", yn(o.kbd_interactive_authentication));
  line("printmotd", yn(o.print_motd));
  line("printlastlog", yn(o.print_last_log));
  line("x11forwarding", yn(o.x11_forwarding));
  line("x11uselocalhost", yn(o.x11_use_localhost));
  line("permittty", yn(o.permit_tty));
  line("permituserrc", yn(o.permit_user_rc));
  line("strictmodes", yn(o.strict_modes));
  line("tcpkeepalive", yn(o.tcp_keep_alive));
  line("permitemptypasswords", yn(o.permit_empty_passwords));
  line("compression", o.compression);
  line("gatewayports", o.gateway_ports);
  line("usedns", yn(o.use_dns));
  line("allowtcpforwarding", o.allow_tcp_forwarding);
  line("allowagentforwarding", yn(o.allow_agent_forwarding));
  line("disableforwarding", yn(o.disable_forwarding));
  line("allowstreamlocalforwarding", o.allow_stream_local_forwarding);
  line("exposeauthinfo", yn(o.expose_auth_info));
  line("pidfile", o.pid_file);
  line("modulifile", o.moduli_file);
  line("xauthlocation", o.xauth_location);
  line("ciphers", join(o.ciphers, ","));
  line("macs", join(o.macs, ","));
  line("banner", o.banner.empty() ? "none" : o.banner);
  line("forcecommand", o.force_command.empty() ? "none" : o.force_command);
  line("chrootdirectory", o.chroot_directory.empty() ? "none" : o.chroot_directory);
  line("trustedusercakeys", o.trusted_user_ca_keys.empty() ? "none" : o.trusted_user_ca_keys);
  line("revokedkeys", o.revoked_keys.empty() ? "none" : o.revoked_keys);
  line("authorizedprincipalsfile",
       o.authorized_principals_file.empty() ? "none" : o.authorized_principals_file);
  line("versionaddendum", o.version_addendum.empty() ? "none" : o.version_addendum);
  line("authorizedkeyscommand",
       o.authorized_keys_command.empty() ? "none" : o.authorized_keys_command);
  line("authorizedkeyscommanduser",
       o.authorized_keys_command_user.empty() ? "none" : o.authorized_keys_command_user);
  line("hostkeyagent", o.host_key_agent.empty() ? "none" : o.host_key_agent);
  line("kexalgorithms", join(o.kex, ","));
  line("hostkeyalgorithms", join(o.host_key_algorithms, ","));
  if (!o.pubkey_accepted_algorithms.empty()) {
    line("pubkeyacceptedalgorithms", o.pubkey_accepted_algorithms);
  }
  line("loglevel", o.log_level);
  line("syslogfacility", o.syslog_facility);
  line("authorizedkeysfile", join(o.authorized_keys_files));
  for (const auto& k : o.host_keys) {
    line("hostkey", k);
  }
  for (const auto& c : o.host_certificates) {
    line("hostcertificate", c);
  }
  auto list = [&](const char* key, const std::vector<std::string>& v) {
    for (const auto& s : v) {
      line(key, s);
    }
  };
  list("allowusers", o.allow_users);
  list("denyusers", o.deny_users);
  list("allowgroups", o.allow_groups);
  list("denygroups", o.deny_groups);
  list("acceptenv", o.accept_env);
  list("setenv", o.set_env);
  for (const auto& [name, command] : o.subsystems) {
    line("subsystem", name + " " + command);
  }
  line("maxstartups", o.max_startups);
  line("persourcemaxstartups", o.per_source_max_startups);
  line("permittunnel", o.permit_tunnel);
  line("permituserenvironment", o.permit_user_environment);
  line("rekeylimit", std::to_string(o.rekey_bytes) + " " + std::to_string(o.rekey_seconds));
  line("fingerprinthash", o.fingerprint_hash == "md5" ? "MD5" : "SHA256");
  line("authenticationmethods", o.authentication_methods);
  line("permitopen", o.permit_open.empty() ? "any" : join(o.permit_open));
  line("permitlisten", o.permit_listen.empty() ? "any" : join(o.permit_listen));
  return out;
}

}  // namespace hashi::config
