#include "client/driver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>

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

// The signal that asked a -N connection to end. A signal handler can only reach a global; this
// one is written by the handler and read by the one driver loop that installed it.
volatile sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int sig) { g_stop_signal = sig; }

// With -N no remote command ends the connection, so SIGINT and SIGTERM end it, cleanly (a
// DISCONNECT, exit status 0). They are blocked except inside ppoll, so one arriving between the
// check and the wait still wakes the wait.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, &saved_mask_);
    wait_mask_ = saved_mask_;
    sigdelset(&wait_mask_, SIGINT);
    sigdelset(&wait_mask_, SIGTERM);
    struct sigaction sa = {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &saved_int_);
    sigaction(SIGTERM, &sa, &saved_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &saved_int_, nullptr);
    sigaction(SIGTERM, &saved_term_, nullptr);
    sigprocmask(SIG_SETMASK, &saved_mask_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  const sigset_t* wait_mask() const { return &wait_mask_; }
  bool requested() const { return g_stop_signal != 0; }

 private:
  sigset_t saved_mask_, wait_mask_;
  struct sigaction saved_int_ = {};
  struct sigaction saved_term_ = {};
};

// The time left until `deadline` for ppoll; nullptr (no limit) for TimePoint::max().
const timespec* poll_timeout(TimePoint deadline, timespec& out) {
  if (deadline == TimePoint::max()) return nullptr;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  int64_t ms = std::clamp<int64_t>(left.count() + 1, 0, 60 * 60 * 1000);
  out.tv_sec = time_t(ms / 1000);
  out.tv_nsec = long(ms % 1000) * 1000000;
  return &out;
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
  std::optional<StopSignals> stop;
  if (!conn.has_session()) stop.emplace();
  conn.start(Clock::now());

  while (true) {
    transport::Transport& t = conn.transport();
    if (stop && stop->requested()) conn.close_by_user();
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
    timespec wait{};
    int rc = ppoll(fds, nfds_t(n), poll_timeout(t.next_deadline(), wait),
                   stop ? stop->wait_mask() : nullptr);
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
