// hashi-server: the server program, OpenSSH sshd's twin (same flags, sshd_config syntax).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "config/config_text.h"
#include "config/server_config.h"
#include "keys/key.h"
#include "net/tcp.h"
#include "server/server_session.h"
#include "server/daemon.h"
#include "server/log.h"

namespace {

using namespace hashi;

struct Args {
  std::string config_file = "/etc/hashi/sshd_config";
  bool config_given = false;
  std::vector<std::string> options;
  bool foreground = false;  // -D
  bool log_stderr = false;  // -e
  int debug = 0;            // -d (repeatable): one connection, no fork, debug logs
  bool test_only = false;   // -t
  bool dump = false;        // -T
  std::string log_file;     // -E
  std::vector<std::string> refused;  // flags given that hashi-server does not implement
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: hashi-server [-46DdeGiqTtV] [-C connection_spec] [-c host_cert_file]\n"
               "            [-E log_file] [-f config_file] [-g login_grace_time]\n"
               "            [-h host_key_file] [-o option] [-p port] [-u len]\n");
  std::exit(1);
}

Args parse_args(int argc, char** argv) {
  Args a;
  int opt;
  while ((opt = getopt(argc, argv, "46C:DE:GTVc:deg:h:f:io:p:qrtu:")) != -1) {
    switch (opt) {
      case 'f': a.config_file = optarg; a.config_given = true; break;
      case 'o': a.options.push_back(optarg); break;
      case 'p': a.options.push_back(std::string("Port=") + optarg); break;
      case 'h': a.options.push_back(std::string("HostKey=") + optarg); break;
      case 'g': a.options.push_back(std::string("LoginGraceTime=") + optarg); break;
      case 'D': a.foreground = true; break;
      case 'e': a.log_stderr = true; break;
      case 'd': ++a.debug; break;
      case 't': a.test_only = true; break;
      case 'T': a.dump = true; break;
      case 'q': a.options.push_back("LogLevel=QUIET"); break;
      case 'V':
        std::fprintf(stderr, "hashi-server 0.1, %s\n", OpenSSL_version(OPENSSL_VERSION));
        std::exit(0);
      case '4': a.options.push_back("AddressFamily=inet"); break;
      case '6': a.options.push_back("AddressFamily=inet6"); break;
      case 'E': a.log_file = optarg; break;
      case 'r': break;  // "do not re-execute per connection": hashi-server never does
      case 'c': a.refused.push_back("-c: Unsupported option: no host certificates"); break;
      case 'C': a.refused.push_back("-C: Unsupported option: no connection specs"); break;
      case 'G': a.refused.push_back("-G: Unsupported option: use -T"); break;
      case 'i': a.refused.push_back("-i: Unsupported option: inetd mode is not implemented"); break;
      case 'u': a.refused.push_back("-u: Unsupported option: utmp is not written"); break;
      default: usage();
    }
  }
  if (optind < argc) usage();
  return a;
}

// Splits "host", "host:port" and "[v6addr]:port" ListenAddress forms.
void split_listen(const std::string& s, std::string& host, std::optional<uint16_t>& port) {
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    host = s.substr(1, close == std::string::npos ? s.npos : close - 1);
    if (close != std::string::npos && close + 1 < s.size() && s[close + 1] == ':') {
      port = uint16_t(std::atoi(s.c_str() + close + 2));
    }
    return;
  }
  auto colon = s.find(':');
  if (colon != std::string::npos && s.find(':', colon + 1) == std::string::npos) {
    host = s.substr(0, colon);
    port = uint16_t(std::atoi(s.c_str() + colon + 1));
  } else {
    host = s;
  }
}

std::string peer_ip(const asio::ip::tcp::endpoint& ep) { return net::address_string(ep.address()); }

net::AddressFamily address_family(const std::string& value) {
  return value == "inet" ? net::AddressFamily::kInet
         : value == "inet6" ? net::AddressFamily::kInet6
                            : net::AddressFamily::kAny;
}

// A binary KRL (ssh-keygen -k) starts with this magic; only plain key lists are implemented.
constexpr char kKrlMagic[] = "SSHKRL";

// Refuses at start-up a RevokedKeys file (global or in a Match block) that is a KRL: the
// administrator must learn now, not when every key is refused. Returns false after printing why.
bool check_revoked_keys_files(const config::ServerOptions& opts) {
  std::vector<std::pair<std::string, std::string>> files;  // where, path
  if (!opts.revoked_keys.empty()) files.push_back({"RevokedKeys", opts.revoked_keys});
  for (const auto& block : opts.match_blocks) {
    for (const auto& d : block.directives) {
      if (config::iequals(d.keyword, "RevokedKeys") && !d.args.empty() && d.args[0] != "none") {
        files.push_back({d.file + ":" + std::to_string(d.line) + ": RevokedKeys", d.args[0]});
      }
    }
  }
  bool ok = true;
  for (const auto& [where, path] : files) {
    char magic[sizeof(kKrlMagic) - 1] = {};
    std::ifstream in(path, std::ios::binary);
    if (in.read(magic, sizeof(magic)) && std::memcmp(magic, kKrlMagic, sizeof(magic)) == 0) {
      std::fprintf(stderr, "%s %s: Unsupported option: KRL files are not implemented; list the "
                   "revoked public keys one per line\n", where.c_str(), path.c_str());
      ok = false;
    }
  }
  return ok;
}

// Set across a SIGHUP re-exec so that the new image neither detaches again nor changes its PID.
constexpr char kReexecEnv[] = "HASHI_SERVER_REEXEC";

// SIGHUP: re-execute with the original arguments so the configuration is read again, as sshd.
[[noreturn]] void restart(char** argv, std::vector<asio::ip::tcp::acceptor>& listeners,
                          asio::signal_set& signals, const std::string& pid_file) {
  server::log_info("Received SIGHUP; restarting.");
  server::remove_pid_file(pid_file);
  for (auto& l : listeners) {
    std::error_code ignored;
    l.close(ignored);
  }
  std::error_code ignored;
  signals.clear(ignored);  // back to the default dispositions for the new image
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  setenv(kReexecEnv, "1", 1);
  execv("/proc/self/exe", argv);
  server::log_error("RESTART FAILED: execv /proc/self/exe: %s", std::strerror(errno));
  std::exit(255);
}


// The listener on the driver's io_context: every listening socket and the signals (SIGTERM and
// SIGINT stop, SIGHUP re-executes) are waits on one io_context, no poll loop. Each accepted
// connection is served by a forked process, as sshd does (with -d: in this process, once).
class AcceptLoop {
 public:
  AcceptLoop(asio::io_context& io, std::vector<asio::ip::tcp::acceptor>& listeners, char** argv,
             const config::ServerOptions& options, const transport::TransportConfig& tc,
             bool debug)
      : io_(io), listeners_(listeners), signals_(io, SIGTERM, SIGINT, SIGHUP), argv_(argv),
        options_(options), tc_(tc), debug_(debug) {}

  // Runs until a stopping signal (returns the exit status) or, with -d, until the first
  // connection, which it serves before returning 0.
  int run() {
    wait_signal();
    for (size_t i = 0; i < listeners_.size(); ++i) accept_next(i);
    io_.run();
    if (debug_socket_) {
      std::error_code ignored;
      signals_.clear(ignored);
      signal(SIGCHLD, SIG_DFL);
      serve(std::move(*debug_socket_));
    }
    return exit_status_;
  }

 private:
  void wait_signal() {
    signals_.async_wait([this](std::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) restart(argv_, listeners_, signals_, options_.pid_file);
      server::log_info("Received signal %d; terminating.", sig);
      exit_status_ = sig == SIGTERM ? 0 : 255;
      io_.stop();
    });
  }

  void accept_next(size_t i) {
    listeners_[i].async_accept([this, i](std::error_code ec, asio::ip::tcp::socket sock) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) on_accept(std::move(sock));
      if (!io_.stopped()) accept_next(i);
    });
  }

  void on_accept(asio::ip::tcp::socket sock) {
    net::tune_socket(sock);
    if (debug_) {
      debug_socket_ = std::move(sock);
      io_.stop();
      return;
    }
    // The io_context's epoll and signal pipe must not be shared with the child.
    io_.notify_fork(asio::execution_context::fork_prepare);
    pid_t pid = fork();
    if (pid == 0) {
      io_.notify_fork(asio::execution_context::fork_child);
      std::error_code ignored;
      signals_.clear(ignored);
      for (auto& l : listeners_) l.close(ignored);
      signal(SIGCHLD, SIG_DFL);
      serve(std::move(sock));
      _exit(0);
    }
    io_.notify_fork(asio::execution_context::fork_parent);
    if (pid < 0) server::log_error("fork: %s", std::strerror(errno));
    // The parent's copy of the socket closes as `sock` goes out of scope.
  }

  void serve(asio::ip::tcp::socket sock) {
    std::error_code ec;
    auto remote = sock.remote_endpoint(ec);
    auto local = sock.local_endpoint(ec);
    server::PeerInfo peer{peer_ip(remote), remote.port(), peer_ip(local), local.port()};
    server::log_info("Connection from %s port %u on %s port %u", peer.remote_ip.c_str(),
                     peer.remote_port, peer.local_ip.c_str(), peer.local_port);
    int fd = sock.release();
    server::serve_connection(fd, peer, options_, tc_);
    close(fd);
  }

  asio::io_context& io_;
  std::vector<asio::ip::tcp::acceptor>& listeners_;
  asio::signal_set signals_;
  char** argv_;
  const config::ServerOptions& options_;
  const transport::TransportConfig& tc_;
  bool debug_;
  std::optional<asio::ip::tcp::socket> debug_socket_;
  int exit_status_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  for (const auto& r : args.refused) std::fprintf(stderr, "hashi-server: %s\n", r.c_str());
  const bool reexecuted = std::getenv(kReexecEnv) != nullptr;
  unsetenv(kReexecEnv);
  if (args.debug) {
    args.foreground = true;
    args.log_stderr = true;
  }
  std::vector<config::ConfigDiagnostic> diags;
  auto opts = config::parse_server_config(args.config_file, args.options, diags);
  for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.message.c_str());
  if (!opts || !args.refused.empty()) return 255;
  if (!check_revoked_keys_files(*opts)) return 255;

  auto level = server::parse_log_level(opts->log_level).value_or(server::LogLevel::kInfo);
  if (args.debug) level = args.debug >= 3 ? server::LogLevel::kDebug3
                          : args.debug == 2 ? server::LogLevel::kDebug2
                                            : server::LogLevel::kDebug1;
  int facility = server::parse_syslog_facility(opts->syslog_facility)
                     .value_or(server::default_syslog_facility());
  // -E: append the log to a file instead of syslog, as sshd.
  if (!args.log_file.empty()) {
    int fd = open(args.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
      std::fprintf(stderr, "Couldn't open logfile %s: %s\n", args.log_file.c_str(),
                   std::strerror(errno));
      return 255;
    }
    server::log_redirect_stderr_to(fd);
  }
  server::log_init("hashi-server", level, args.log_stderr || !args.log_file.empty(), facility);

  // Host keys: every HostKey that loads; none at all is fatal, as for sshd.
  transport::TransportConfig tc;
  tc.role = transport::Role::kServer;
  for (const auto& path : opts->host_keys) {
    std::string err;
    auto key = keys::PrivateKey::load_file(path, "", err);
    if (!key) {
      server::log_error("Unable to load host key \"%s\": %s", path.c_str(), err.c_str());
      continue;
    }
    server::log_debug("loaded host key %s %s", std::string(key->public_key().type_name()).c_str(),
                      key->public_key().fingerprint_sha256().c_str());
    tc.host_keys.push_back(std::make_shared<keys::PrivateKey>(std::move(*key)));
  }
  if (tc.host_keys.empty()) {
    server::log_error("hashi-server: no hostkeys available -- exiting.");
    return 1;
  }
  if (args.dump) {
    std::fputs(config::dump_server_config(*opts).c_str(), stdout);
    return 0;
  }
  if (args.test_only) return 0;

  tc.kex_algorithms = opts->kex;
  tc.ciphers = opts->ciphers;
  tc.macs = opts->macs;
  tc.host_key_algorithms = opts->host_key_algorithms;
  tc.rekey_bytes = opts->rekey_bytes;
  tc.rekey_interval = std::chrono::seconds(opts->rekey_seconds);

  // Listening sockets.
  std::vector<net::ListenSpec> specs;
  if (opts->listen_addresses.empty()) {
    specs = net::default_listen_specs(opts->ports, address_family(opts->address_family));
  } else {
    for (const auto& la : opts->listen_addresses) {
      std::string host;
      std::optional<uint16_t> port;
      split_listen(la, host, port);
      if (port) {
        specs.push_back({host, *port});
      } else {
        for (uint16_t p : opts->ports) specs.push_back({host, p});
      }
    }
  }
  std::string err;
  auto endpoints = net::resolve_listen(specs, address_family(opts->address_family), err);
  if (endpoints.empty()) {
    server::log_error("%s", err.empty() ? "no listen address" : err.c_str());
    return 255;
  }
  asio::io_context io;
  std::vector<asio::ip::tcp::acceptor> listeners;
  for (const auto& ep : endpoints) {
    std::error_code ec;
    auto acc = net::open_listener(io.get_executor(), ep, ec);
    if (ec) {
      server::log_error("Bind to port %u on %s failed: %s.", ep.port(), peer_ip(ep).c_str(),
                        ec.message().c_str());
      continue;
    }
    server::log_info("Server listening on %s port %u.", peer_ip(ep).c_str(), ep.port());
    listeners.push_back(std::move(acc));
  }
  if (listeners.empty()) {
    server::log_error("Cannot bind any address.");
    return 255;
  }

  if (!args.foreground && !reexecuted && !server::daemonize(err)) {
    server::log_error("daemon() failed: %s", err.c_str());
    return 255;
  }
  server::ignore_sigpipe();
  if (!server::write_pid_file(opts->pid_file, err)) {
    server::log_error("Couldn't create pid file \"%s\": %s", opts->pid_file.c_str(), err.c_str());
  }
  // Connection processes are reaped by the kernel; each one restores SIGCHLD for its sessions.
  signal(SIGCHLD, SIG_IGN);

  AcceptLoop loop(io, listeners, argv, *opts, tc, args.debug > 0);
  int exit_status = loop.run();
  for (auto& l : listeners) {
    std::error_code ignored;
    l.close(ignored);
  }
  server::remove_pid_file(opts->pid_file);
  return exit_status;
}
