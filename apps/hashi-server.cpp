// hashi-server: the server program, OpenSSH sshd's twin (same flags, sshd_config syntax).
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "config/server_config.h"
#include "keys/key.h"
#include "net/tcp.h"
#include "server/connection_driver.h"
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
      case 'E': case 'c': case 'C': case 'G': case 'i': case 'r': case 'u': break;
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

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  if (args.debug) {
    args.foreground = true;
    args.log_stderr = true;
  }
  std::vector<config::ConfigDiagnostic> diags;
  auto opts = config::parse_server_config(args.config_file, args.options, diags);
  for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.message.c_str());
  if (!opts) return 255;

  auto level = server::parse_log_level(opts->log_level).value_or(server::LogLevel::kInfo);
  if (args.debug) level = args.debug >= 3 ? server::LogLevel::kDebug3
                          : args.debug == 2 ? server::LogLevel::kDebug2
                                            : server::LogLevel::kDebug1;
  int facility = server::parse_syslog_facility(opts->syslog_facility)
                     .value_or(server::default_syslog_facility());
  server::log_init("hashi-server", level, args.log_stderr, facility);

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
    specs = net::default_listen_specs(opts->ports, net::AddressFamily::kAny);
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
  auto endpoints = net::resolve_listen(specs, net::AddressFamily::kAny, err);
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

  if (!args.foreground && !server::daemonize(err)) {
    server::log_error("daemon() failed: %s", err.c_str());
    return 255;
  }
  server::ignore_sigpipe();
  if (!server::write_pid_file(opts->pid_file, err)) {
    server::log_error("Couldn't create pid file \"%s\": %s", opts->pid_file.c_str(), err.c_str());
  }
  // Connection processes are reaped by the kernel; each one restores SIGCHLD for its sessions.
  signal(SIGCHLD, SIG_IGN);

  std::vector<pollfd> fds;
  for (auto& l : listeners) fds.push_back({l.native_handle(), POLLIN, 0});
  while (true) {
    int rc = poll(fds.data(), nfds_t(fds.size()), -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      std::error_code ec;
      asio::ip::tcp::socket sock = listeners[i].accept(ec);
      if (ec) continue;
      net::tune_socket(sock);
      auto remote = sock.remote_endpoint(ec);
      auto local = sock.local_endpoint(ec);
      server::PeerInfo peer{peer_ip(remote), remote.port(), peer_ip(local), local.port()};
      if (args.debug) {
        server::log_info("Connection from %s port %u on %s port %u", peer.remote_ip.c_str(),
                         peer.remote_port, peer.local_ip.c_str(), peer.local_port);
        signal(SIGCHLD, SIG_DFL);
        int fd = sock.release();
        server::serve_connection(fd, peer, *opts, tc);
        close(fd);
        server::remove_pid_file(opts->pid_file);
        return 0;
      }
      pid_t pid = fork();
      if (pid == 0) {
        signal(SIGCHLD, SIG_DFL);
        for (auto& l : listeners) {
          std::error_code ignored;
          l.close(ignored);
        }
        server::log_info("Connection from %s port %u on %s port %u", peer.remote_ip.c_str(),
                         peer.remote_port, peer.local_ip.c_str(), peer.local_port);
        int fd = sock.release();
        server::serve_connection(fd, peer, *opts, tc);
        close(fd);
        _exit(0);
      }
      if (pid < 0) server::log_error("fork: %s", std::strerror(errno));
      // The parent's copy of the socket closes as `sock` goes out of scope.
    }
  }
  server::remove_pid_file(opts->pid_file);
  return 0;
}
