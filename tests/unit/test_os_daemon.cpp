// Tests for src/server/daemon: PID file, descriptor flags, signal dispositions.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "server/daemon.h"

namespace hashi::server {
namespace {

std::string temp_path(const char* name) {
  const char* dir = getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name + "." + std::to_string(getpid());
}

TEST(OsDaemon, PidFileWrittenAndRemoved) {
  std::string path = temp_path("hashi-test.pid");
  std::string error;
  ASSERT_TRUE(write_pid_file(path, error)) << error;
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), std::to_string(getpid()) + "\n");
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0133, 0u);  // at most 0644 (umask may narrow it)
  remove_pid_file(path);
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  remove_pid_file(path);  // already gone: harmless
}

TEST(OsDaemon, PidFileNoneIsDisabled) {
  std::string error;
  EXPECT_TRUE(write_pid_file("none", error));
  EXPECT_NE(access("none", F_OK), 0);
  remove_pid_file("none");
}

TEST(OsDaemon, PidFileErrorIsReported) {
  std::string error;
  EXPECT_FALSE(write_pid_file("/nonexistent-dir/hashi.pid", error));
  EXPECT_NE(error.find("Couldn't create pid file \"/nonexistent-dir/hashi.pid\""),
            std::string::npos)
      << error;
}

TEST(OsDaemon, DescriptorFlags) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_TRUE(set_nonblocking(fds[0]));
  EXPECT_TRUE(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(set_blocking(fds[0]));
  EXPECT_FALSE(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(set_cloexec(fds[1]));
  EXPECT_TRUE(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
  close(fds[0]);
  close(fds[1]);
  EXPECT_FALSE(set_nonblocking(fds[0]));
}

TEST(OsDaemon, CloseFdsFromClosesEverythingAbove) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int a = open("/dev/null", O_RDONLY);
    int b = dup2(a, 200);
    close_fds_from(3);
    _exit(fcntl(a, F_GETFD) == -1 && fcntl(b, F_GETFD) == -1 && fcntl(2, F_GETFD) != -1 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(OsDaemon, SignalDispositions) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ignore_sigpipe();
    struct sigaction sa {};
    sigaction(SIGPIPE, nullptr, &sa);
    if (sa.sa_handler != SIG_IGN) _exit(1);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    restore_default_signals();
    sigaction(SIGPIPE, nullptr, &sa);
    if (sa.sa_handler != SIG_DFL) _exit(2);
    sigprocmask(SIG_BLOCK, nullptr, &set);
    _exit(sigismember(&set, SIGTERM) ? 3 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(OsDaemon, DaemonizeDetaches) {
  // Run daemonize in a throw-away child; the daemon reports its session id and cwd via a pipe.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    std::string error;
    if (!daemonize(error)) _exit(1);
    char cwd[8] = {};
    bool ok = getsid(0) == getpid() ? false : true;  // second fork: not a session leader
    ok = ok && getcwd(cwd, sizeof(cwd)) != nullptr && std::string(cwd) == "/";
    ok = ok && fcntl(0, F_GETFD) != -1 && isatty(0) == 0;
    char c = ok ? 'y' : 'n';
    if (write(fds[1], &c, 1) != 1) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);  // the first parent exits 0
  char c = 0;
  EXPECT_EQ(read(fds[0], &c, 1), 1);
  EXPECT_EQ(c, 'y');
  close(fds[0]);
}

}  // namespace
}  // namespace hashi::server
