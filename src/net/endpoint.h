// Channel endpoints: what a channel's bytes flow to and from — a spawned program's pipes, a pty
// master, a connected socket, an in-process handler. Every endpoint moves data both ways with
// back-pressure:
//   - it reads its source only while the channel has send room (ChannelPort::send_window: the
//     peer's window AND the connection's output under the high-water mark), at most that much;
//   - it writes to its sink what the channel's input holds and consumes only what was
//     delivered, so the peer's window re-opens only as data reaches the program;
//   - EOF and CLOSE in every order without losing a byte: the peer's EOF closes the sink after
//     the queued input is written; the source's EOF (and, for a program, its exit) sends EOF,
//     then exit-status / exit-signal, then CLOSE, in sshd's order.
// A slow sink on one channel never stalls another: each endpoint waits on its own descriptors.
//
// An endpoint talks to its channel through ChannelPort (a net::Connection implements it over a
// session::Session; tests fake it). It is owned by a shared_ptr; pending waits keep it alive, so
// after the channel closes a program endpoint keeps watching its pidfd until the child is reaped.
#pragma once

#include <asio.hpp>

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "wire/bytes.h"

namespace hashi::net {

// How a program ended (RFC 4254 section 6.10 carries it as exit-status or exit-signal).
struct ProcessExit {
  bool signaled = false;
  int status = 0;  // exit status when !signaled
  int signal = 0;  // signal number when signaled
  bool core_dumped = false;
};

// exit_signal_name returns the RFC 4254 section 6.10 name of `sig` ("TERM", no "SIG"); a signal
// that section does not name becomes "NAME@openssh.com", as OpenSSH's sig2name does.
std::string exit_signal_name(int sig);

// The channel side of a session, as an endpoint sees it. Streams: 0 = data, 1 = stderr
// (extended data type 1).
class ChannelPort {
 public:
  virtual ~ChannelPort() = default;
  // Bytes the channel may send now (0: wait for on_writable).
  virtual size_t send_window(uint32_t channel) const = 0;
  // Sends at most send_window bytes on `stream`; returns what was taken.
  virtual size_t send(uint32_t channel, int stream, ByteView data) = 0;
  // The peer's data queued for the endpoint, and how much of it was delivered.
  virtual ByteView input(uint32_t channel, int stream) const = 0;
  virtual void consume_input(uint32_t channel, int stream, size_t n) = 0;
  // The peer sent EOF and every byte before it was consumed.
  virtual bool input_eof(uint32_t channel) const = 0;
  virtual void send_eof(uint32_t channel) = 0;
  virtual void send_exit(uint32_t channel, const ProcessExit& exit) = 0;
  virtual void close_channel(uint32_t channel) = 0;
};

class Endpoint : public std::enable_shared_from_this<Endpoint> {
 public:
  virtual ~Endpoint() = default;

  // attach binds the endpoint to `channel` of `port` and starts moving data. The port must stay
  // valid until on_closed.
  void attach(ChannelPort& port, uint32_t channel);
  // The channel has new input, or the peer's EOF arrived.
  virtual void on_input() = 0;
  // The channel may have send room again.
  virtual void on_writable() = 0;
  // The channel is gone (both CLOSEs, or the connection ended): stop using the port. A program
  // still running gets SIGHUP (its process group) and is reaped when it exits.
  void on_closed();

  uint32_t channel() const { return channel_; }
  bool attached() const { return port_ != nullptr; }
  // Memory the endpoint holds for moving data (its read buffer).
  virtual size_t buffer_bytes() const { return 0; }

 protected:
  virtual void start() = 0;
  virtual void detach() = 0;
  ChannelPort* port_ = nullptr;
  uint32_t channel_ = 0;
};

// Read size for one source read; sized like OpenSSH's channel packets times a few, so one read
// fills several packets without holding much memory per channel.
inline constexpr size_t kEndpointReadSize = 64 * 1024;

// The parent's ends of a spawned program. Descriptors are owned by the endpoint from then on
// (any may be -1). For a pty session stdin_fd and stdout_fd are two descriptors of the master
// (EIO on read, once the slave side is gone, counts as EOF) and stderr_fd is -1.
struct ProcessFds {
  pid_t pid = -1;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// make_process_endpoint wraps a spawned program. Its exit comes from a pidfd (Linux 5.3); on
// failure to open one returns nullptr with `error` set (the descriptors are then closed, the
// child is signalled with SIGHUP and left to the caller to reap). `on_exit`, if set, is called
// once with the exit, when the child is reaped (also after the channel closed).
std::shared_ptr<Endpoint> make_process_endpoint(asio::any_io_executor executor, ProcessFds fds,
                                                std::string& error,
                                                std::function<void(const ProcessExit&)> on_exit = {});

// Descriptors of a channel that is not a program of ours (the client's own stdin/stdout/stderr,
// a pipe a library user holds): read_fd feeds the channel's data, write_fd receives the peer's
// data and write_err_fd its stderr stream (-1: that stream is dropped). Owned by the endpoint.
// The channel is closed once both directions are done.
struct PipeFds {
  int read_fd = -1;
  int write_fd = -1;
  int write_err_fd = -1;
};
std::shared_ptr<Endpoint> make_pipe_endpoint(asio::any_io_executor executor, PipeFds fds);

// make_socket_endpoint wraps a connected stream socket (direct-tcpip / forwarded-tcpip).
std::shared_ptr<Endpoint> make_socket_endpoint(asio::ip::tcp::socket socket);

// An in-process handler (an SFTP server, an agent). It receives the peer's bytes and sends its
// own through HandlerChannel.
class HandlerChannel {
 public:
  virtual ~HandlerChannel() = default;
  virtual size_t send_window() const = 0;
  // Takes at most send_window bytes; returns what it took. When less than asked, on_writable
  // follows once there is room.
  virtual size_t send(ByteView data, int stream = 0) = 0;
  virtual void send_eof() = 0;
  virtual void close() = 0;
};

class ChannelHandler {
 public:
  virtual ~ChannelHandler() = default;
  // The peer's bytes; returns how many were taken (the rest is offered again with the next
  // input, or after resume_input()). Taking fewer holds back the peer's window.
  virtual size_t on_data(HandlerChannel& channel, ByteView data) = 0;
  // The peer's extended data (stderr, stream 1); dropped unless overridden.
  virtual size_t on_extended(HandlerChannel& channel, ByteView data) { return data.size(); }
  virtual void on_eof(HandlerChannel& channel) {}
  virtual void on_writable(HandlerChannel& channel) {}
  virtual void on_closed() {}
};

// An endpoint that hands the channel to an in-process ChannelHandler.
class HandlerEndpoint final : public Endpoint, public HandlerChannel {
 public:
  explicit HandlerEndpoint(std::shared_ptr<ChannelHandler> handler);
  void on_input() override;
  void on_writable() override;
  // resume_input offers held input again (after the handler made room for it).
  void resume_input() { on_input(); }

  size_t send_window() const override;
  size_t send(ByteView data, int stream = 0) override;
  void send_eof() override;
  void close() override;

 private:
  void start() override { on_input(); }
  void detach() override;
  std::shared_ptr<ChannelHandler> handler_;
  bool eof_delivered_ = false;
  bool eof_sent_ = false;
};

std::shared_ptr<HandlerEndpoint> make_handler_endpoint(std::shared_ptr<ChannelHandler> handler);

}  // namespace hashi::net
