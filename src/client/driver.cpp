#include "client/driver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace hashi::client {

namespace {

// How much we read from the socket or stdin at once: large reads mean fewer syscalls per byte.
constexpr size_t kSocketReadSize = 256 * 1024;
constexpr size_t kStdinReadSize = 64 * 1024;

// Restores a descriptor's flags when the driver ends (stdin/stdout may be shared with a shell).
class NonBlocking {
 public:
  explicit NonBlocking(int fd) : fd_(fd), flags_(fcntl(fd, F_GETFL)) {
    if (flags_ >= 0) fcntl(fd, F_SETFL, flags_ | O_NONBLOCK);
  }
  ~NonBlocking() {
    if (flags_ >= 0) fcntl(fd_, F_SETFL, flags_);
  }

 private:
  int fd_;
  int flags_;
};

int poll_timeout_ms(TimePoint deadline) {
  if (deadline == TimePoint::max()) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return int(std::clamp<int64_t>(left.count() + 1, 0, 60 * 60 * 1000));
}

// Writes what the queue holds; false on a write error other than "would block".
bool drain(int fd, OutputQueue& q, size_t& written) {
  written = 0;
  while (!q.pending().empty()) {
    ssize_t n = write(fd, q.pending().data() + written, q.pending().size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    written += size_t(n);
    if (written == q.pending().size()) break;
  }
  return true;
}

}  // namespace

DriverResult run_client(int sock, ClientConnection& conn, bool read_stdin) {
  NonBlocking nb_sock(sock), nb_out(STDOUT_FILENO), nb_err(STDERR_FILENO);
  NonBlocking nb_in(read_stdin ? STDIN_FILENO : sock);
  bool stdin_open = read_stdin;
  bool socket_open = true;
  Bytes stdin_buf;
  size_t stdin_head = 0;
  DriverResult result;
  conn.start(Clock::now());

  while (true) {
    transport::Transport& t = conn.transport();
    if (!stdin_open && stdin_head == stdin_buf.size()) conn.stdin_eof();
    // Push buffered stdin into the channel as its window allows.
    if (stdin_head < stdin_buf.size() && conn.wants_stdin()) {
      stdin_head += conn.write_stdin(
          ByteView(stdin_buf.data() + stdin_head, stdin_buf.size() - stdin_head));
      if (stdin_head == stdin_buf.size()) {
        stdin_buf.clear();
        stdin_head = 0;
      }
    }
    bool out_pending = !conn.stdout_queue().pending().empty();
    bool err_pending = !conn.stderr_queue().pending().empty();
    bool net_pending = !t.pending_output().empty();
    if (conn.finished() && !out_pending && !err_pending && !net_pending) break;
    if (t.closed() && !net_pending && !out_pending && !err_pending) break;
    if (!socket_open && !out_pending && !err_pending) break;

    pollfd fds[4];
    int n = 0;
    int i_sock = -1, i_in = -1, i_out = -1, i_err = -1;
    if (socket_open) {
      short ev = 0;
      if (!t.closed()) ev |= POLLIN;
      if (net_pending) ev |= POLLOUT;
      if (ev) {
        i_sock = n;
        fds[n++] = {sock, ev, 0};
      }
    }
    if (stdin_open && stdin_buf.empty() && conn.wants_stdin()) {
      i_in = n;
      fds[n++] = {STDIN_FILENO, POLLIN, 0};
    }
    if (out_pending) {
      i_out = n;
      fds[n++] = {STDOUT_FILENO, POLLOUT, 0};
    }
    if (err_pending) {
      i_err = n;
      fds[n++] = {STDERR_FILENO, POLLOUT, 0};
    }
    if (n == 0) break;
    int rc = poll(fds, nfds_t(n), poll_timeout_ms(t.next_deadline()));
    if (rc < 0 && errno != EINTR) {
      result.error = "poll failed";
      break;
    }
    TimePoint now = Clock::now();
    if (now >= t.next_deadline()) t.on_timeout(now);
    if (rc <= 0) continue;

    if (i_sock >= 0 && (fds[i_sock].revents & (POLLIN | POLLHUP | POLLERR))) {
      MutableByteView space = t.prepare_read(kSocketReadSize);
      ssize_t got = recv(sock, space.data(), space.size(), 0);
      if (got > 0) {
        transport::Status s = t.commit_read(size_t(got), now);
        if (!s && result.error.empty() && !conn.finished()) result.error = s.message();
      } else {
        (void)t.commit_read(0, now);
        if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
          socket_open = false;
          if (!conn.finished() && result.error.empty()) {
            result.error = "Connection closed by remote host";
          }
        }
      }
    }
    if (i_sock >= 0 && socket_open && (fds[i_sock].revents & POLLOUT)) {
      ByteView out = t.pending_output();
      ssize_t sent = send(sock, out.data(), out.size(), MSG_NOSIGNAL);
      if (sent > 0) {
        t.consume_output(size_t(sent));
      } else if (sent < 0 && errno != EAGAIN && errno != EINTR) {
        socket_open = false;
        if (result.error.empty() && !conn.finished()) result.error = "write failed";
      }
    }
    if (i_in >= 0 && (fds[i_in].revents & (POLLIN | POLLHUP | POLLERR))) {
      stdin_buf.resize(kStdinReadSize);
      ssize_t got = read(STDIN_FILENO, stdin_buf.data(), stdin_buf.size());
      if (got > 0) {
        stdin_buf.resize(size_t(got));
        stdin_head = 0;
      } else {
        stdin_buf.clear();
        if (got == 0 || (errno != EAGAIN && errno != EINTR)) stdin_open = false;
      }
    }
    size_t written;
    if (i_out >= 0 && (fds[i_out].revents & (POLLOUT | POLLERR | POLLHUP))) {
      if (!drain(STDOUT_FILENO, conn.stdout_queue(), written)) {
        conn.drained_stdout(conn.stdout_queue().pending().size());  // reader went away
      } else {
        conn.drained_stdout(written);
      }
    }
    if (i_err >= 0 && (fds[i_err].revents & (POLLOUT | POLLERR | POLLHUP))) {
      if (!drain(STDERR_FILENO, conn.stderr_queue(), written)) {
        conn.drained_stderr(conn.stderr_queue().pending().size());
      } else {
        conn.drained_stderr(written);
      }
    }
  }
  if (result.error.empty() && !conn.error().empty()) result.error = conn.error();
  result.exit_code = result.error.empty() ? conn.exit_status() : 255;
  if (result.error.empty() && !conn.finished()) result.exit_code = 255;
  return result;
}

}  // namespace hashi::client
