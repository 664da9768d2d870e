#include "server/daemon.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace hashi::server {
namespace {

bool is_disabled_path(std::string_view path) { return path.empty() || path == "none"; }

// Upper bound for the close loop when close_range is unavailable and the fd limit is unlimited.
constexpr long kFallbackMaxFd = 65536;

bool fork_and_exit_parent(std::string& error) {
  pid_t pid = fork();
  if (pid < 0) {
    error = std::string("fork: ") + strerror(errno);
    return false;
  }
  if (pid > 0) {
    _exit(0);
  }
  return true;
}

}  // namespace

bool write_pid_file(std::string_view path, std::string& error) {
  if (is_disabled_path(path)) {
    return true;
  }
  std::string p(path);
  int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    error = "Couldn't create pid file \"" + p + "\": " + strerror(errno);
    return false;
  }
  char buf[32];
  int len = snprintf(buf, sizeof(buf), "%ld\n", static_cast<long>(getpid()));
  bool ok = write(fd, buf, static_cast<size_t>(len)) == len;
  int saved_errno = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    saved_errno = errno;
  }
  if (!ok) {
    error = "Couldn't write pid file \"" + p + "\": " + strerror(saved_errno);
    unlink(p.c_str());
    return false;
  }
  return true;
}

void remove_pid_file(std::string_view path) {
  if (is_disabled_path(path)) {
    return;
  }
  std::string p(path);
  unlink(p.c_str());
}

bool daemonize(std::string& error) {
  if (!fork_and_exit_parent(error)) {
    return false;
  }
  if (setsid() < 0) {
    error = std::string("setsid: ") + strerror(errno);
    return false;
  }
  if (!fork_and_exit_parent(error)) {
    return false;
  }
  if (chdir("/") != 0) {
    error = std::string("chdir /: ") + strerror(errno);
    return false;
  }
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd < 0) {
    error = std::string("open /dev/null: ") + strerror(errno);
    return false;
  }
  for (int fd = 0; fd <= 2; ++fd) {
    if (null_fd != fd) {
      dup2(null_fd, fd);
    }
  }
  if (null_fd > 2) {
    close(null_fd);
  }
  return true;
}

void write_all(int fd, const void* buf, size_t len) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
}

void close_fds_from(int first) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, 0U) == 0) {
    return;
  }
#endif
  rlimit rl{};
  long max_fd = kFallbackMaxFd;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur < static_cast<rlim_t>(kFallbackMaxFd)) {
    max_fd = static_cast<long>(rl.rlim_cur);
  }
  for (long fd = first; fd < max_fd; ++fd) {
    close(static_cast<int>(fd));
  }
}

bool set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && ((flags & O_NONBLOCK) || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0);
}

bool set_blocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && (!(flags & O_NONBLOCK) || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0);
}

bool set_cloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  return flags >= 0 && ((flags & FD_CLOEXEC) || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0);
}

void ignore_sigpipe() {
  struct sigaction sa {};
  sa.sa_handler = SIG_IGN;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPIPE, &sa, nullptr);
}

void restore_default_signals() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) {
      continue;
    }
    sigaction(sig, &sa, nullptr);  // fails harmlessly for numbers the kernel reserves
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace hashi::server
