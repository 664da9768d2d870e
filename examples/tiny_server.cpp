// tiny_server: the smallest SSH server on the hashi library — one host key, one authorized_keys
// file, exec requests run with /bin/sh -c as the user running the server. No shell, no pty, no
// privilege separation: an example of the library's view, not a replacement for hashi-server.
//
//   tiny_server -p PORT -h HOSTKEY -a AUTHORIZED_KEYS [-l ADDRESS]
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <asio.hpp>
#include <cstdio>
#include <string>

#include "config/algorithms.h"
#include "keys/file_io.h"
#include "net/driver.h"
#include "server/process.h"
#include "server/users.h"

using namespace hashi;

namespace {

// Only the server's own user, only with a key from the file.
struct OneUser : session::Authenticator {
  server::UserInfo user;
  std::vector<keys::AuthorizedKey> keys;
  void check_user(const std::string& name, std::function<void(bool)> done) override {
    done(name == user.name);
  }
  void check_key(const std::string& name, const keys::PublicKey& key,
                 std::function<void(std::optional<keys::KeyOptions>)> done) override {
    const keys::AuthorizedKey* entry = keys::find_authorized(keys, key);
    if (name == user.name && entry) return done(entry->options);
    done(std::nullopt);
  }
};

// Accepts session channels; runs "exec" requests; refuses every other request.
struct ExecOnly : net::ConnectionHandler {
  const server::UserInfo* user = nullptr;

  void on_event(net::Connection& c, session::Event& event) override {
    if (auto* open = std::get_if<session::ChannelOpenRequest>(&event)) {
      if (open->type == "session") return c.session().accept_channel(open->channel);
      c.session().reject_channel(open->channel,
                                 connection::OpenFailureReason::kUnknownChannelType,
                                 "unknown channel type");
    } else if (auto* req = std::get_if<session::ChannelRequestEvent>(&event)) {
      auto* exec = std::get_if<connection::ExecRequest>(&req->request.body);
      bool ok = exec && run(c, req->channel, exec->command);
      if (req->want_reply) c.session().reply_request(req->channel, ok);
    } else if (auto* line = std::get_if<session::LogLine>(&event)) {
      if (line->level == 0) std::fprintf(stderr, "%s\n", line->text.c_str());
    }
  }

  bool run(net::Connection& c, uint32_t channel, const std::string& command) {
    server::SpawnRequest spawn;
    spawn.user = *user;
    spawn.user.shell = "/bin/sh";
    spawn.command = command;
    std::string error;
    auto proc = server::spawn_session(spawn, error);
    if (!proc) {
      std::fprintf(stderr, "tiny_server: %s\n", error.c_str());
      return false;
    }
    // The endpoint moves the program's stdin/stdout/stderr and reports its exit (EOF,
    // exit-status, CLOSE); if the client closes first, the program is hung up and reaped.
    auto endpoint = net::make_process_endpoint(
        c.executor(), {proc->pid, proc->stdin_fd, proc->stdout_fd, proc->stderr_fd}, error);
    if (!endpoint) return false;
    c.bind(channel, endpoint);
    return true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string port, host_key_file, authorized_file, address = "127.0.0.1";
  int opt;
  while ((opt = getopt(argc, argv, "p:h:a:l:")) != -1) {
    if (opt == 'p') port = optarg;
    if (opt == 'h') host_key_file = optarg;
    if (opt == 'a') authorized_file = optarg;
    if (opt == 'l') address = optarg;
    if (opt == '?') return 1;
  }
  if (port.empty() || host_key_file.empty() || authorized_file.empty()) {
    std::fprintf(stderr, "usage: tiny_server -p port -h hostkey -a authorized_keys [-l address]\n");
    return 1;
  }
  std::string error;
  auto host_key = keys::PrivateKey::load_file(host_key_file, "", error);
  auto authorized = keys::read_small_file(authorized_file, 1 << 20);
  auto me = server::lookup_uid(getuid());
  if (!host_key || !authorized || !me) {
    std::fprintf(stderr, "tiny_server: cannot load %s / %s\n", host_key_file.c_str(),
                 authorized_file.c_str());
    return 1;
  }
  OneUser authenticator;
  authenticator.user = *me;
  std::vector<std::string> warnings;
  authenticator.keys = keys::load_authorized_keys(*authorized, authorized_file, warnings);
  auto shared_host_key = std::make_shared<const keys::PrivateKey>(std::move(*host_key));

  signal(SIGPIPE, SIG_IGN);
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(
      io, {asio::ip::make_address(address), static_cast<uint16_t>(std::stoi(port))});
  std::fprintf(stderr, "Server listening on %s port %s.\n", address.c_str(), port.c_str());

  net::Driver driver(io);
  driver.stop_on_signals({SIGTERM, SIGINT}, [&] { acceptor.close(); });
  ExecOnly handler;
  handler.user = &authenticator.user;
  std::function<void()> accept_next = [&] {
    acceptor.async_accept([&](std::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      socket.set_option(asio::ip::tcp::no_delay(true), ec);
      session::SessionConfig config;
      config.role = session::Role::kServer;
      config.transport.role = session::Role::kServer;
      using config::AlgorithmKind;
      config.transport.kex_algorithms = config::default_algorithms(AlgorithmKind::kKex);
      config.transport.host_key_algorithms = config::default_algorithms(AlgorithmKind::kHostKey);
      config.transport.ciphers = config::default_algorithms(AlgorithmKind::kCipher);
      config.transport.macs = config::default_algorithms(AlgorithmKind::kMac);
      config.transport.host_keys = {shared_host_key};
      config.host_public_keys = {shared_host_key->public_key()};
      driver.add(net::Socket(std::move(socket)),
                 std::make_shared<session::Session>(std::move(config)),
                 {.authenticator = &authenticator}, handler);
      accept_next();
    });
  };
  accept_next();
  io.run();
  return 0;
}
