// Tests for spawn_pty_session / resize_pty (src/server/process).
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "server/process.h"
#include "server/users.h"

namespace hashi::server {
namespace {

// Reads the master until the slave side is gone (EIO on Linux) and reaps the child.
std::string drain_pty(const SpawnedProcess& p, int& wait_status) {
  std::string out;
  for (;;) {
    pollfd pfd{p.stdout_fd, POLLIN, 0};
    if (poll(&pfd, 1, 10000) <= 0) {
      ADD_FAILURE() << "pty stalled";
      break;
    }
    char buf[4096];
    ssize_t n = read(p.stdout_fd, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EAGAIN) {
      break;
    }
  }
  close(p.stdin_fd);
  close(p.stdout_fd);
  EXPECT_EQ(waitpid(p.pid, &wait_status, 0), p.pid);
  return out;
}

SpawnRequest pty_request(const UserInfo& user, std::string command) {
  SpawnRequest req;
  req.user = user;
  req.user.shell = "/bin/sh";
  req.command = std::move(command);
  return req;
}

TEST(OsPty, RunsOnAControllingTerminal) {
  auto me = current_user();
  ASSERT_TRUE(me.has_value());
  auto req = pty_request(*me,
                         "test -t 0 && test -t 1 && test -t 2 && echo allttys; echo \"T=$TERM\"; "
                         "echo \"Y=$SSH_TTY\"; tty; stty size; echo err >&2; exit 4");
  PtySettings pty;
  pty.term = "xterm-256color";
  pty.cols = 132;
  pty.rows = 43;
  std::string error;
  auto p = spawn_pty_session(req, pty, error);
  ASSERT_TRUE(p.has_value()) << error;
  EXPECT_EQ(p->stderr_fd, -1);
  EXPECT_NE(p->stdin_fd, p->stdout_fd);
  int status = 0;
  std::string out = drain_pty(*p, status);
  EXPECT_NE(out.find("allttys\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("T=xterm-256color\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("43 132\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("err\r\n"), std::string::npos) << out;
  auto y = out.find("Y=/dev/pts/");
  ASSERT_NE(y, std::string::npos) << out;
  std::string tty = out.substr(y + 2, out.find('\r', y) - y - 2);
  EXPECT_NE(out.find("\r\n" + tty + "\r\n"), std::string::npos) << out;  // `tty` agrees
  auto report = decode_wait_status(status);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->exit_status, 4);
}

TEST(OsPty, WindowChangeReachesTheChild) {
  auto me = current_user();
  ASSERT_TRUE(me.has_value());
  // The child waits for input before asking its size, so the resize happens first.
  auto req = pty_request(*me, "read line; stty size");
  std::string error;
  auto p = spawn_pty_session(req, PtySettings{}, error);
  ASSERT_TRUE(p.has_value()) << error;
  ASSERT_TRUE(resize_pty(p->stdin_fd, 100, 40, 0, 0));
  ASSERT_EQ(write(p->stdin_fd, "go\n", 3), 3);
  int status = 0;
  std::string out = drain_pty(*p, status);
  EXPECT_NE(out.find("40 100\r\n"), std::string::npos) << out;
}

TEST(OsPty, RootGivesTheTerminalToTheUser) {
  auto nobody = lookup_user("nobody");
  if (geteuid() != 0 || !nobody) {
    GTEST_SKIP() << "needs root and a 'nobody' account";
  }
  auto req = pty_request(*nobody, "id -u; stat -c '%u %a' \"$SSH_TTY\"");
  std::string error;
  auto p = spawn_pty_session(req, PtySettings{}, error);
  ASSERT_TRUE(p.has_value()) << error;
  int status = 0;
  std::string out = drain_pty(*p, status);
  std::string uid = std::to_string(nobody->uid);
  // nobody's home does not exist, so sshd's chdir message comes first.
  EXPECT_NE(out.find("\n" + uid + "\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find(uid + " 6"), std::string::npos) << out;  // owner nobody, mode 0620/0600
}

}  // namespace
}  // namespace hashi::server
