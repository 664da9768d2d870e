#include "config/client_config.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "config/algorithms.h"

namespace hashi::config {
namespace {

using StrField = std::optional<std::string> ClientOptions::*;
using ListField = std::vector<std::string> ClientOptions::*;

enum class Kind {
  kString,      // one argument, first wins
  kFlag,        // yes/no/true/false -> "yes"/"no"
  kChoice,      // one of `choices` ("a|b=canonical|c")
  kUint,        // decimal number
  kTime,        // time interval -> seconds as decimal text; "none" allowed when choices says so
  kAlgorithms,  // algorithm spec, validated
  kRekey,       // RekeyLimit
  kRestOfLine,  // the raw rest of the line (commands)
  kArgsJoined,  // all arguments joined by spaces, first wins
  kMulti,       // one argument per line, accumulates
  kMultiArgs,   // every argument accumulates
  kFileList,    // several paths: raw text in `str`, split paths in `list`; first wins
  kPort,
  kHost,
  kMatch,
  kInclude,
  kIgnore,       // silently ignored (Protocol)
  kDeprecated,   // OpenSSH: "Deprecated option"
  kUnsupported,  // OpenSSH knows it; hashi does not implement it yet
};

struct Keyword {
  const char* name;
  Kind kind;
  StrField str = nullptr;
  ListField list = nullptr;
  const char* choices = nullptr;
  AlgorithmKind algorithms = AlgorithmKind::kKex;
  KeywordSupport support = KeywordSupport::kApplied;
  // For kRefused: the values ("a|b", case-insensitive) that are true of hashi already and so are
  // accepted ("ProxyJump none", "ForwardAgent no"); any other value is refused.
  const char* harmless = nullptr;
};

using O = ClientOptions;
using S = KeywordSupport;
constexpr const char* kYesNoAsk = "yes|true=yes|no|false=no|ask";
constexpr const char* kNo = "no|false";
constexpr const char* kNone = "none";

// OpenSSH 10.x readconf.c keywords. Each is applied, accepted with no effect (kIgnored: what it
// asks for is already true of hashi, or it only tunes a feature hashi lacks), or refused
// (kRefused: it would change where or how the connection goes, or weaken a check, and hashi
// does not do it). docs/usage.md lists the same decisions; the unit test walks this table.
const Keyword kKeywords[] = {
    {"host", Kind::kHost},
    {"match", Kind::kMatch},
    {"include", Kind::kInclude},
    {"hostname", Kind::kString, &O::hostname},
    {"user", Kind::kString, &O::user},
    {"port", Kind::kPort},
    {"loglevel", Kind::kChoice, &O::log_level, nullptr,
     "QUIET|FATAL|ERROR|INFO|VERBOSE|DEBUG|DEBUG1|DEBUG2|DEBUG3"},
    {"kexalgorithms", Kind::kAlgorithms, &O::kex, nullptr, nullptr, AlgorithmKind::kKex},
    {"ciphers", Kind::kAlgorithms, &O::ciphers, nullptr, nullptr, AlgorithmKind::kCipher},
    {"macs", Kind::kAlgorithms, &O::macs, nullptr, nullptr, AlgorithmKind::kMac},
    {"hostkeyalgorithms", Kind::kAlgorithms, &O::host_key_algorithms, nullptr, nullptr,
     AlgorithmKind::kHostKey},
    {"rekeylimit", Kind::kRekey, &O::rekey_limit},
    {"stricthostkeychecking", Kind::kChoice, &O::strict_host_key_checking, nullptr,
     "yes|true=yes|no|false=no|off=no|ask|accept-new"},
    {"batchmode", Kind::kFlag, &O::batch_mode},
    {"connecttimeout", Kind::kTime, &O::connect_timeout, nullptr, "none"},
    {"userknownhostsfile", Kind::kFileList, &O::user_known_hosts_file_raw,
     &O::user_known_hosts_files},
    {"globalknownhostsfile", Kind::kFileList, &O::global_known_hosts_file_raw,
     &O::global_known_hosts_files},
    {"hashknownhosts", Kind::kFlag, &O::hash_known_hosts},
    {"updatehostkeys", Kind::kChoice, &O::update_host_keys, nullptr, kYesNoAsk},
    {"hostkeyalias", Kind::kString, &O::host_key_alias},
    {"identityfile", Kind::kMulti, nullptr, &O::identity_files},
    {"identityfile2", Kind::kMulti, nullptr, &O::identity_files},
    {"ignoreunknown", Kind::kString, &O::ignore_unknown},
    {"tag", Kind::kString, &O::tag},
    {"remotecommand", Kind::kRestOfLine, &O::remote_command},
    {"stdinnull", Kind::kFlag, &O::stdin_null},
    {"sendenv", Kind::kMultiArgs, nullptr, &O::send_env},
    {"setenv", Kind::kMultiArgs, nullptr, &O::set_env},
    // SessionType none is -N; a subsystem (-s) is not implemented.
    {.name = "sessiontype",
     .kind = Kind::kChoice,
     .str = &O::session_type,
     .choices = "none|subsystem|default",
     .support = S::kRefused,
     .harmless = "none|default"},
    // No terminal support: "auto" never allocates one (hashi says so when that differs from ssh).
    {.name = "requesttty",
     .kind = Kind::kChoice,
     .str = &O::request_tty,
     .choices = "no|false=no|yes|true=yes|force|auto",
     .support = S::kRefused,
     .harmless = "no|false|auto"},
    // Where the connection goes.
    {.name = "proxycommand",
     .kind = Kind::kRestOfLine,
     .str = &O::proxy_command,
     .support = S::kRefused,
     .harmless = kNone},
    {.name = "proxyjump",
     .kind = Kind::kString,
     .str = &O::proxy_jump,
     .support = S::kRefused,
     .harmless = kNone},
    {.name = "proxyusefdpass", .kind = Kind::kUnsupported, .support = S::kRefused, .harmless = kNo},
    {.name = "bindaddress", .kind = Kind::kString, .str = &O::bind_address, .support = S::kRefused},
    {.name = "bindinterface", .kind = Kind::kUnsupported, .support = S::kRefused},
    {.name = "addressfamily",
     .kind = Kind::kChoice,
     .str = &O::address_family,
     .choices = "any|inet|inet6",
     .support = S::kRefused,
     .harmless = "any"},
    {.name = "canonicalizehostname",
     .kind = Kind::kUnsupported,
     .support = S::kRefused,
     .harmless = kNo},
    {.name = "refuseconnection",
     .kind = Kind::kUnsupported,
     .support = S::kRefused,
     .harmless = kNo},
    // Connection sharing, backgrounding, forwarding of every kind.
    {.name = "controlmaster",
     .kind = Kind::kChoice,
     .str = &O::control_master,
     .choices = "yes|true=yes|no|false=no|ask|auto|autoask",
     .support = S::kRefused,
     .harmless = kNo},
    {.name = "controlpath",
     .kind = Kind::kString,
     .str = &O::control_path,
     .support = S::kRefused,
     .harmless = kNone},
    {.name = "controlpersist",
     .kind = Kind::kString,
     .str = &O::control_persist,
     .support = S::kRefused,
     .harmless = kNo},
    {.name = "forkafterauthentication",
     .kind = Kind::kFlag,
     .str = &O::fork_after_authentication,
     .support = S::kRefused,
     .harmless = kNo},
    {.name = "localforward",
     .kind = Kind::kArgsJoined,
     .list = &O::local_forwards,
     .support = S::kRefused},
    {.name = "remoteforward",
     .kind = Kind::kArgsJoined,
     .list = &O::remote_forwards,
     .support = S::kRefused},
    {.name = "dynamicforward",
     .kind = Kind::kArgsJoined,
     .list = &O::dynamic_forwards,
     .support = S::kRefused},
    {.name = "exitonforwardfailure",
     .kind = Kind::kFlag,
     .str = &O::exit_on_forward_failure,
     .support = S::kRefused,
     .harmless = kNo},
    {.name = "gatewayports",
     .kind = Kind::kFlag,
     .str = &O::gateway_ports,
     .support = S::kRefused,
     .harmless = kNo},
    {.name = "forwardagent",
     .kind = Kind::kString,
     .str = &O::forward_agent,
     .support = S::kRefused,
     .harmless = kNo},
    {.name = "forwardx11",
     .kind = Kind::kFlag,
     .str = &O::forward_x11,
     .support = S::kRefused,
     .harmless = kNo},
    {.name = "tunnel", .kind = Kind::kUnsupported, .support = S::kRefused, .harmless = kNo},
    {.name = "compression",
     .kind = Kind::kFlag,
     .str = &O::compression,
     .support = S::kRefused,
     .harmless = kNo},
    // Local programs run by the client.
    {.name = "localcommand",
     .kind = Kind::kRestOfLine,
     .str = &O::local_command,
     .support = S::kRefused,
     .harmless = kNone},
    {.name = "permitlocalcommand",
     .kind = Kind::kFlag,
     .str = &O::permit_local_command,
     .support = S::kRefused,
     .harmless = kNo},
    {.name = "knownhostscommand",
     .kind = Kind::kRestOfLine,
     .str = &O::known_hosts_command,
     .support = S::kRefused,
     .harmless = kNone},
    // Checks and key sources hashi does not have: ignoring them would weaken or change
    // authentication behind the user's back.
    {.name = "checkhostip",
     .kind = Kind::kFlag,
     .str = &O::check_host_ip,
     .support = S::kRefused,
     .harmless = kNo},
    {.name = "verifyhostkeydns",
     .kind = Kind::kUnsupported,
     .support = S::kRefused,
     .harmless = kNo},
    {.name = "revokedhostkeys",
     .kind = Kind::kString,
     .str = &O::revoked_host_keys,
     .support = S::kRefused,
     .harmless = kNone},
    {.name = "requiredrsasize",
     .kind = Kind::kUnsupported,
     .support = S::kRefused,
     .harmless = "1024"},
    {.name = "pubkeyauthentication",
     .kind = Kind::kChoice,
     .str = &O::pubkey_authentication,
     .choices = "yes|true=yes|no|false=no|unbound|host-bound",
     .support = S::kRefused,
     .harmless = "yes|true|unbound|host-bound"},
    {.name = "dsaauthentication",
     .kind = Kind::kChoice,
     .str = &O::pubkey_authentication,
     .choices = "yes|true=yes|no|false=no|unbound|host-bound",
     .support = S::kRefused,
     .harmless = "yes|true|unbound|host-bound"},
    {.name = "certificatefile",
     .kind = Kind::kMulti,
     .list = &O::certificate_files,
     .support = S::kRefused,
     .harmless = kNone},
    {.name = "identityagent",
     .kind = Kind::kString,
     .str = &O::identity_agent,
     .support = S::kRefused,
     .harmless = kNone},
    {.name = "pkcs11provider",
     .kind = Kind::kUnsupported,
     .support = S::kRefused,
     .harmless = kNone},
    {.name = "smartcarddevice",
     .kind = Kind::kUnsupported,
     .support = S::kRefused,
     .harmless = kNone},
    {.name = "securitykeyprovider",
     .kind = Kind::kUnsupported,
     .support = S::kRefused,
     .harmless = "internal"},
    // Accepted, no effect: hashi already does what they ask (only files are identities, only
    // publickey is tried, nothing is forwarded, host keys are always checked), or they tune a
    // feature hashi lacks (terminal, escape characters, agent, X11, password prompts).
    {.name = "identitiesonly",
     .kind = Kind::kFlag,
     .str = &O::identities_only,
     .support = S::kIgnored},
    {.name = "preferredauthentications",
     .kind = Kind::kString,
     .str = &O::preferred_authentications,
     .support = S::kIgnored},
    {.name = "passwordauthentication",
     .kind = Kind::kFlag,
     .str = &O::password_authentication,
     .support = S::kIgnored},
    {.name = "kbdinteractiveauthentication",
     .kind = Kind::kFlag,
     .str = &O::kbd_interactive_authentication,
     .support = S::kIgnored},
    {.name = "challengeresponseauthentication",
     .kind = Kind::kFlag,
     .str = &O::kbd_interactive_authentication,
     .support = S::kIgnored},
    {.name = "skeyauthentication",
     .kind = Kind::kFlag,
     .str = &O::kbd_interactive_authentication,
     .support = S::kIgnored},
    {.name = "tisauthentication",
     .kind = Kind::kFlag,
     .str = &O::kbd_interactive_authentication,
     .support = S::kIgnored},
    {.name = "hostbasedauthentication",
     .kind = Kind::kFlag,
     .str = &O::hostbased_authentication,
     .support = S::kIgnored},
    {.name = "forwardx11trusted",
     .kind = Kind::kFlag,
     .str = &O::forward_x11_trusted,
     .support = S::kIgnored},
    {.name = "tcpkeepalive",
     .kind = Kind::kFlag,
     .str = &O::tcp_keep_alive,
     .support = S::kIgnored},
    {.name = "keepalive", .kind = Kind::kFlag, .str = &O::tcp_keep_alive, .support = S::kIgnored},
    {.name = "visualhostkey",
     .kind = Kind::kFlag,
     .str = &O::visual_host_key,
     .support = S::kIgnored},
    {.name = "clearallforwardings",
     .kind = Kind::kFlag,
     .str = &O::clear_all_forwardings,
     .support = S::kIgnored},
    {.name = "nohostauthenticationforlocalhost",
     .kind = Kind::kFlag,
     .str = &O::no_host_authentication_for_localhost,
     .support = S::kIgnored},
    {.name = "serveraliveinterval",
     .kind = Kind::kTime,
     .str = &O::server_alive_interval,
     .support = S::kIgnored},
    {.name = "serveralivecountmax",
     .kind = Kind::kUint,
     .str = &O::server_alive_count_max,
     .support = S::kIgnored},
    {.name = "connectionattempts",
     .kind = Kind::kUint,
     .str = &O::connection_attempts,
     .support = S::kIgnored},
    {.name = "numberofpasswordprompts",
     .kind = Kind::kUint,
     .str = &O::number_of_password_prompts,
     .support = S::kIgnored},
    {.name = "addkeystoagent",
     .kind = Kind::kString,
     .str = &O::add_keys_to_agent,
     .support = S::kIgnored},
    {.name = "escapechar", .kind = Kind::kString, .str = &O::escape_char, .support = S::kIgnored},
    {.name = "fingerprinthash",
     .kind = Kind::kChoice,
     .str = &O::fingerprint_hash,
     .choices = "md5|sha256",
     .support = S::kIgnored},
    {.name = "xauthlocation",
     .kind = Kind::kString,
     .str = &O::xauth_location,
     .support = S::kIgnored},
    {.name = "pubkeyacceptedalgorithms",
     .kind = Kind::kString,
     .str = &O::pubkey_accepted_algorithms,
     .support = S::kIgnored},
    {.name = "pubkeyacceptedkeytypes",
     .kind = Kind::kString,
     .str = &O::pubkey_accepted_algorithms,
     .support = S::kIgnored},
    {.name = "casignaturealgorithms",
     .kind = Kind::kString,
     .str = &O::ca_signature_algorithms,
     .support = S::kIgnored},
    {.name = "syslogfacility",
     .kind = Kind::kChoice,
     .str = &O::syslog_facility,
     .choices = "DAEMON|USER|AUTH|AUTHPRIV|LOCAL0|LOCAL1|LOCAL2|LOCAL3|LOCAL4|LOCAL5|LOCAL6|LOCAL7",
     .support = S::kIgnored},
    // Silently ignored / deprecated, as in OpenSSH.
    {.name = "protocol", .kind = Kind::kIgnore, .support = S::kIgnored},
    {.name = "cipher", .kind = Kind::kDeprecated, .support = S::kIgnored},
    {.name = "fallbacktorsh", .kind = Kind::kDeprecated, .support = S::kIgnored},
    {.name = "globalknownhostsfile2", .kind = Kind::kDeprecated, .support = S::kIgnored},
    {.name = "rhostsauthentication", .kind = Kind::kDeprecated, .support = S::kIgnored},
    {.name = "userknownhostsfile2", .kind = Kind::kDeprecated, .support = S::kIgnored},
    {.name = "useroaming", .kind = Kind::kDeprecated, .support = S::kIgnored},
    {.name = "usersh", .kind = Kind::kDeprecated, .support = S::kIgnored},
    {.name = "useprivilegedport", .kind = Kind::kDeprecated, .support = S::kIgnored},
    // Known to OpenSSH, not implemented by hashi, and harmless to leave out (methods not tried,
    // tuning of features hashi lacks): accepted with a note at -v.
    {.name = "afstokenpassing", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "kerberosauthentication", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "kerberostgtpassing", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "rsaauthentication", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "rhostsrsaauthentication", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "compressionlevel", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "gssapiauthentication", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "gssapidelegatecredentials", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "forwardx11timeout", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "kbdinteractivedevices", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "permitremoteopen", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "logverbose", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "enablesshkeysign", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "tunneldevice", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "ipqos", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "canonicaldomains", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "canonicalizefallbacklocal", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "canonicalizemaxdots", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "canonicalizepermittedcnames", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "streamlocalbindmask", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "streamlocalbindunlink", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "hostbasedacceptedalgorithms", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "hostbasedkeytypes", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "enableescapecommandline", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "obscurekeystroketiming", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "channeltimeout", .kind = Kind::kUnsupported, .support = S::kIgnored},
    {.name = "warnweakcrypto", .kind = Kind::kUnsupported, .support = S::kIgnored},
};



struct FileContext {
  std::string name;
  bool user_config = true;  // Include relative to ~/.ssh (else /etc/ssh); ~ allowed
  bool never_match = false;
};

class ClientParser {
 public:
  ClientParser(std::string host, std::string home, std::string local_user,
               const ConfigFileSource& files, std::vector<std::string>* warnings)
      : host_(to_lower(host)),
        original_host_(std::move(host)),
        home_(std::move(home)),
        local_user_(std::move(local_user)),
        files_(files),
        warnings_(warnings) {}

  ClientOptions options;
  std::string error;
  bool want_final_pass = false;
  bool final_pass = false;

  bool command_line(const std::string& option) {
    bool active = true;
    FileContext ctx{"command-line", true, false};
    return process_line(option, ctx, 0, active, 0);
  }

  // Reads and parses a top-level file. A missing file is fine unless `must_exist`.
  bool file(const std::string& path, bool user_config, bool must_exist) {
    bool missing = false;
    std::string why;
    auto text = files_.read(path, missing, why);
    if (!text) {
      if (missing && !must_exist) {
        return true;
      }
      error = "Can't open user config file " + path + ": " + why;
      return false;
    }
    bool active = true;
    return text_of(*text, FileContext{path, user_config, false}, active, 0);
  }

  bool text_of(std::string_view text, const FileContext& ctx, bool& active, int depth) {
    size_t linenum = 0;
    for (std::string_view line : split_lines(text)) {
      ++linenum;
      if (++total_lines_ > kMaxTotalLines) {
        return fail(ctx, linenum, "configuration too large (Include loop?)");
      }
      if (!process_line(line, ctx, linenum, active, depth)) {
        return false;
      }
    }
    return true;
  }

 private:
  std::string where(const FileContext& ctx, size_t linenum) const {
    return ctx.name + ":" + std::to_string(linenum) + ": ";
  }

  bool fail(const FileContext& ctx, size_t linenum, const std::string& message) {
    error = where(ctx, linenum) + message;
    return false;
  }

  void warn(const FileContext& ctx, size_t linenum, const std::string& message) {
    if (warnings_ != nullptr) {
      warnings_->push_back(where(ctx, linenum) + message);
    }
  }

  bool process_line(std::string_view text, const FileContext& ctx, size_t linenum, bool& active,
                    int depth) {
    ConfigLine line;
    std::string why;
    if (!split_config_line(text, line, why)) {
      return fail(ctx, linenum, why);
    }
    if (line.keyword.empty()) {
      return true;
    }
    const Keyword* kw = find_keyword(kKeywords, line.keyword);
    if (kw == nullptr) {
      // IgnoreUnknown applies to keywords after it (OpenSSH checks the value set so far).
      if (options.ignore_unknown &&
          match_pattern_list(to_lower(line.keyword), *options.ignore_unknown, true) == 1) {
        return true;
      }
      return fail(ctx, linenum, "Bad configuration option: " + to_lower(line.keyword));
    }
    const auto& args = line.args;
    const bool cmdline = ctx.name == "command-line";
    if (kw->support == KeywordSupport::kRefused && takes_effect(*kw, active) &&
        !is_harmless(*kw, args)) {
      return fail(
          ctx, linenum,
          "Unsupported option \"" + to_lower(line.keyword) + "\": not implemented by hashi");
    }
    switch (kw->kind) {
      case Kind::kHost:
        if (cmdline) {
          return fail(ctx, linenum, "Host directive not supported as a command-line option");
        }
        active = host_line(args, ctx);
        return true;
      case Kind::kMatch:
        if (cmdline) {
          return fail(ctx, linenum, "Match directive not supported as a command-line option");
        }
        return match_line(args, ctx, linenum, active);
      case Kind::kInclude:
        if (cmdline) {
          return fail(ctx, linenum, "Include directive not supported as a command-line option");
        }
        return include_line(args, ctx, linenum, active, depth);
      case Kind::kIgnore:
        return true;
      case Kind::kDeprecated:
        warn(ctx, linenum, "Deprecated option \"" + to_lower(line.keyword) + "\"");
        return true;
      case Kind::kUnsupported:
        warn(ctx, linenum, "Unsupported option \"" + to_lower(line.keyword) + "\"");
        return true;
      default:
        break;
    }
    if (args.empty()) {
      return fail(ctx, linenum, "Missing argument.");
    }
    const std::string& arg = args[0];
    const bool one_arg = kw->kind != Kind::kRestOfLine && kw->kind != Kind::kArgsJoined &&
                         kw->kind != Kind::kMultiArgs && kw->kind != Kind::kFileList &&
                         kw->kind != Kind::kRekey;
    if (one_arg && args.size() > 1) {
      return fail(ctx, linenum, "keyword " + to_lower(line.keyword) + " extra arguments at end of line");
    }
    auto set = [&](std::string value) {
      if (active && !(options.*(kw->str))) {
        options.*(kw->str) = std::move(value);
      }
      return true;
    };
    switch (kw->kind) {
      case Kind::kString:
        return set(arg);
      case Kind::kFlag: {
        auto v = parse_yes_no(arg);
        if (!v) {
          return fail(ctx, linenum, "Bad yes/no argument: " + arg);
        }
        return set(*v ? "yes" : "no");
      }
      case Kind::kChoice: {
        auto v = match_choice(arg, kw->choices);
        if (!v) {
          return fail(ctx, linenum, "unsupported option \"" + arg + "\".");
        }
        return set(*v);
      }
      case Kind::kUint: {
        auto v = parse_uint(arg, 0, 0x7fffffff);
        if (!v) {
          return fail(ctx, linenum, "Bad number.");
        }
        return set(std::to_string(*v));
      }
      case Kind::kTime: {
        if (kw->choices != nullptr && iequals(arg, kw->choices)) {
          return set(to_lower(arg));
        }
        auto v = parse_time_interval(arg);
        if (!v) {
          return fail(ctx, linenum, "invalid time value.");
        }
        return set(std::to_string(*v));
      }
      case Kind::kAlgorithms: {
        std::string why2;
        if (!apply_algorithm_spec(kw->algorithms, arg, why2)) {
          return fail(ctx, linenum,
                      "Bad " + std::string(algorithm_keyword(kw->algorithms)) + " spec '" + arg +
                          "': " + why2);
        }
        return set(arg);
      }
      case Kind::kRekey: {
        std::string joined;
        for (const auto& a : args) {
          joined += (joined.empty() ? "" : " ") + a;
        }
        if (args.size() > 2 || !parse_rekey_limit(joined)) {
          return fail(ctx, linenum, "Bad RekeyLimit '" + joined + "'");
        }
        return set(joined);
      }
      case Kind::kRestOfLine:
        return set(line.raw_rest);
      case Kind::kArgsJoined: {
        std::string joined;
        for (const auto& a : args) {
          joined += (joined.empty() ? "" : " ") + a;
        }
        if (active) {
          (options.*(kw->list)).push_back(joined);
        }
        return true;
      }
      case Kind::kMulti:
        if (active) {
          auto& list = options.*(kw->list);
          if (std::find(list.begin(), list.end(), arg) == list.end()) {
            list.push_back(arg);
          }
        }
        return true;
      case Kind::kMultiArgs:
        if (active) {
          auto& list = options.*(kw->list);
          list.insert(list.end(), args.begin(), args.end());
        }
        return true;
      case Kind::kFileList: {
        if (active && !(options.*(kw->str))) {
          std::string joined;
          for (const auto& a : args) {
            joined += (joined.empty() ? "" : " ") + a;
          }
          options.*(kw->str) = joined;
          options.*(kw->list) = args;
        }
        return true;
      }
      case Kind::kPort: {
        auto v = parse_uint(arg, 1, 65535);
        if (!v) {
          return fail(ctx, linenum, "Badly formatted port number.");
        }
        if (active && !options.port) {
          options.port = static_cast<uint16_t>(*v);
        }
        return true;
      }
      default:
        return fail(ctx, linenum, "internal error: unhandled keyword");
    }
  }

  // Whether this line would set the option: its section applies and, for a single-valued
  // keyword, no earlier line set it (the first value wins, so a later one changes nothing).
  bool takes_effect(const Keyword& kw, bool active) const {
    if (!active) {
      return false;
    }
    if (kw.str != nullptr) {
      return !(options.*(kw.str));
    }
    // ClearAllForwardings yes (scp and sftp pass it) drops every forwarding (readconf.c).
    const bool forward = kw.list == &ClientOptions::local_forwards ||
                         kw.list == &ClientOptions::remote_forwards ||
                         kw.list == &ClientOptions::dynamic_forwards;
    return !(forward && options.clear_all_forwardings == "yes");
  }

  // A value of a refused keyword that asks for what hashi does anyway ("ProxyJump none").
  static bool is_harmless(const Keyword& kw, const std::vector<std::string>& args) {
    return kw.harmless != nullptr && args.size() == 1 && match_choice(args[0], kw.harmless);
  }

  // Host: active if any pattern matches and no negated pattern matches (readconf.c oHost).
  bool host_line(const std::vector<std::string>& args, const FileContext& ctx) const {
    if (ctx.never_match) {
      return false;
    }
    bool active = false;
    for (const auto& a : args) {
      std::string_view pattern = a;
      bool negated = !pattern.empty() && pattern[0] == '!';
      if (negated) {
        pattern.remove_prefix(1);
      }
      if (match_pattern(host_, pattern)) {
        if (negated) {
          return false;
        }
        active = true;
      }
    }
    return active;
  }

  // Match (readconf.c match_cfg_line). Sets `active` to the result.
  bool match_line(const std::vector<std::string>& args, const FileContext& ctx, size_t linenum,
                  bool& active) {
    if (args.empty()) {
      return fail(ctx, linenum, "One or more attributes required for Match");
    }
    bool result = true;
    size_t attributes = 0;
    for (size_t i = 0; i < args.size(); ++i) {
      std::string_view attrib = args[i];
      bool negate = !attrib.empty() && attrib[0] == '!';
      if (negate) {
        attrib.remove_prefix(1);
      }
      if (iequals(attrib, "all")) {
        if (attributes > 1 || i + 1 < args.size()) {
          return fail(ctx, linenum,
                      "'" + args[i] + "' cannot be combined with other Match attributes");
        }
        if (result) {
          result = !negate;
        }
        break;
      }
      ++attributes;
      if (iequals(attrib, "canonical") || iequals(attrib, "final")) {
        if (iequals(attrib, "final")) {
          want_final_pass = true;
        }
        // hashi does not canonicalize host names, so "canonical" is true only in the final pass.
        bool r = final_pass;
        if (r == negate) {
          result = false;
        }
        continue;
      }
      if (i + 1 >= args.size()) {
        return fail(ctx, linenum, "Missing Match criteria for " + std::string(attrib));
      }
      const std::string& arg = args[++i];
      bool r = false;
      if (iequals(attrib, "host")) {
        r = match_pattern_list(match_host(), arg, true) == 1;
      } else if (iequals(attrib, "originalhost")) {
        r = match_pattern_list(original_host_, arg, true) == 1;
      } else if (iequals(attrib, "user")) {
        r = match_pattern_list(options.user ? *options.user : local_user_, arg, false) == 1;
      } else if (iequals(attrib, "localuser")) {
        r = match_pattern_list(local_user_, arg, false) == 1;
      } else if (iequals(attrib, "tagged")) {
        r = match_pattern_list(options.tag ? *options.tag : "", arg, false) == 1;
      } else if (iequals(attrib, "exec") || iequals(attrib, "localnetwork")) {
        return fail(ctx, linenum, "Match " + to_lower(attrib) + " is not supported by hashi");
      } else {
        return fail(ctx, linenum, "Unsupported Match attribute " + std::string(attrib));
      }
      if (r == negate) {
        result = false;
      }
    }
    active = result && !ctx.never_match;
    return true;
  }

  // The host "Match host" tests: HostName (with %h expanded) once set, else the host argument.
  std::string match_host() const {
    if (!options.hostname) {
      return host_;
    }
    std::string out;
    const std::string& h = *options.hostname;
    for (size_t i = 0; i < h.size(); ++i) {
      if (h[i] == '%' && i + 1 < h.size() && h[i + 1] == 'h') {
        out += host_;
        ++i;
      } else {
        out.push_back(h[i]);
      }
    }
    return out;
  }

  bool include_line(const std::vector<std::string>& args, const FileContext& ctx, size_t linenum,
                    bool& active, int depth) {
    if (depth >= kMaxIncludeDepth) {
      return fail(ctx, linenum, "Include nesting too deep");
    }
    for (const auto& arg : args) {
      std::string path;
      if (!arg.empty() && arg[0] == '~') {
        if (!ctx.user_config) {
          return fail(ctx, linenum, "tilde expansion not allowed in system config");
        }
        path = (arg == "~" || arg.rfind("~/", 0) == 0) ? home_ + arg.substr(1) : arg;
      } else if (!arg.empty() && arg[0] == '/') {
        path = arg;
      } else if (ctx.user_config) {
        path = home_ + "/.ssh/" + arg;
      } else {
        path = "/etc/ssh/" + arg;
      }
      const bool outer_active = active;
      for (const auto& match : files_.glob(path)) {
        bool missing = false;
        std::string why;
        auto text = files_.read(match, missing, why);
        if (!text) {
          if (missing) {
            continue;
          }
          return fail(ctx, linenum, "Can't open user config file " + match + ": " + why);
        }
        FileContext inner{match, ctx.user_config, ctx.never_match || !outer_active};
        if (!text_of(*text, inner, active, depth + 1)) {
          return false;
        }
        // A Host or Match in an included file does not change the including file's state.
        active = outer_active;
      }
    }
    return true;
  }

  std::string host_;
  std::string original_host_;
  std::string home_;
  std::string local_user_;
  const ConfigFileSource& files_;
  std::vector<std::string>* warnings_;
  size_t total_lines_ = 0;
};

std::string sha1_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &md_len, EVP_sha1(), nullptr) != 1) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < md_len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

}  // namespace

bool is_known_client_keyword(std::string_view keyword) { return find_keyword(kKeywords, keyword) != nullptr; }

std::vector<ClientKeywordInfo> client_keywords() {
  std::vector<ClientKeywordInfo> out;
  for (const auto& k : kKeywords) {
    out.push_back({k.name, k.support, k.harmless != nullptr ? k.harmless : ""});
  }
  return out;
}

namespace {

// Appends the expansion of token `t` to `out`; false if `t` is not a token.
bool expand_token(char t, const TokenValues& v, std::string& out) {
  switch (t) {
    case '%': out.push_back('%'); return true;
    case 'h': out += v.remote_host; return true;
    case 'p': out += std::to_string(v.port); return true;
    case 'r': out += v.remote_user; return true;
    case 'u': out += v.local_user; return true;
    case 'd': out += v.home_dir; return true;
    case 'l': out += v.local_host; return true;
    case 'L': out += v.local_host_short; return true;
    case 'n': out += v.original_host; return true;
    case 'i': out += v.uid; return true;
    case 'j': out += v.jump_host; return true;
    case 'k': out += v.host_key_alias; return true;
    case 'C':
      out += sha1_hex(v.local_host + v.remote_host + std::to_string(v.port) + v.remote_user);
      return true;
    default:
      return false;
  }
}

// Shared by both expanders; with `strict`, a bad token is an error, else it is kept as written.
std::optional<std::string> expand(std::string_view s, const TokenValues& v, bool strict,
                                  std::string& error) {
  std::string out;
  size_t i = 0;
  if (!s.empty() && s[0] == '~' && (s.size() == 1 || s[1] == '/')) {
    out = v.home_dir;
    i = 1;
  }
  for (; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 1 >= s.size()) {
      if (strict) {
        error = "trailing %";
        return std::nullopt;
      }
      out.push_back('%');
      continue;
    }
    char t = s[++i];
    if (!expand_token(t, v, out)) {
      if (strict) {
        error = std::string("unknown token %") + t;
        return std::nullopt;
      }
      out.push_back('%');
      out.push_back(t);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> expand_tokens_checked(std::string_view s, const TokenValues& v,
                                                 std::string& error) {
  return expand(s, v, true, error);
}

std::string expand_tokens(std::string_view s, const TokenValues& v) {
  std::string unused;
  return *expand(s, v, false, unused);
}

void apply_client_defaults(ClientOptions& o, const std::string& home_dir) {
  auto tilde = [&](const std::string& p) {
    return (p == "~" || p.rfind("~/", 0) == 0) ? home_dir + p.substr(1) : p;
  };
  auto def = [](std::optional<std::string>& field, const char* value) {
    if (!field) {
      field = value;
    }
  };
  if (!o.port) {
    o.port = 22;
  }
  if (o.identity_files.empty()) {
    for (const char* f : {"/.ssh/id_rsa", "/.ssh/id_ecdsa", "/.ssh/id_ed25519"}) {
      o.identity_files.push_back(home_dir + f);
    }
  }
  for (auto& f : o.identity_files) {
    f = tilde(f);
  }
  if (o.user_known_hosts_files.empty()) {
    o.user_known_hosts_files = {home_dir + "/.ssh/known_hosts", home_dir + "/.ssh/known_hosts2"};
  }
  for (auto& f : o.user_known_hosts_files) {
    f = tilde(f);
  }
  if (o.global_known_hosts_files.empty()) {
    o.global_known_hosts_files = {"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"};
  }
  struct Algo {
    std::optional<std::string>* field;
    AlgorithmKind kind;
  };
  for (Algo a : {Algo{&o.kex, AlgorithmKind::kKex}, Algo{&o.ciphers, AlgorithmKind::kCipher},
                 Algo{&o.macs, AlgorithmKind::kMac},
                 Algo{&o.host_key_algorithms, AlgorithmKind::kHostKey}}) {
    std::string error;
    std::optional<std::vector<std::string>> list;
    if (*a.field) {
      list = apply_algorithm_spec(a.kind, **a.field, error);
    }
    *a.field = join_names(list ? *list : default_algorithms(a.kind));
  }
  def(o.strict_host_key_checking, "ask");
  def(o.batch_mode, "no");
  def(o.log_level, "INFO");
  def(o.identities_only, "no");
  def(o.password_authentication, "yes");
  def(o.pubkey_authentication, "yes");
  def(o.kbd_interactive_authentication, "yes");
  def(o.hostbased_authentication, "no");
  def(o.preferred_authentications, "publickey,keyboard-interactive,password");
  def(o.request_tty, "auto");
  def(o.forward_agent, "no");
  def(o.forward_x11, "no");
  def(o.forward_x11_trusted, "no");
  def(o.compression, "no");
  def(o.tcp_keep_alive, "yes");
  def(o.check_host_ip, "no");
  def(o.exit_on_forward_failure, "no");
  def(o.gateway_ports, "no");
  def(o.hash_known_hosts, "no");
  def(o.visual_host_key, "no");
  def(o.update_host_keys, "no");
  def(o.server_alive_interval, "0");
  def(o.server_alive_count_max, "3");
  def(o.connection_attempts, "1");
  def(o.number_of_password_prompts, "3");
  def(o.connect_timeout, "none");
  def(o.rekey_limit, "default none");
  def(o.address_family, "any");
  def(o.escape_char, "~");
  def(o.fingerprint_hash, "sha256");
  def(o.add_keys_to_agent, "no");
  def(o.session_type, "default");
  def(o.stdin_null, "no");
  def(o.fork_after_authentication, "no");
  def(o.permit_local_command, "no");
}

std::optional<ClientOptions> ClientConfig::resolve(const std::string& host,
                                                   const std::vector<std::string>& cli_options,
                                                   const std::optional<std::string>& config_file,
                                                   const std::string& home_dir,
                                                   const std::string& local_user,
                                                   const ConfigFileSource& files,
                                                   std::string& error,
                                                   std::vector<std::string>* warnings) {
  ClientParser parser(host, home_dir, local_user, files, warnings);
  for (const auto& option : cli_options) {
    if (!parser.command_line(option)) {
      error = parser.error;
      return std::nullopt;
    }
  }
  auto read_files = [&]() {
    if (config_file) {
      if (*config_file == "none") {
        return true;
      }
      return parser.file(*config_file, true, true);
    }
    return parser.file(home_dir + "/.ssh/config", true, false) &&
           parser.file("/etc/ssh/ssh_config", false, false);
  };
  if (!read_files()) {
    error = parser.error;
    return std::nullopt;
  }
  if (parser.want_final_pass) {
    // "Match final": parse the files once more with the host name settled (readconf.c).
    parser.final_pass = true;
    if (!read_files()) {
      error = parser.error;
      return std::nullopt;
    }
  }
  return std::move(parser.options);
}

std::optional<ClientOptions> ClientConfig::resolve(const std::string& host,
                                                   const std::vector<std::string>& cli_options,
                                                   const std::optional<std::string>& config_file,
                                                   const std::string& home_dir,
                                                   const std::string& local_user,
                                                   std::string& error,
                                                   std::vector<std::string>* warnings) {
  return resolve(host, cli_options, config_file, home_dir, local_user, system_file_source(),
                 error, warnings);
}

std::optional<ClientOptions> ClientConfig::resolve_text(
    const std::string& host, std::string_view text, const std::string& name,
    const std::string& home_dir, const std::string& local_user, const ConfigFileSource& files,
    std::string& error, std::vector<std::string>* warnings) {
  ClientParser parser(host, home_dir, local_user, files, warnings);
  bool active = true;
  if (!parser.text_of(text, FileContext{name, true, false}, active, 0)) {
    error = parser.error;
    return std::nullopt;
  }
  if (parser.want_final_pass) {
    parser.final_pass = true;
    active = true;
    if (!parser.text_of(text, FileContext{name, true, false}, active, 0)) {
      error = parser.error;
      return std::nullopt;
    }
  }
  return std::move(parser.options);
}

}  // namespace hashi::config
