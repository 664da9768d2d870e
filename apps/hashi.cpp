// hashi: the client program, OpenSSH ssh's twin (same flags, same files, same exit status).
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <asio.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/host_trust.h"
#include "client/hostkeys_update.h"
#include "config/algorithms.h"
#include "config/client_config.h"
#include "keys/key.h"
#include "net/driver.h"
#include "net/tcp.h"
#include "wire/writer.h"

namespace {

using namespace hashi;

struct Args {
  std::vector<std::string> options;  // -o and the flags that map onto config keywords
  std::optional<std::string> config_file;
  std::string destination;
  std::optional<std::string> command;
  int verbose = 0;
  bool quiet = false;
  bool no_command = false;
  bool stdin_null = false;
};

// Restores descriptors' flags at exit: the session's endpoint makes them non-blocking, and
// stdin/stdout/stderr may be shared with a shell.
class RestoreFlags {
 public:
  explicit RestoreFlags(std::initializer_list<int> fds) {
    for (int fd : fds) saved_.emplace_back(fd, fcntl(fd, F_GETFL));
  }
  ~RestoreFlags() {
    for (auto [fd, flags] : saved_) {
      if (flags >= 0) fcntl(fd, F_SETFL, flags);
    }
  }
  RestoreFlags(const RestoreFlags&) = delete;
  RestoreFlags& operator=(const RestoreFlags&) = delete;

 private:
  std::vector<std::pair<int, int>> saved_;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: hashi [-2aknNqTVvx] [-c cipher_spec] [-e escape_char] [-F configfile]\n"
               "             [-i identity_file] [-l login_name] [-m mac_spec] [-o option]\n"
               "             [-P tag] [-p port] destination [command [argument ...]]\n"
               "(-4 -6 -A -B -b -C -D -E -f -G -g -I -J -K -L -M -O -Q -R -S -s -t -W -w -X -Y -y\n"
               " are refused: see docs/usage.md)\n");
  std::exit(255);
}

int log_level_from(const config::ClientOptions& o, const Args& a) {
  if (a.quiet) return -1;
  if (a.verbose > 0) return a.verbose;
  std::string l = o.log_level.value_or("INFO");
  for (auto& c : l) c = char(std::toupper(static_cast<unsigned char>(c)));
  if (l == "QUIET" || l == "FATAL" || l == "ERROR") return -1;
  if (l == "DEBUG" || l == "DEBUG1") return 1;
  if (l == "DEBUG2") return 2;
  if (l == "DEBUG3") return 3;
  return 0;
}

// Flags hashi does not implement: refused before any connection, rather than connecting some
// other way than asked. (-J, -S, -I, -b, -B and -P map onto keywords and are decided there, so
// "-J none" is accepted as ssh accepts it.)
struct RefusedFlag {
  char letter;
  const char* what;
};
constexpr RefusedFlag kRefusedFlags[] = {
    {'1', "SSH protocol 1"},
    {'4', "forcing IPv4 (AddressFamily)"},
    {'6', "forcing IPv6 (AddressFamily)"},
    {'A', "agent forwarding"},
    {'C', "compression"},
    {'D', "dynamic port forwarding"},
    {'E', "a log file"},
    {'f', "going to the background"},
    {'G', "printing the configuration"},
    {'g', "gateway ports"},
    {'K', "GSSAPI authentication"},
    {'L', "local port forwarding"},
    {'M', "connection sharing (ControlMaster)"},
    {'O', "control commands (ControlMaster)"},
    {'Q', "querying algorithms"},
    {'R', "remote port forwarding"},
    {'s', "subsystems"},
    {'t', "a terminal (pty)"},
    {'W', "stdio forwarding"},
    {'w', "tunnel device forwarding"},
    {'X', "X11 forwarding"},
    {'Y', "X11 forwarding"},
    {'y', "logging to syslog"},
};

[[noreturn]] void refuse_flag(char letter, const char* what) {
  std::fprintf(stderr, "hashi: -%c: %s is not implemented\n", letter, what);
  std::exit(255);
}

void refuse_if_unimplemented(int opt) {
  for (const auto& r : kRefusedFlags) {
    if (r.letter == opt) refuse_flag(r.letter, r.what);
  }
}

// Flags that give a keyword's value; the keyword table then applies or refuses it, so that
// "-J none" is accepted as "ProxyJump none" is.
constexpr std::pair<char, const char*> kFlagKeywords[] = {
    {'l', "User"},          {'i', "IdentityFile"}, {'c', "Ciphers"},        {'m', "MACs"},
    {'J', "ProxyJump"},     {'S', "ControlPath"},  {'I', "PKCS11Provider"}, {'b', "BindAddress"},
    {'B', "BindInterface"}, {'P', "Tag"},
};

const char* flag_keyword(int opt) {
  for (const auto& [letter, keyword] : kFlagKeywords) {
    if (letter == opt) return keyword;
  }
  return nullptr;
}

Args parse_args(int argc, char** argv) {
  Args a;
  // The same option letters as OpenSSH's ssh, so scripts pass through unchanged.
  const char* optstring = "1246ab:c:e:fgi:kl:m:no:p:qstvxAB:CD:E:F:GI:J:KL:MNO:P:Q:R:S:TVw:W:XYy";
  int opt;
  opterr = 0;
  while ((opt = getopt(argc, argv, optstring)) != -1) {
    refuse_if_unimplemented(opt);
    if (const char* keyword = flag_keyword(opt)) {
      a.options.push_back(std::string(keyword) + "=" + optarg);
      continue;
    }
    switch (opt) {
      case 'p':
        if (!config::parse_uint(optarg, 1, 65535)) {
          std::fprintf(stderr, "hashi: Bad port '%s'\n", optarg);
          std::exit(255);
        }
        a.options.push_back(std::string("Port=") + optarg);
        break;
      case 'o':
        a.options.push_back(optarg);
        break;
      case 'F': a.config_file = optarg; break;
      case 'v': ++a.verbose; break;
      case 'q': a.quiet = true; break;
      case 'N': a.no_command = true; break;
      case 'n': a.stdin_null = true; break;
      case 'T':
        a.options.push_back("RequestTTY=no");
        break;
      case 'V':
        std::fprintf(stderr, "hashi 0.1, %s\n", OpenSSL_version(OPENSSL_VERSION));
        std::exit(0);
      // -2 (protocol 2), -a and -x (no agent or X11 forwarding), -k (no GSSAPI delegation) ask
      // for what hashi does anyway. -e sets the escape character, which only acts on a terminal,
      // and hashi has none.
      case '2':
      case 'a':
      case 'x':
      case 'k':
      case 'e':
        break;
      default:
        usage();  // '?': an unknown letter or a missing argument
    }
  }
  if (optind >= argc) usage();
  a.destination = argv[optind++];
  if (optind < argc) {
    std::string cmd;
    for (int i = optind; i < argc; ++i) {
      if (!cmd.empty()) cmd += ' ';
      cmd += argv[i];
    }
    a.command = cmd;
  }
  return a;
}

struct Destination {
  std::string user;  // empty: none given
  std::string host;
  std::optional<uint16_t> port;
};

// Splits user@host (the last '@' separates, as ssh) and ssh://[user@]host[:port] URIs (a
// bracketed IPv6 address keeps its colons). Returns nullopt and sets `error` on an empty user or
// host or a port that is not a number in 1-65535.
std::optional<Destination> parse_destination(const std::string& dest, std::string& error) {
  Destination out;
  std::string d = dest;
  const bool uri = d.rfind("ssh://", 0) == 0;
  if (uri) d = d.substr(6);
  if (uri && !d.empty() && d.back() == '/') d.pop_back();  // ssh://host/ as ssh accepts
  auto at = d.rfind('@');
  if (at != std::string::npos) {
    out.user = d.substr(0, at);
    d = d.substr(at + 1);
    if (out.user.empty()) {
      error = "empty user name in destination '" + dest + "'";
      return std::nullopt;
    }
  }
  if (uri) {
    auto close = d.rfind(']');
    auto colon = d.rfind(':');
    if (colon != std::string::npos && (close == std::string::npos || colon > close)) {
      auto port = config::parse_uint(d.substr(colon + 1), 1, 65535);
      if (!port) {
        error = "bad port '" + d.substr(colon + 1) + "' in destination '" + dest + "'";
        return std::nullopt;
      }
      out.port = uint16_t(*port);
      d = d.substr(0, colon);
    }
    if (d.size() >= 2 && d.front() == '[' && d.back() == ']') d = d.substr(1, d.size() - 2);
  }
  if (d.empty()) {
    error = "empty host name in destination '" + dest + "'";
    return std::nullopt;
  }
  out.host = d;
  return out;
}

// SetEnv NAME=VALUE items, then the SendEnv patterns matched against our environment (a pattern
// starting with '-' removes the ones before it that it matches, as ssh_config(5) says).
std::vector<std::pair<std::string, std::string>> session_env(const config::ClientOptions& o) {
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& item : o.set_env) {
    auto eq = item.find('=');
    if (eq != std::string::npos && eq > 0)
      env.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  std::vector<std::string> patterns;
  for (const auto& p : o.send_env) {
    if (!p.empty() && p[0] == '-') {
      std::erase_if(patterns, [&](const std::string& q) {
        return config::match_pattern(q, std::string_view(p).substr(1));
      });
    } else {
      patterns.push_back(p);
    }
  }
  for (char** e = environ; !patterns.empty() && *e != nullptr; ++e) {
    std::string_view var(*e);
    auto eq = var.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(var.substr(0, eq));
    for (const auto& p : patterns) {
      if (config::match_pattern(name, p)) {
        env.emplace_back(name, std::string(var.substr(eq + 1)));
        break;
      }
    }
  }
  return env;
}

// What the connection does: one session channel running `command` (nullopt: the shell), or none.
struct SessionPlan {
  bool no_session = false;
  std::optional<std::string> command;
};

// What the session runs: the command line's command, else RemoteCommand (tokens expanded), else
// the shell; no session at all with -N or SessionType none. Returns false, with the message ssh
// prints, when both a command and RemoteCommand are given.
bool session_command(const Args& args, const config::ClientOptions& o,
                     const config::TokenValues& tokens, int level, SessionPlan& cc) {
  if (args.no_command || o.session_type == "none") {
    cc.no_session = true;
    return true;
  }
  const bool remote = o.remote_command && *o.remote_command != "none";
  if (args.command && remote) {
    std::fprintf(stderr, "Cannot execute command-line and remote command.\n");
    return false;
  }
  if (args.command) {
    cc.command = args.command;
  } else if (remote) {
    cc.command = config::expand_tokens(*o.remote_command, tokens);
  }
  // RequestTTY auto would give an interactive shell a terminal; hashi has none, so say so
  // rather than leave the user wondering why there is no prompt.
  if (!cc.command && o.request_tty == "auto" && level >= 0 && isatty(STDIN_FILENO)) {
    std::fprintf(stderr,
                 "Pseudo-terminal will not be allocated because hashi does not implement "
                 "terminals.\n");
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  std::string dest_error;
  auto dest = parse_destination(args.destination, dest_error);
  if (!dest) {
    std::fprintf(stderr, "hashi: %s\n", dest_error.c_str());
    return 255;
  }
  const std::string host = dest->host;
  if (!dest->user.empty()) args.options.insert(args.options.begin(), "User=" + dest->user);
  if (dest->port) args.options.push_back("Port=" + std::to_string(*dest->port));

  struct passwd* pw = getpwuid(getuid());
  std::string home = pw ? pw->pw_dir : (getenv("HOME") ? getenv("HOME") : "/");
  std::string local_user = pw ? pw->pw_name : "unknown";

  std::string error;
  std::vector<std::string> warnings;
  auto opts = config::ClientConfig::resolve(host, args.options, args.config_file, home, local_user,
                                            error, &warnings);
  if (!opts) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 255;
  }
  config::apply_client_defaults(*opts, home);
  int level = log_level_from(*opts, args);
  auto debug = [level](int l, const std::string& m) {
    if (l <= level) std::fprintf(stderr, "debug%d: %s\n", l, m.c_str());
  };
  for (const auto& w : warnings) debug(1, w);

  config::TokenValues tokens;
  tokens.original_host = host;
  tokens.remote_host = opts->hostname ? config::expand_tokens(*opts->hostname, tokens) : host;
  tokens.port = opts->port.value_or(22);
  tokens.remote_user = opts->user.value_or(local_user);
  tokens.local_user = local_user;
  tokens.home_dir = home;
  tokens.host_key_alias = opts->host_key_alias.value_or(host);
  std::string hostname = tokens.remote_host;
  uint16_t port = tokens.port;

  SessionPlan plan;
  if (!session_command(args, *opts, tokens, level, plan)) return 255;
  session::SessionConfig cc;
  cc.role = session::Role::kClient;
  cc.user = tokens.remote_user;
  auto list = [&](const std::optional<std::string>& v, config::AlgorithmKind kind) {
    return v ? wire::split_names(*v) : config::default_algorithms(kind);
  };
  cc.transport.kex_algorithms = list(opts->kex, config::AlgorithmKind::kKex);
  cc.transport.ciphers = list(opts->ciphers, config::AlgorithmKind::kCipher);
  cc.transport.macs = list(opts->macs, config::AlgorithmKind::kMac);
  cc.transport.host_key_algorithms = list(opts->host_key_algorithms, config::AlgorithmKind::kHostKey);
  if (opts->rekey_limit) {
    if (auto rl = config::parse_rekey_limit(*opts->rekey_limit)) {
      cc.transport.rekey_bytes = rl->first;
      cc.transport.rekey_interval = std::chrono::seconds(rl->second);
    }
  }

  // Identities: every IdentityFile that exists and loads; a missing default file is silent.
  for (const auto& raw : opts->identity_files) {
    std::string path = config::expand_tokens(raw, tokens);
    if (access(path.c_str(), F_OK) != 0) {
      debug(1, "identity file " + path + " type -1");
      continue;
    }
    std::string err;
    auto key = keys::PrivateKey::load_file(path, "", err);
    if (!key) {
      std::fprintf(stderr, "Load key \"%s\": %s\n", path.c_str(), err.c_str());
      continue;
    }
    debug(1, "identity file " + path + " type " + std::string(key->public_key().type_name()));
    cc.identities.push_back(std::make_shared<keys::PrivateKey>(std::move(*key)));
  }

  client::HostTrust trust;
  trust.host = host;
  trust.port = port;
  if (opts->host_key_alias) trust.alias = *opts->host_key_alias;
  trust.strict = opts->strict_host_key_checking.value_or("ask");
  trust.batch_mode = opts->batch_mode.value_or("no") == "yes";
  for (const auto& f : opts->user_known_hosts_files) {
    trust.user_files.push_back(config::expand_tokens(f, tokens));
  }
  for (const auto& f : opts->global_known_hosts_files) {
    trust.global_files.push_back(config::expand_tokens(f, tokens));
  }
  trust.hash_new_entries = opts->hash_known_hosts.value_or("no") == "yes";
  trust.default_user_file = home + "/.ssh/known_hosts";
  // UpdateHostKeys: OpenSSH's default is yes unless UserKnownHostsFile or VerifyHostKeyDNS was
  // set (ssh_config(5)).
  std::string update_host_keys = opts->update_host_keys.value_or(
      opts->user_known_hosts_file_raw ? "no" : "yes");

  // Connect.
  std::chrono::milliseconds timeout{0};
  if (opts->connect_timeout && *opts->connect_timeout != "none") {
    timeout = std::chrono::seconds(std::atoi(opts->connect_timeout->c_str()));
  }
  debug(1, "Connecting to " + hostname + " port " + std::to_string(port) + ".");
  asio::io_context io;
  std::error_code ec;
  asio::ip::tcp::socket sock(io);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        sock = co_await net::connect_with_timeout(io.get_executor(), hostname,
                                                  std::to_string(port), timeout, ec);
      },
      asio::detached);
  io.run();
  if (ec) {
    std::fprintf(stderr, "hashi: connect to host %s port %u: %s\n", hostname.c_str(), port,
                 ec == asio::error::timed_out ? "Connection timed out" : ec.message().c_str());
    return 255;
  }
  debug(1, "Connection established.");
  {
    std::error_code ep_ec;
    auto ep = sock.remote_endpoint(ep_ec);
    if (!ep_ec) trust.address = ep.address().to_string();
  }
  {
    std::error_code ignored;
    sock.set_option(asio::ip::tcp::no_delay(true), ignored);
  }

  // The session's descriptors: dups of ours (the endpoint owns and closes them); the flags are
  // shared with the originals, so ours are restored at exit whatever the endpoint set.
  RestoreFlags restore_flags({STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO});
  const bool read_stdin = !args.stdin_null && !plan.no_session && opts->stdin_null != "yes";
  std::vector<std::string> host_key_algorithms = cc.transport.host_key_algorithms;
  client::Client client(
      [&debug](int l, const std::string& m) {
        if (l == 0) {
          std::fputs(m.c_str(), stderr);  // a banner, or a refusal the user must see
        } else {
          debug(l, m);
        }
      },
      host_key_algorithms);
  size_t the_session = 0;
  if (!plan.no_session) {
    client::SessionSpec spec;
    spec.command = plan.command;
    spec.env = session_env(*opts);
    spec.fds = {read_stdin ? dup(STDIN_FILENO) : -1, dup(STDOUT_FILENO), dup(STDERR_FILENO)};
    the_session = client.add_session(std::move(spec));
  }
  std::optional<client::KnownHostsUpdater> updater;
  if (update_host_keys != "no" && !trust.user_files.empty() &&
      trust.user_files.front() != "/dev/null") {
    updater.emplace(trust.user_files.front(), trust.name(), trust.hash_new_entries, debug);
    client::HostKeysHooks hooks;
    hooks.unknown_keys = [&](const std::vector<keys::PublicKey>& offered)
        -> std::optional<std::vector<keys::PublicKey>> {
      if (trust.untrusted) {
        debug(1, "UpdateHostKeys is disabled because the host key is not trusted.");
        return std::nullopt;
      }
      return updater->unknown_keys(offered);
    };
    hooks.update = [&](const std::vector<keys::PublicKey>& offered,
                       const std::vector<keys::PublicKey>& learned) {
      if (update_host_keys == "ask") {
        auto answer = client::ask_tty("Accept updated hostkeys? (yes/no): ");
        if (!answer || client::parse_confirmation(*answer, "") != true) return;
      }
      if (!updater->apply(offered, learned)) {
        std::fprintf(stderr, "Failed to update known_hosts file %s\n",
                     trust.user_files.front().c_str());
      }
    };
    client.set_hostkeys_hooks(std::move(hooks));
  }

  // With -N no remote command ends the connection: SIGINT and SIGTERM end it, cleanly (a
  // DISCONNECT, exit status 0).
  bool stopped_by_signal = false;
  asio::signal_set stop_signals(io);
  if (plan.no_session) {
    stop_signals.add(SIGINT);
    stop_signals.add(SIGTERM);
    stop_signals.async_wait([&](std::error_code e, int) {
      if (e) return;
      stopped_by_signal = true;
      client.stop();
    });
  }

  client::HostTrustVerifier verifier(trust, level >= 0);
  net::Driver driver(io);
  io.restart();
  client.start(driver, net::Socket(std::move(sock)), std::move(cc), {.verifier = &verifier});
  while (!client.finished() && io.run_one() > 0) {
  }
  stop_signals.cancel();

  if (!client.error().empty()) {
    if (level >= 0) std::fprintf(stderr, "%s\n", client.error().c_str());
    return 255;
  }
  if (plan.no_session) return stopped_by_signal ? 0 : 255;
  const client::SessionOutcome& outcome = client.outcome(the_session);
  if (!outcome.closed || !outcome.exit_status) return 255;
  return int(*outcome.exit_status & 0xff);
}
