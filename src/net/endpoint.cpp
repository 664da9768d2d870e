#include "net/endpoint.h"

#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace hashi::net {

std::string exit_signal_name(int sig) {
  // RFC 4254 section 6.10 names these; anything else is OpenSSH's "NAME@openssh.com".
  static constexpr std::array<std::pair<int, std::string_view>, 13> kNamed = {{
      {SIGABRT, "ABRT"}, {SIGALRM, "ALRM"}, {SIGFPE, "FPE"}, {SIGHUP, "HUP"},
      {SIGILL, "ILL"}, {SIGINT, "INT"}, {SIGKILL, "KILL"}, {SIGPIPE, "PIPE"},
      {SIGQUIT, "QUIT"}, {SIGSEGV, "SEGV"}, {SIGTERM, "TERM"}, {SIGUSR1, "USR1"},
      {SIGUSR2, "USR2"},
  }};
  for (const auto& [number, name] : kNamed) {
    if (number == sig) return std::string(name);
  }
  const char* abbrev = sigabbrev_np(sig);
  return std::string(abbrev ? abbrev : "SIG") + "@openssh.com";
}

void Endpoint::attach(ChannelPort& port, uint32_t channel) {
  port_ = &port;
  channel_ = channel;
  start();
}

void Endpoint::on_closed() {
  if (!port_) return;
  port_ = nullptr;
  detach();
}

namespace {

bool would_block(const std::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// A wait that ended so that the descriptor should be tried again: ready, or one epoll cannot
// watch (a regular file, /dev/null: Asio completes the wait at once with operation_not_supported,
// and such a descriptor never blocks), so other work gets a turn between reads.
bool retry_after_wait(const std::error_code& ec) {
  return !ec || ec == asio::error::operation_not_supported;
}

// Reads per readiness before yielding to other descriptors on the io_context.
constexpr int kReadTurns = 4;

// StreamEndpoint moves bytes between up to two readable streams (each feeding one channel
// stream) and up to two writable streams (each draining one channel stream) of type Stream.
// Reads and writes are "try the syscall now; wait for readiness only on would_block", so the
// bulk path makes no epoll call per chunk; each read takes at most the channel's send room into
// one reused buffer, each write hands the channel's queued input straight to the kernel.
template <class Stream>
class StreamEndpoint : public Endpoint {
 public:
  void on_input() override {
    if (!port_) return;
    drop_unsunk_input();
    for (Sink& sink : sinks()) flush(sink);
    close_sinks_at_eof();
    maybe_finish();
  }
  size_t buffer_bytes() const override { return buffer_.size(); }
  void on_writable() override {
    for (Source& source : sources()) {
      if (!source.waiting) read(source);
    }
  }

 protected:
  struct Source {
    Stream* io = nullptr;
    int stream = 0;
    bool open = false;
    bool waiting = false;
  };
  struct Sink {
    Stream* io = nullptr;
    int stream = 0;
    bool open = false;
    bool waiting = false;
    bool done = false;  // EOF passed on (or the sink failed: the rest is dropped)
  };

  void add_source(Stream* io, int stream) {
    sources_[num_sources_++] = Source{io, stream, true, false};
    io->non_blocking(true);
  }
  void add_sink(Stream* io, int stream) {
    sinks_[num_sinks_++] = Sink{io, stream, true, false, false};
    io->non_blocking(true);
  }

  void start() override {
    for (Source& source : sources()) read(source);
    on_input();
  }

  // Called when a source hits EOF / an error, and when a sink is done. By default (not a
  // program): EOF once every source ended; CLOSE once both directions are done (every sink
  // delivered the peer's EOF or failed; without sinks, the peer's EOF arrived).
  virtual void maybe_finish() {
    if (!port_) return;
    if (sources_done() && !eof_sent_) {
      eof_sent_ = true;
      port_->send_eof(channel_);
    }
    bool input_done = num_sinks_ > 0 ? sinks_done() : port_->input_eof(channel_);
    if (eof_sent_ && input_done && !close_sent_) {
      close_sent_ = true;
      port_->close_channel(channel_);
    }
  }
  // Closes a source's or sink's stream (a socket shuts down one direction instead). A pty's
  // stdin_fd and stdout_fd are two descriptors of the master, so closing one direction (sshd
  // closes the write side on the peer's EOF) does not hang up the terminal.
  virtual void close_source(Source& source) {
    std::error_code ignored;
    source.io->close(ignored);
  }
  virtual void close_sink(Sink& sink) {
    std::error_code ignored;
    sink.io->close(ignored);
  }

  bool sources_done() const {
    return std::all_of(sources_.begin(), sources_.begin() + num_sources_,
                       [](const Source& s) { return !s.open; });
  }
  bool sinks_done() const {
    return std::all_of(sinks_.begin(), sinks_.begin() + num_sinks_,
                       [](const Sink& s) { return s.done; });
  }
  std::span<Source> sources() { return {sources_.data(), num_sources_}; }
  std::span<Sink> sinks() { return {sinks_.data(), num_sinks_}; }

  void stop_all() {
    for (Source& source : sources()) {
      if (source.open) {
        source.open = false;
        close_source(source);
      }
    }
    for (Sink& sink : sinks()) {
      if (sink.open) {
        sink.open = false;
        close_sink(sink);
      }
      sink.done = true;
    }
  }

  void read(Source& source) {
    for (int turn = 0; port_ && source.open && !source.waiting; ++turn) {
      size_t room = std::min(port_->send_window(channel_), buffer_.size());
      if (room == 0) return;  // on_writable resumes
      if (turn == kReadTurns) {
        wait_readable(source);
        return;
      }
      std::error_code ec;
      size_t n = source.io->read_some(asio::buffer(buffer_.data(), room), ec);
      if (would_block(ec)) {
        wait_readable(source);
        return;
      }
      if (ec == asio::error::interrupted) continue;
      if (ec) {  // EOF; EIO on a pty master once the slave side is closed; any other error
        source.open = false;
        close_source(source);
        maybe_finish();
        return;
      }
      port_->send(channel_, source.stream, ByteView(buffer_.data(), n));
    }
  }

  void wait_readable(Source& source) {
    source.waiting = true;
    source.io->async_wait(Stream::wait_read,
                          [self = shared_from_this(), this, &source](std::error_code ec) {
                            source.waiting = false;
                            if (retry_after_wait(ec)) read(source);
                          });
  }

  void flush(Sink& sink) {
    if (!port_ || sink.waiting) return;
    while (sink.open) {
      ByteView data = port_->input(channel_, sink.stream);
      if (data.empty()) break;
      std::error_code ec;
      size_t n = sink.io->write_some(asio::buffer(data.data(), data.size()), ec);
      if (would_block(ec)) {
        sink.waiting = true;
        sink.io->async_wait(Stream::wait_write,
                            [self = shared_from_this(), this, &sink](std::error_code ec) {
                              sink.waiting = false;
                              if (retry_after_wait(ec)) on_input();
                            });
        return;
      }
      if (ec == asio::error::interrupted) continue;
      if (ec) {  // the program closed its end (EPIPE): what it will never read is dropped
        sink.open = false;
        close_sink(sink);
        sink.done = true;
        break;
      }
      port_->consume_input(channel_, sink.stream, n);
    }
    if (!sink.open) {  // drop what arrives for a closed sink, so the peer's window keeps moving
      ByteView rest = port_->input(channel_, sink.stream);
      if (!rest.empty()) port_->consume_input(channel_, sink.stream, rest.size());
      return;
    }
  }

  // After the peer's EOF and every byte before it delivered, the sinks are closed.
  void close_sinks_at_eof() {
    if (!port_ || !port_->input_eof(channel_)) return;
    for (Sink& sink : sinks()) {
      if (sink.open && !sink.waiting) {
        sink.open = false;
        close_sink(sink);
        sink.done = true;
      }
    }
  }

  // Consumes input of streams no sink takes (e.g. extended data sent to a program).
  void drop_unsunk_input() {
    for (int stream = 0; stream < 2; ++stream) {
      bool sunk = std::any_of(sinks_.begin(), sinks_.begin() + num_sinks_,
                              [&](const Sink& s) { return s.stream == stream; });
      ByteView rest = port_->input(channel_, stream);
      if (!sunk && !rest.empty()) port_->consume_input(channel_, stream, rest.size());
    }
  }

  std::array<Source, 2> sources_{};
  size_t num_sources_ = 0;
  std::array<Sink, 2> sinks_{};
  size_t num_sinks_ = 0;
  Bytes buffer_ = Bytes(kEndpointReadSize);
  bool eof_sent_ = false;
  bool close_sent_ = false;
};

using Descriptor = asio::posix::stream_descriptor;

int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return int(syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

void hang_up(pid_t pid) {
  // The child leads its own session (setsid); signal the whole group, as sshd does.
  if (killpg(pid, SIGHUP) != 0) kill(pid, SIGHUP);
}

ProcessExit decode_status(int status) {
  ProcessExit exit;
  if (WIFSIGNALED(status)) {
    exit.signaled = true;
    exit.signal = WTERMSIG(status);
    exit.core_dumped = WCOREDUMP(status);
  } else {
    exit.status = WEXITSTATUS(status);
  }
  return exit;
}

// Optional descriptor: -1 leaves it closed.
Descriptor open_descriptor(asio::any_io_executor executor, int fd) {
  Descriptor d(executor);
  if (fd >= 0) d.assign(fd);
  return d;
}

// A program's pipes (or pty master) and its pidfd. Finishes as sshd: output EOF and exit →
// EOF, exit-status / exit-signal, CLOSE.
class ProcessEndpoint final : public StreamEndpoint<Descriptor> {
 public:
  ProcessEndpoint(asio::any_io_executor executor, const ProcessFds& fds, int pidfd,
                  std::function<void(const ProcessExit&)> on_exit)
      : pid_(fds.pid),
        stdin_(open_descriptor(executor, fds.stdin_fd)),
        stdout_(open_descriptor(executor, fds.stdout_fd)),
        stderr_(open_descriptor(executor, fds.stderr_fd)),
        pidfd_(executor, pidfd),
        on_exit_(std::move(on_exit)) {
    if (stdout_.is_open()) add_source(&stdout_, 0);
    if (stderr_.is_open()) add_source(&stderr_, 1);
    if (stdin_.is_open()) add_sink(&stdin_, 0);
  }

  void start() override {
    watch_exit();
    StreamEndpoint::start();
  }

 private:
  void watch_exit() {
    pidfd_.async_wait(Descriptor::wait_read,
                      [self = shared_from_this(), this](std::error_code ec) {
                        if (!ec) reap();
                      });
  }

  void reap() {
    int status = 0;
    pid_t r;
    do {
      r = waitpid(pid_, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {  // not yet (spurious wake-up)
      watch_exit();
      return;
    }
    exited_ = true;
    if (r == pid_) exit_ = decode_status(status);
    std::error_code ignored;
    pidfd_.close(ignored);
    if (on_exit_) on_exit_(exit_);
    maybe_finish();
  }

  void maybe_finish() override {
    if (!port_) return;
    if (!sources_done()) return;
    if (!exited_) return;
    if (!eof_sent_) {
      eof_sent_ = true;
      port_->send_eof(channel_);
    }
    if (!exit_sent_) {
      exit_sent_ = true;
      port_->send_exit(channel_, exit_);
      port_->close_channel(channel_);
    }
  }

  void detach() override {
    stop_all();
    std::error_code ignored;
    stdin_.close(ignored);
    stdout_.close(ignored);
    stderr_.close(ignored);
    if (!exited_) hang_up(pid_);  // the pidfd wait stays, so the child is still reaped
  }

  pid_t pid_;
  Descriptor stdin_;
  Descriptor stdout_;
  Descriptor stderr_;
  Descriptor pidfd_;
  std::function<void(const ProcessExit&)> on_exit_;
  bool exited_ = false;
  ProcessExit exit_;
  bool exit_sent_ = false;
};

// Descriptors that are not a program: close the channel once both directions are done.
class PipeEndpoint final : public StreamEndpoint<Descriptor> {
 public:
  PipeEndpoint(asio::any_io_executor executor, const PipeFds& fds)
      : in_(open_descriptor(executor, fds.read_fd)),
        out_(open_descriptor(executor, fds.write_fd)),
        err_(open_descriptor(executor, fds.write_err_fd)) {
    if (in_.is_open()) add_source(&in_, 0);
    if (out_.is_open()) add_sink(&out_, 0);
    if (err_.is_open()) add_sink(&err_, 1);
  }

 private:
  void detach() override { stop_all(); }

  Descriptor in_;
  Descriptor out_;
  Descriptor err_;
};

// A connected socket: the peer's EOF shuts down our sending side; the socket's EOF sends EOF.
class SocketEndpoint final : public StreamEndpoint<asio::ip::tcp::socket> {
 public:
  explicit SocketEndpoint(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
    add_source(&socket_, 0);
    add_sink(&socket_, 0);
  }

 private:
  void close_source(Source&) override {
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ignored);
    if (sinks_done()) socket_.close(ignored);
  }
  void close_sink(Sink&) override {
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    if (sources_done()) socket_.close(ignored);
  }
  void detach() override {
    stop_all();
    std::error_code ignored;
    socket_.close(ignored);
  }

  asio::ip::tcp::socket socket_;
};

}  // namespace

std::shared_ptr<Endpoint> make_process_endpoint(asio::any_io_executor executor, ProcessFds fds,
                                                std::string& error,
                                                std::function<void(const ProcessExit&)> on_exit) {
  int pidfd = pidfd_open(fds.pid);
  if (pidfd < 0) {
    error = std::string("pidfd_open: ") + strerror(errno);
    for (int fd : {fds.stdin_fd, fds.stdout_fd, fds.stderr_fd}) {
      if (fd >= 0) close(fd);
    }
    hang_up(fds.pid);
    return nullptr;
  }
  return std::make_shared<ProcessEndpoint>(executor, fds, pidfd, std::move(on_exit));
}

std::shared_ptr<Endpoint> make_pipe_endpoint(asio::any_io_executor executor, PipeFds fds) {
  return std::make_shared<PipeEndpoint>(executor, fds);
}

std::shared_ptr<Endpoint> make_socket_endpoint(asio::ip::tcp::socket socket) {
  return std::make_shared<SocketEndpoint>(std::move(socket));
}

std::shared_ptr<HandlerEndpoint> make_handler_endpoint(std::shared_ptr<ChannelHandler> handler) {
  return std::make_shared<HandlerEndpoint>(std::move(handler));
}

// ---- HandlerEndpoint ----------------------------------------------------------------------

HandlerEndpoint::HandlerEndpoint(std::shared_ptr<ChannelHandler> handler)
    : handler_(std::move(handler)) {}

void HandlerEndpoint::on_input() {
  if (!port_) return;
  auto self = shared_from_this();  // the handler may close the channel from its callbacks
  ByteView extended = port_->input(channel_, 1);
  if (!extended.empty()) {
    size_t taken = std::min(handler_->on_extended(*this, extended), extended.size());
    if (!port_) return;
    if (taken > 0) port_->consume_input(channel_, 1, taken);
  }
  ByteView data = port_->input(channel_, 0);
  if (!data.empty()) {
    size_t taken = std::min(handler_->on_data(*this, data), data.size());
    if (port_ && taken > 0) port_->consume_input(channel_, 0, taken);
  }
  if (port_ && !eof_delivered_ && port_->input_eof(channel_)) {
    eof_delivered_ = true;
    handler_->on_eof(*this);
  }
}

void HandlerEndpoint::on_writable() {
  if (port_) handler_->on_writable(*this);
}

size_t HandlerEndpoint::send_window() const { return port_ ? port_->send_window(channel_) : 0; }

size_t HandlerEndpoint::send(ByteView data, int stream) {
  if (!port_ || eof_sent_) return 0;
  size_t n = std::min(data.size(), port_->send_window(channel_));
  return n ? port_->send(channel_, stream, data.first(n)) : 0;
}

void HandlerEndpoint::send_eof() {
  if (!port_ || eof_sent_) return;
  eof_sent_ = true;
  port_->send_eof(channel_);
}

void HandlerEndpoint::close() {
  if (port_) port_->close_channel(channel_);
}

void HandlerEndpoint::detach() { handler_->on_closed(); }

}  // namespace hashi::net
