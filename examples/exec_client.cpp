// exec_client: the smallest SSH client on the hashi library — connect, authenticate with one key
// file, run one command, print its output, exit with its status (255 on an SSH error).
//
//   exec_client [-p PORT] -i KEYFILE user@host COMMAND
//
// It trusts whatever host key the server shows (printing its fingerprint): a real client checks
// known_hosts in its HostKeyVerifier.
#include <unistd.h>

#include <asio.hpp>
#include <cstdio>
#include <string>

#include "config/algorithms.h"
#include "net/driver.h"

using namespace hashi;

namespace {

struct TrustAnyKey : session::HostKeyVerifier {
  void check(const keys::PublicKey& key, std::function<void(session::Status)> done) override {
    std::fprintf(stderr, "host key %s (not checked)\n", key.fingerprint_sha256().c_str());
    done(session::Status::ok());
  }
};

// Opens one session channel, runs the command, and keeps its exit status.
struct RunOne : net::ConnectionHandler {
  std::string command;
  int exit_status = 255;

  void on_event(net::Connection& c, session::Event& event) override {
    if (std::holds_alternative<session::Authenticated>(event)) {
      c.session().open_channel("session");
    } else if (auto* opened = std::get_if<session::ChannelOpened>(&event)) {
      c.session().send_request(opened->channel, {connection::ExecRequest{command}}, false);
      // The command's stdout and stderr go to ours; it gets no input (EOF at once).
      c.bind(opened->channel, net::make_pipe_endpoint(c.executor(), {-1, dup(1), dup(2)}));
    } else if (auto* req = std::get_if<session::ChannelRequestEvent>(&event)) {
      if (auto* st = std::get_if<connection::ExitStatusRequest>(&req->request.body)) {
        exit_status = int(st->status);
      }
    } else if (std::holds_alternative<session::ChannelClosed>(event)) {
      c.session().disconnect(msg::DisconnectReason::kByApplication, "done");
    } else if (auto* closed = std::get_if<session::Closed>(&event)) {
      if (!closed->why && closed->why.message() != "done") {
        std::fprintf(stderr, "exec_client: %s\n", closed->why.message().c_str());
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string port = "22", key_file;
  int opt;
  while ((opt = getopt(argc, argv, "p:i:")) != -1) {
    if (opt == 'p') port = optarg;
    if (opt == 'i') key_file = optarg;
    if (opt == '?') return 255;
  }
  if (argc - optind != 2 || key_file.empty()) {
    std::fprintf(stderr, "usage: exec_client [-p port] -i keyfile user@host command\n");
    return 255;
  }
  std::string destination = argv[optind], host = destination, user;
  if (auto at = destination.find('@'); at != std::string::npos) {
    user = destination.substr(0, at);
    host = destination.substr(at + 1);
  }
  std::string error;
  auto key = keys::PrivateKey::load_file(key_file, "", error);
  if (!key) {
    std::fprintf(stderr, "exec_client: %s: %s\n", key_file.c_str(), error.c_str());
    return 255;
  }

  session::SessionConfig config;
  config.role = session::Role::kClient;
  config.transport.role = session::Role::kClient;
  using config::AlgorithmKind;
  config.transport.kex_algorithms = config::default_algorithms(AlgorithmKind::kKex);
  config.transport.host_key_algorithms = config::default_algorithms(AlgorithmKind::kHostKey);
  config.transport.ciphers = config::default_algorithms(AlgorithmKind::kCipher);
  config.transport.macs = config::default_algorithms(AlgorithmKind::kMac);
  config.user = user;
  config.identities = {std::make_shared<const keys::PrivateKey>(std::move(*key))};

  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  std::error_code ec;
  asio::connect(socket, asio::ip::tcp::resolver(io).resolve(host, port, ec), ec);
  if (ec) {
    std::fprintf(stderr, "exec_client: connect to %s port %s: %s\n", host.c_str(), port.c_str(),
                 ec.message().c_str());
    return 255;
  }
  socket.set_option(asio::ip::tcp::no_delay(true), ec);

  TrustAnyKey verifier;
  RunOne handler;
  handler.command = argv[optind + 1];
  net::Driver driver(io);
  driver.add(net::Socket(std::move(socket)),
             std::make_shared<session::Session>(std::move(config)), {.verifier = &verifier},
             handler);
  io.run();
  return handler.exit_status;
}
