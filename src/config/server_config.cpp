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
  kRest,     // raw rest of line (ForceCommand, commands)
  kList,     // every argument accumulates (AllowUsers, AcceptEnv, HostKey...)
  kListFirst,  // all arguments, first line wins (AuthorizedKeysFile)
  kListenAddress,
  kAlgorithms,
  kPubkeyAlgorithms,
  kRekey,
  kPort,
  kSubsystem,
  kFixed,  // applied with its one value (`only`): any other value is refused; stores nothing
  kMatch,
  kInclude,
  kIgnore,
  kDeprecated,
  kUnsupported,  // refused wherever it appears
};

// Where a keyword may appear (servconf.c SSHCFG_*). kGlobalHere: sshd allows it in Match, but
// hashi applies it only process-wide, so inside Match it is refused.
enum Scope : unsigned { kGlobal = 1, kInMatch = 2, kAll = 3, kGlobalHere = 4 | kGlobal };

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
  const char* only = nullptr;  // kFixed: the one value hashi implements
  bool dump = true;            // printed by -T (aliases are not)
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
Keyword algos(const char* n, std::vector<std::string> S::*m, AlgorithmKind kind,
              Kind k = Kind::kAlgorithms, unsigned scope = kGlobal) {
  return {n, k, scope, nullptr, nullptr, nullptr, m, nullptr, kind};
}
Keyword other(const char* n, Kind k, unsigned scope = kAll) { return {n, k, scope}; }
Keyword refused(const char* n, unsigned scope = kAll) {
  return other(n, Kind::kUnsupported, scope);
}
Keyword fixed(const char* n, const char* only, unsigned scope = kAll) {
  Keyword k = other(n, Kind::kFixed, scope);
  k.only = only;
  return k;
}
Keyword alias(Keyword k) {
  k.dump = false;
  return k;
}

constexpr const char* kFacilities =
    "DAEMON|USER|AUTH|AUTHPRIV|LOCAL0|LOCAL1|LOCAL2|LOCAL3|LOCAL4|LOCAL5|LOCAL6|LOCAL7";

// OpenSSH 10.x servconf.c keywords. Each is applied (bound to a field hashi uses, or kFixed to the
// one value that is true of hashi), refused, or deprecated as in sshd. Nothing is accepted and
// ignored: a setting that does not take effect must say so at start-up.
const std::vector<Keyword>& keywords() {
  static const std::vector<Keyword> table = {
      // Applied.
      other("port", Kind::kPort, kGlobal),
      list("listenaddress", &S::listen_addresses, kGlobal, Kind::kListenAddress),
      choice("addressfamily", &S::address_family, kGlobal, "any|inet|inet6"),
      list("hostkey", &S::host_keys, kGlobal),
      alias(list("hostdsakey", &S::host_keys, kGlobal)),
      str("pidfile", &S::pid_file, kGlobal),
      time("logingracetime", &S::login_grace_time, kGlobal),
      choice("permitrootlogin", &S::permit_root_login, kAll,
             "yes|true=yes|no|false=no|prohibit-password|without-password=prohibit-password|"
             "forced-commands-only"),
      choice("syslogfacility", &S::syslog_facility, kGlobal, kFacilities),
      choice("loglevel", &S::log_level, kGlobalHere,
             "QUIET|FATAL|ERROR|INFO|VERBOSE|DEBUG|DEBUG1|DEBUG2|DEBUG3"),
      algos("hostkeyalgorithms", &S::host_key_algorithms, AlgorithmKind::kHostKey),
      algos("ciphers", &S::ciphers, AlgorithmKind::kCipher),
      algos("macs", &S::macs, AlgorithmKind::kMac),
      algos("kexalgorithms", &S::kex, AlgorithmKind::kKex),
      algos("pubkeyacceptedalgorithms", &S::pubkey_accepted_algorithms, AlgorithmKind::kHostKey,
            Kind::kPubkeyAlgorithms, kGlobalHere),
      alias(algos("pubkeyacceptedkeytypes", &S::pubkey_accepted_algorithms,
                  AlgorithmKind::kHostKey, Kind::kPubkeyAlgorithms, kGlobalHere)),
      other("rekeylimit", Kind::kRekey, kGlobalHere),
      flag("pubkeyauthentication", &S::pubkey_authentication, kAll),
      list("authorizedkeysfile", &S::authorized_keys_files, kAll, Kind::kListFirst),
      str("revokedkeys", &S::revoked_keys, kAll),
      list("allowusers", &S::allow_users, kAll),
      list("denyusers", &S::deny_users, kAll),
      list("allowgroups", &S::allow_groups, kAll),
      list("denygroups", &S::deny_groups, kAll),
      uint("maxauthtries", &S::max_auth_tries, kAll),
      uint("maxsessions", &S::max_sessions, kAll),
      str("forcecommand", &S::force_command, kAll, Kind::kRest),
      other("subsystem", Kind::kSubsystem, kGlobal),
      list("acceptenv", &S::accept_env, kAll),
      list("setenv", &S::set_env, kAll),
      choice("permituserenvironment", &S::permit_user_environment, kGlobal,
             "yes|true=yes|no|false=no"),
      other("match", Kind::kMatch),
      other("include", Kind::kInclude),
      // Applied with the one value that is true of hashi.
      fixed("usepam", "no", kGlobal),
      fixed("passwordauthentication", "no"),
      fixed("kbdinteractiveauthentication", "no"),
      alias(fixed("challengeresponseauthentication", "no")),
      alias(fixed("skeyauthentication", "no")),
      fixed("hostbasedauthentication", "no"),
      fixed("permitemptypasswords", "no"),
      fixed("gssapiauthentication", "no"),
      fixed("kerberosauthentication", "no"),
      fixed("authenticationmethods", "any"),
      fixed("ignorerhosts", "yes"),
      fixed("strictmodes", "no", kGlobal),
      fixed("printmotd", "no", kGlobal),
      fixed("printlastlog", "no", kGlobal),
      fixed("usedns", "no", kGlobal),
      fixed("compression", "no", kGlobal),
      fixed("tcpkeepalive", "yes", kGlobal),
      alias(fixed("keepalive", "yes", kGlobal)),
      fixed("x11forwarding", "no"),
      fixed("allowtcpforwarding", "no"),
      fixed("allowagentforwarding", "no"),
      fixed("allowstreamlocalforwarding", "no"),
      fixed("gatewayports", "no"),
      fixed("disableforwarding", "yes"),
      fixed("permittunnel", "no"),
      fixed("permittty", "no"),
      fixed("permituserrc", "no"),
      fixed("exposeauthinfo", "no"),
      fixed("banner", "none"),
      fixed("chrootdirectory", "none"),
      fixed("trustedusercakeys", "none"),
      fixed("authorizedprincipalsfile", "none"),
      fixed("authorizedkeyscommand", "none"),
      fixed("versionaddendum", "none", kGlobal),
      fixed("fingerprinthash", "sha256", kGlobal),
      // Deprecated or ignored by OpenSSH itself.
      other("protocol", Kind::kIgnore, kGlobal),
      other("pamauthenticationviakbdint", Kind::kDeprecated, kGlobal),
      other("serverkeybits", Kind::kDeprecated, kGlobal),
      other("keyregenerationinterval", Kind::kDeprecated, kGlobal),
      other("rhostsauthentication", Kind::kDeprecated, kGlobal),
      other("rhostsrsaauthentication", Kind::kDeprecated),
      other("rsaauthentication", Kind::kDeprecated),
      other("dsaauthentication", Kind::kDeprecated, kGlobal),
      other("checkmail", Kind::kDeprecated, kGlobal),
      other("uselogin", Kind::kDeprecated, kGlobal),
      other("verifyreversemapping", Kind::kDeprecated, kGlobal),
      other("reversemappingcheck", Kind::kDeprecated, kGlobal),
      other("authorizedkeysfile2", Kind::kDeprecated),
      other("useprivilegeseparation", Kind::kDeprecated, kGlobal),
      // Refused: hashi does not implement them.
      refused("modulifile", kGlobal),
      refused("hostkeyagent", kGlobal),
      refused("hostcertificate", kGlobal),
      refused("logverbose"),
      refused("hostbasedusesnamefrompacketonly"),
      refused("hostbasedacceptedalgorithms"),
      refused("hostbasedacceptedkeytypes"),
      refused("pubkeyauthoptions"),
      refused("kerberosorlocalpasswd", kGlobal),
      refused("kerberosticketcleanup", kGlobal),
      refused("kerberosgetafstoken", kGlobal),
      refused("kerberostgtpassing", kGlobal),
      refused("afstokenpassing", kGlobal),
      refused("gssapicleanupcredentials", kGlobal),
      refused("gssapistrictacceptorcheck", kGlobal),
      refused("ignoreuserknownhosts", kGlobal),
      refused("x11displayoffset"),
      refused("x11uselocalhost"),
      refused("xauthlocation", kGlobal),
      refused("maxstartups", kGlobal),
      refused("persourcemaxstartups", kGlobal),
      refused("persourcenetblocksize", kGlobal),
      refused("clientaliveinterval"),
      refused("clientalivecountmax"),
      refused("permitopen"),
      refused("permitlisten"),
      refused("ipqos"),
      refused("authorizedkeyscommanduser"),
      refused("authorizedprincipalscommand"),
      refused("authorizedprincipalscommanduser"),
      refused("streamlocalbindmask"),
      refused("streamlocalbindunlink"),
      refused("rdomain"),
      refused("casignaturealgorithms"),
      refused("securitykeyprovider", kGlobal),
      refused("requiredrsasize"),
      refused("channeltimeout"),            // 9.2
      refused("unusedconnectiontimeout"),   // 9.2
      refused("sshdsessionpath", kGlobal),  // 9.8
      refused("persourcepenalties", kGlobal),
      refused("persourcepenaltyexemptlist", kGlobal),
      refused("refuseconnection"),  // 10.0
      refused("sshdauthpath", kGlobal),
      // Debian's patched sshd knows these; refused like the rest.
      refused("debianbanner", kGlobal),
      refused("gssapikeyexchange", kGlobal),
      refused("gssapistorecredentialsonrekey", kGlobal),
      refused("gssapikexalgorithms", kGlobal),
  };
  return table;
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

// check_fixed accepts the one value of a kFixed keyword (yes/no synonyms included) and refuses
// any other, naming the value that is in force.
std::string check_fixed(const Keyword& kw, const ServerDirective& d) {
  const std::string value = join(d.args);
  const auto want = parse_yes_no(kw.only);
  const bool ok = want ? parse_yes_no(value) == want : iequals(value, kw.only);
  if (ok) {
    return {};
  }
  return "Unsupported option " + d.keyword + " " + value + ": hashi-server supports only " +
         d.keyword + " " + kw.only;
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
  const bool multi = kw.kind == Kind::kListenAddress || kw.kind == Kind::kRest ||
                     kw.kind == Kind::kList || kw.kind == Kind::kListFirst ||
                     kw.kind == Kind::kRekey || kw.kind == Kind::kSubsystem;
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
    case Kind::kListenAddress:  // each line one entry ("addr [rdomain x]")
      if (args.size() > 1) {
        return "Unsupported option " + d.keyword + " " + join(args) +
               ": rdomain is not supported";
      }
      (o.*kw.v).push_back(arg);
      return {};
    case Kind::kFixed:
      return check_fixed(kw, d);
    case Kind::kRest:
      if (iequals(arg, "internal-sftp")) {
        return "Unsupported option " + d.keyword + " internal-sftp: give the sftp-server path";
      }
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
    case Kind::kPubkeyAlgorithms: {
      // The signature algorithms hashi verifies are exactly its host-key signature algorithms.
      std::string why;
      auto v = apply_algorithm_spec(kw.algorithms, arg, why);
      if (!v) {
        return "Bad " + d.keyword + " spec '" + arg + "': " + why;
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
      if (iequals(args[1], "internal-sftp")) {
        return "Unsupported option Subsystem " + arg +
               " internal-sftp: give the path of an sftp server program";
      }
      std::vector<std::string> command(args.begin() + 1, args.end());
      o.subsystems[arg] = join(command);
      return {};
    }
    default:
      return "internal error: unhandled keyword";
  }
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
    return match_address_list(ctx.address, c.patterns) == 1;
  }
  if (crit == "localaddress") {
    return match_address_list(ctx.local_address, c.patterns) == 1;
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
    const Keyword* kw = find_keyword(keywords(), line.keyword);
    if (kw == nullptr) {
      diag(file, linenum, "Bad configuration option: " + to_lower(line.keyword), true);
      return;
    }
    if (block_ >= 0 && kw->scope == kGlobalHere) {
      diag(file, linenum,
           "Unsupported option " + line.keyword +
               " inside Match: hashi-server applies it only globally",
           true);
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
        diag(file, linenum, "Unsupported option " + line.keyword, true);
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

// "none" clears these, as sshd's CLEAR_ON_NONE (globally and after a Match applies).
void clear_none(ServerOptions& o) {
  for (std::string* v : {&o.pid_file, &o.force_command, &o.revoked_keys}) {
    if (iequals(*v, "none")) {
      v->clear();
    }
  }
}

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
  def(o.pubkey_accepted_algorithms, AlgorithmKind::kHostKey);
  clear_none(o);
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

namespace {

// One AllowUsers/DenyUsers entry, as sshd's match_user: "pattern" or "pattern@host", where the
// host part is matched against the client's address (wildcards, CIDR, !negation).
bool user_entry_matches(const std::string& user, const std::string& address,
                        std::string_view entry) {
  const size_t at = entry.find('@');
  if (match_pattern_list(user, entry.substr(0, at), false) != 1) {
    return false;
  }
  return at == std::string_view::npos || match_address_list(address, entry.substr(at + 1)) == 1;
}

bool any_user_entry(const std::vector<std::string>& entries, const std::string& user,
                    const std::string& address) {
  return std::any_of(entries.begin(), entries.end(), [&](const std::string& e) {
    return user_entry_matches(user, address, e);
  });
}

// sshd's ga_match: one of the user's groups matches one of the entries.
bool any_group_entry(const std::vector<std::string>& entries,
                     const std::vector<std::string>& groups) {
  for (const auto& entry : entries) {
    for (const auto& g : groups) {
      if (match_pattern_list(g, entry, false) == 1) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::optional<std::string> allowed_user(const ServerOptions& o, const std::string& user,
                                        const std::vector<std::string>& groups,
                                        const std::string& address) {
  if (any_user_entry(o.deny_users, user, address)) {
    return "listed in DenyUsers";
  }
  if (!o.allow_users.empty() && !any_user_entry(o.allow_users, user, address)) {
    return "not listed in AllowUsers";
  }
  if (o.deny_groups.empty() && o.allow_groups.empty()) {
    return std::nullopt;
  }
  if (groups.empty()) {
    return "not in any group";
  }
  if (any_group_entry(o.deny_groups, groups)) {
    return "a group is listed in DenyGroups";
  }
  if (!o.allow_groups.empty() && !any_group_entry(o.allow_groups, groups)) {
    return "none of user's groups are listed in AllowGroups";
  }
  return std::nullopt;
}

bool is_known_server_keyword(std::string_view keyword) { return find_keyword(keywords(), keyword) != nullptr; }

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
      const Keyword* kw = find_keyword(keywords(), d.keyword);
      if (kw != nullptr) {
        (void)apply(out, seen, *kw, d, true);  // validated while parsing
      }
    }
  }
  clear_none(out);
  return out;
}

std::string dump_server_config(const ServerOptions& o) {
  std::string out;
  auto line = [&](std::string_view key, const std::string& value) {
    out += key;
    out += ' ';
    out += value;
    out += '\n';
  };
  auto lines = [&](std::string_view key, const std::vector<std::string>& values) {
    for (const auto& v : values) {
      line(key, v);
    }
  };
  auto or_none = [](const std::string& v) { return v.empty() ? std::string("none") : v; };
  for (uint16_t p : o.ports) {
    line("port", std::to_string(p));
  }
  line("addressfamily", o.address_family);
  if (o.listen_addresses.empty()) {
    for (uint16_t p : o.ports) {
      if (o.address_family != "inet") {
        line("listenaddress", "[::]:" + std::to_string(p));
      }
      if (o.address_family != "inet6") {
        line("listenaddress", "0.0.0.0:" + std::to_string(p));
      }
    }
  }
  lines("listenaddress", o.listen_addresses);
  lines("hostkey", o.host_keys);
  line("pidfile", or_none(o.pid_file));
  line("logingracetime", std::to_string(o.login_grace_time));
  line("permitrootlogin",
       o.permit_root_login == "prohibit-password" ? "without-password" : o.permit_root_login);
  line("syslogfacility", o.syslog_facility);
  line("loglevel", o.log_level);
  line("hostkeyalgorithms", join(o.host_key_algorithms, ","));
  line("ciphers", join(o.ciphers, ","));
  line("macs", join(o.macs, ","));
  line("kexalgorithms", join(o.kex, ","));
  line("pubkeyacceptedalgorithms", join(o.pubkey_accepted_algorithms, ","));
  line("rekeylimit", std::to_string(o.rekey_bytes) + " " + std::to_string(o.rekey_seconds));
  line("pubkeyauthentication", o.pubkey_authentication ? "yes" : "no");
  line("authorizedkeysfile", join(o.authorized_keys_files));
  line("revokedkeys", or_none(o.revoked_keys));
  lines("allowusers", o.allow_users);
  lines("denyusers", o.deny_users);
  lines("allowgroups", o.allow_groups);
  lines("denygroups", o.deny_groups);
  line("maxauthtries", std::to_string(o.max_auth_tries));
  line("maxsessions", std::to_string(o.max_sessions));
  line("forcecommand", or_none(o.force_command));
  for (const auto& [name, command] : o.subsystems) {
    line("subsystem", name + " " + command);
  }
  lines("acceptenv", o.accept_env);
  lines("setenv", o.set_env);
  line("permituserenvironment", o.permit_user_environment);
  // The settings fixed to the one value hashi implements.
  for (const auto& kw : keywords()) {
    if (kw.kind == Kind::kFixed && kw.dump) {
      line(kw.name, kw.only);
    }
  }
  return out;
}

std::vector<KeywordInfo> server_keyword_states() {
  std::vector<KeywordInfo> out;
  for (const auto& kw : keywords()) {
    KeywordInfo info;
    info.name = kw.name;
    info.state = kw.kind == Kind::kUnsupported  ? KeywordState::kRefused
                 : kw.kind == Kind::kDeprecated || kw.kind == Kind::kIgnore
                     ? KeywordState::kDeprecated
                     : KeywordState::kApplied;
    info.only_value = kw.only ? kw.only : "";
    info.in_match = (kw.scope & kInMatch) != 0 && kw.scope != kGlobalHere;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace hashi::config
