// Channel endpoints on real pipes, programs and sockets, against a fake channel side (FakePort):
// back-pressure both ways, EOF/exit/CLOSE order, a slow sink that does not stall another
// channel, and a program left running when its channel closes being hung up and reaped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "net/endpoint.h"
#include "server/process.h"
#include "server/users.h"

namespace hashi::net {
namespace {

using namespace std::chrono_literals;

// The channel side: input queues the test fills, a send window the test sets, and a log of
// what the endpoint sent.
struct FakePort : ChannelPort {
  struct Channel {
    Bytes input[2];
    bool peer_eof = false;
    size_t window = 1 << 30;
    std::string sent[2];
    std::vector<std::string> log;  // "eof", "exit-status 3", "exit-signal HUP", "close"
  };
  std::map<uint32_t, Channel> channels;

  size_t send_window(uint32_t ch) const override { return channels.at(ch).window; }
  size_t send(uint32_t ch, int stream, ByteView data) override {
    Channel& c = channels.at(ch);
    size_t n = std::min(data.size(), c.window);
    c.sent[stream].append(as_string(data.first(n)));
    c.window -= n;
    return n;
  }
  ByteView input(uint32_t ch, int stream) const override { return channels.at(ch).input[stream]; }
  void consume_input(uint32_t ch, int stream, size_t n) override {
    Bytes& in = channels.at(ch).input[stream];
    in.erase(in.begin(), in.begin() + ptrdiff_t(n));
  }
  bool input_eof(uint32_t ch) const override {
    const Channel& c = channels.at(ch);
    return c.peer_eof && c.input[0].empty() && c.input[1].empty();
  }
  void send_eof(uint32_t ch) override { channels.at(ch).log.push_back("eof"); }
  void send_exit(uint32_t ch, const ProcessExit& exit) override {
    channels.at(ch).log.push_back(exit.signaled
                                      ? "exit-signal " + exit_signal_name(exit.signal)
                                      : "exit-status " + std::to_string(exit.status));
  }
  void close_channel(uint32_t ch) override { channels.at(ch).log.push_back("close"); }

  bool closed(uint32_t ch) const {
    const auto& log = channels.at(ch).log;
    return !log.empty() && log.back() == "close";
  }
};

// Runs `io` until `done` or `limit`.
template <typename Pred>
bool run_until(asio::io_context& io, Pred done, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.restart();
    io.run_for(10ms);
  }
  return done();
}

ProcessFds spawn(const std::string& command, bool merge_stderr = false) {
  server::SpawnRequest req;
  auto user = server::lookup_uid(getuid());
  EXPECT_TRUE(user.has_value());
  req.user = *user;
  req.user.shell = "/bin/sh";
  req.command = command;
  req.merge_stderr = merge_stderr;
  std::string error;
  auto proc = server::spawn_session(req, error);
  EXPECT_TRUE(proc.has_value()) << error;
  return {proc->pid, proc->stdin_fd, proc->stdout_fd, proc->stderr_fd};
}

bool is_zombie_or_alive(pid_t pid) {
  return std::filesystem::exists("/proc/" + std::to_string(pid));
}

TEST(NetEndpoint, ProgramOutputEofExitCloseInSshdOrder) {
  asio::io_context io;
  FakePort port;
  auto& ch = port.channels[7];
  ch.input[0] = to_bytes("hello from the peer\n");
  ch.peer_eof = true;
  std::string error;
  ProcessFds fds = spawn("cat; echo oops >&2; exit 3");
  auto ep = make_process_endpoint(io.get_executor(), fds, error);
  ASSERT_TRUE(ep) << error;
  ep->attach(port, 7);
  ASSERT_TRUE(run_until(io, [&] { return port.closed(7); }));
  EXPECT_EQ(ch.sent[0], "hello from the peer\n");
  EXPECT_EQ(ch.sent[1], "oops\n");
  EXPECT_EQ(ch.log, (std::vector<std::string>{"eof", "exit-status 3", "close"}));
  EXPECT_TRUE(ch.input[0].empty());
  errno = 0;
  EXPECT_EQ(waitpid(fds.pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(NetEndpoint, ExitSignalIsReported) {
  asio::io_context io;
  FakePort port;
  port.channels[1];
  std::string error;
  auto ep = make_process_endpoint(io.get_executor(), spawn("kill -TERM $$"), error);
  ASSERT_TRUE(ep) << error;
  ep->attach(port, 1);
  ASSERT_TRUE(run_until(io, [&] { return port.closed(1); }));
  EXPECT_EQ(port.channels[1].log,
            (std::vector<std::string>{"eof", "exit-signal TERM", "close"}));
}

TEST(NetEndpoint, ReadsOnlyWhatTheWindowAllows) {
  asio::io_context io;
  FakePort port;
  auto& ch = port.channels[2];
  ch.window = 1000;
  ch.peer_eof = true;
  std::string error;
  auto ep = make_process_endpoint(io.get_executor(), spawn("head -c 300000 /dev/zero"), error);
  ASSERT_TRUE(ep) << error;
  ep->attach(port, 2);
  run_until(io, [] { return false; }, 200ms);
  EXPECT_EQ(ch.sent[0].size(), 1000u);  // no more than the window, however long we wait
  EXPECT_TRUE(ch.log.empty());
  // Open the window in steps, as WINDOW_ADJUST would.
  while (!port.closed(2) && ch.sent[0].size() < 300000) {
    ch.window += 50000;
    ep->on_writable();
    run_until(io, [&] { return ch.window == 0 || port.closed(2); }, 1000ms);
  }
  ASSERT_TRUE(run_until(io, [&] { return port.closed(2); }));
  EXPECT_EQ(ch.sent[0].size(), 300000u);
}

TEST(NetEndpoint, ConsumesOnlyWhatTheProgramRead) {
  asio::io_context io;
  FakePort port;
  auto& ch = port.channels[3];
  ch.input[0] = Bytes(4 << 20, 'x');  // far more than a pipe holds
  std::string error;
  ProcessFds fds = spawn("sleep 30");
  auto ep = make_process_endpoint(io.get_executor(), fds, error);
  ASSERT_TRUE(ep) << error;
  ep->attach(port, 3);
  run_until(io, [] { return false; }, 200ms);
  size_t left = ch.input[0].size();
  EXPECT_GT(left, size_t(3) << 20) << "input consumed that the program never read";
  EXPECT_LT(left, size_t(4) << 20) << "the pipe took nothing";
  ep->on_closed();
  ep.reset();
  ASSERT_TRUE(run_until(io, [&] { return !is_zombie_or_alive(fds.pid); }));
}

// A program whose stdin is never read on one channel does not hold up another channel.
TEST(NetEndpoint, SlowSinkDoesNotStallAnotherChannel) {
  asio::io_context io;
  FakePort port;
  port.channels[1].input[0] = Bytes(2 << 20, 'a');
  port.channels[1].peer_eof = true;
  port.channels[2].input[0] = to_bytes("quick\n");
  port.channels[2].peer_eof = true;
  std::string error;
  ProcessFds slow_fds = spawn("sleep 30");
  auto slow = make_process_endpoint(io.get_executor(), slow_fds, error);
  auto quick = make_process_endpoint(io.get_executor(), spawn("cat"), error);
  ASSERT_TRUE(slow && quick) << error;
  slow->attach(port, 1);
  quick->attach(port, 2);
  ASSERT_TRUE(run_until(io, [&] { return port.closed(2); }));
  EXPECT_EQ(port.channels[2].sent[0], "quick\n");
  EXPECT_FALSE(port.closed(1));
  slow->on_closed();
  ASSERT_TRUE(run_until(io, [&] { return !is_zombie_or_alive(slow_fds.pid); }));
}

// The channel closes while its program runs: SIGHUP to its group, then reaped from the pidfd.
TEST(NetEndpoint, ProgramStillRunningAtCloseIsHungUpAndReaped) {
  asio::io_context io;
  FakePort port;
  port.channels[4];
  std::string error;
  ProcessExit seen;
  bool exited = false;
  ProcessFds fds = spawn("sleep 100");
  auto ep = make_process_endpoint(io.get_executor(), fds, error, [&](const ProcessExit& e) {
    seen = e;
    exited = true;
  });
  ASSERT_TRUE(ep) << error;
  ep->attach(port, 4);
  run_until(io, [] { return false; }, 100ms);
  EXPECT_TRUE(is_zombie_or_alive(fds.pid));
  ep->on_closed();
  ep.reset();  // only the pending pidfd wait holds it now
  ASSERT_TRUE(run_until(io, [&] { return exited; }));
  EXPECT_TRUE(seen.signaled);
  EXPECT_EQ(seen.signal, SIGHUP);
  EXPECT_FALSE(is_zombie_or_alive(fds.pid)) << "zombie left in /proc";
  errno = 0;
  EXPECT_EQ(waitpid(fds.pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_TRUE(port.channels[4].log.empty());  // nothing sent on a closed channel
}

TEST(NetEndpoint, PipeEndpointBothWaysAndEofBothOrders) {
  asio::io_context io;
  FakePort port;
  auto& ch = port.channels[5];
  int to_channel[2], from_channel[2], err_channel[2];
  ASSERT_EQ(pipe(to_channel), 0);
  ASSERT_EQ(pipe(from_channel), 0);
  ASSERT_EQ(pipe(err_channel), 0);
  auto ep = make_pipe_endpoint(io.get_executor(),
                               {to_channel[0], from_channel[1], err_channel[1]});
  ep->attach(port, 5);
  ASSERT_EQ(write(to_channel[1], "up", 2), 2);
  close(to_channel[1]);
  ASSERT_TRUE(run_until(io, [&] { return ch.log.size() == 1; }));
  EXPECT_EQ(ch.sent[0], "up");
  EXPECT_EQ(ch.log, std::vector<std::string>{"eof"});  // not closed: the peer's side is open
  ch.input[0] = to_bytes("down");
  ch.input[1] = to_bytes("err");
  ch.peer_eof = true;
  ep->on_input();
  ASSERT_TRUE(run_until(io, [&] { return port.closed(5); }));
  char buf[16];
  EXPECT_EQ(read(from_channel[0], buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "down");
  EXPECT_EQ(read(from_channel[0], buf, sizeof buf), 0);  // closed after the data
  EXPECT_EQ(read(err_channel[0], buf, sizeof buf), 3);
  close(from_channel[0]);
  close(err_channel[0]);
}

TEST(NetEndpoint, SocketEndpointForwardsAndHalfCloses) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  asio::ip::tcp::socket server = acceptor.accept();
  FakePort port;
  auto& ch = port.channels[6];
  auto ep = make_socket_endpoint(std::move(server));
  ep->attach(port, 6);
  ch.input[0] = to_bytes("to the socket");
  ch.peer_eof = true;
  ep->on_input();
  asio::write(client, asio::buffer(std::string("from the socket")));
  client.shutdown(asio::ip::tcp::socket::shutdown_send);
  ASSERT_TRUE(run_until(io, [&] { return port.closed(6); }));
  EXPECT_EQ(ch.sent[0], "from the socket");
  std::string got;
  std::error_code ec;
  asio::read(client, asio::dynamic_buffer(got), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(got, "to the socket");
}

struct EchoHandler : ChannelHandler {
  size_t limit = 4;  // takes at most this much at a time
  bool eof = false;
  size_t on_data(HandlerChannel& channel, ByteView data) override {
    size_t n = std::min({data.size(), limit, channel.send_window()});
    return channel.send(data.first(n));
  }
  void on_eof(HandlerChannel& channel) override {
    eof = true;
    channel.send_eof();
    channel.close();
  }
};

TEST(NetEndpoint, HandlerEndpointHoldsBackWhatItDidNotTake) {
  FakePort port;
  auto& ch = port.channels[8];
  auto handler = std::make_shared<EchoHandler>();
  auto ep = make_handler_endpoint(handler);
  ch.input[0] = to_bytes("abcdefghij");
  ep->attach(port, 8);
  EXPECT_EQ(ch.sent[0], "abcd");
  EXPECT_EQ(ch.input[0].size(), 6u);  // window stays closed for what was not taken
  handler->limit = 100;
  ch.peer_eof = true;
  ep->resume_input();
  EXPECT_EQ(ch.sent[0], "abcdefghij");
  EXPECT_TRUE(handler->eof);
  EXPECT_EQ(ch.log, (std::vector<std::string>{"eof", "close"}));
}

}  // namespace
}  // namespace hashi::net
