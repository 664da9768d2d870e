// multi_exec: several commands at once over ONE SSH connection, each on its own session channel
// (client::Client on the net::Driver). Each command's stdout and stderr go to OUT.N.out and
// OUT.N.err (N = 1, 2, ... in the order given); the exit status of each is printed as
// "N exit STATUS" (or "N signal NAME") once all are done. Exits 0 if every command ran and
// exited 0, 1 if one did not, 255 on an SSH error.
//
//   multi_exec [-p PORT] -i KEYFILE -o OUT user@host COMMAND...
//
// Like exec_client, it trusts whatever host key the server shows: a real client checks
// known_hosts (client::HostTrustVerifier).
#include <fcntl.h>
#include <unistd.h>

#include <asio.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "client/client.h"
#include "config/algorithms.h"

using namespace hashi;

namespace {

struct TrustAnyKey : session::HostKeyVerifier {
  void check(const keys::PublicKey& key, std::function<void(session::Status)> done) override {
    std::fprintf(stderr, "host key %s (not checked)\n", key.fingerprint_sha256().c_str());
    done(session::Status::ok());
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string port = "22", key_file, out_prefix;
  int opt;
  while ((opt = getopt(argc, argv, "p:i:o:")) != -1) {
    if (opt == 'p') port = optarg;
    if (opt == 'i') key_file = optarg;
    if (opt == 'o') out_prefix = optarg;
    if (opt == '?') return 255;
  }
  if (argc - optind < 2 || key_file.empty() || out_prefix.empty()) {
    std::fprintf(stderr, "usage: multi_exec [-p port] -i keyfile -o out user@host command...\n");
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
    std::fprintf(stderr, "multi_exec: %s: %s\n", key_file.c_str(), error.c_str());
    return 255;
  }

  session::SessionConfig config;
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
    std::fprintf(stderr, "multi_exec: connect to %s port %s: %s\n", host.c_str(), port.c_str(),
                 ec.message().c_str());
    return 255;
  }

  client::Client client(
      [](int level, const std::string& line) {
        if (level == 0) std::fputs(line.c_str(), stderr);
      },
      config.transport.host_key_algorithms);
  for (int i = optind + 1; i < argc; ++i) {
    std::string base = out_prefix + "." + std::to_string(i - optind);
    client::SessionSpec spec;
    spec.command = argv[i];
    spec.fds.write_fd = open((base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    spec.fds.write_err_fd = open((base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (spec.fds.write_fd < 0 || spec.fds.write_err_fd < 0) {
      std::perror(base.c_str());
      return 255;
    }
    client.add_session(std::move(spec));
  }
  TrustAnyKey verifier;
  net::Driver driver(io);
  client.start(driver, net::Socket(std::move(socket)), std::move(config),
               {.verifier = &verifier});
  io.run();
  if (!client.error().empty()) {
    std::fprintf(stderr, "multi_exec: %s\n", client.error().c_str());
    return 255;
  }
  int status = 0;
  for (size_t i = 0; i < client.num_sessions(); ++i) {
    const client::SessionOutcome& o = client.outcome(i);
    if (o.exit_status) {
      std::printf("%zu exit %u\n", i + 1, *o.exit_status);
      if (*o.exit_status != 0) status = 1;
    } else if (o.exit_signal) {
      std::printf("%zu signal %s\n", i + 1, o.exit_signal->c_str());
      status = 1;
    } else {
      std::printf("%zu no status%s%s\n", i + 1, o.error.empty() ? "" : ": ", o.error.c_str());
      status = 1;
    }
  }
  return status;
}
