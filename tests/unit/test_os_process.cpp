// Tests for src/server/{users,process}: spawning session children as sshd does.
#include <grp.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include <cstring>

#include "server/process.h"
#include "server/users.h"

namespace hashi::server {
namespace {

struct Finished {
  std::string out;
  std::string err;
  int wait_status = 0;
};

// Pumps `input` into stdin while draining stdout/stderr (all nonblocking), then reaps the child.
Finished run_to_end(SpawnedProcess p, std::string input = {}) {
  Finished f;
  size_t written = 0;
  if (input.empty()) {
    close(p.stdin_fd);
    p.stdin_fd = -1;
  }
  while (p.stdout_fd >= 0 || p.stderr_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    int* owners[3];
    if (p.stdin_fd >= 0) {
      fds[n] = {p.stdin_fd, POLLOUT, 0};
      owners[n++] = &p.stdin_fd;
    }
    if (p.stdout_fd >= 0) {
      fds[n] = {p.stdout_fd, POLLIN, 0};
      owners[n++] = &p.stdout_fd;
    }
    if (p.stderr_fd >= 0) {
      fds[n] = {p.stderr_fd, POLLIN, 0};
      owners[n++] = &p.stderr_fd;
    }
    int rc = poll(fds, static_cast<nfds_t>(n), 10000);
    if (rc <= 0) {
      ADD_FAILURE() << "child stalled";
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      int& fd = *owners[i];
      if (&fd == &p.stdin_fd) {
        ssize_t w = write(fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) written = input.size();
        if (written == input.size()) {
          close(fd);
          fd = -1;
        }
        continue;
      }
      char buf[65536];
      ssize_t r = read(fd, buf, sizeof(buf));
      if (r > 0) {
        (&fd == &p.stdout_fd ? f.out : f.err).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EAGAIN) {
        close(fd);
        fd = -1;
      }
    }
  }
  if (p.stdin_fd >= 0) close(p.stdin_fd);
  EXPECT_EQ(waitpid(p.pid, &f.wait_status, 0), p.pid);
  return f;
}

SpawnRequest request_for_me(std::optional<std::string> command) {
  SpawnRequest req;
  auto me = current_user();
  EXPECT_TRUE(me.has_value());
  req.user = *me;
  req.user.shell = "/bin/sh";  // independent of the account's shell
  req.command = std::move(command);
  req.ssh_connection = "192.0.2.1 50000 192.0.2.2 22";
  req.ssh_client = "192.0.2.1 50000 22";
  return req;
}

TEST(OsUsers, LooksUpRootAndCurrentUser) {
  auto root = lookup_user("root");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->uid, 0u);
  EXPECT_FALSE(root->home.empty());
  auto me = current_user();
  ASSERT_TRUE(me.has_value());
  EXPECT_EQ(me->uid, getuid());
  EXPECT_FALSE(lookup_user("no-such-user-hashi-test").has_value());
  EXPECT_FALSE(lookup_user("").has_value());
  EXPECT_FALSE(lookup_user(std::string_view("root\0x", 6)).has_value());
}

TEST(OsProcess, RunsCommandWithPipesExitStatusAndEnv) {
  auto req = request_for_me(
      "echo hi; echo err >&2; echo \"C=$SSH_CONNECTION\"; echo \"H=$HOME\"; echo \"U=$USER\"; "
      "echo \"L=$LOGNAME\"; echo \"P=$PATH\"; echo \"X=$LC_HASHI\"; echo \"S=$SHELL\"; exit 3");
  req.env = {{"LC_HASHI", "yes"}, {"USER", "spoofed"}, {"BAD=NAME", "x"}};
  std::string error;
  auto p = spawn_session(req, error);
  ASSERT_TRUE(p.has_value()) << error;
  EXPECT_GE(p->stderr_fd, 0);
  auto f = run_to_end(*p);
  EXPECT_EQ(f.err, "err\n");
  std::string path(req.user.uid == 0 ? kRootPath : kUserPath);
  EXPECT_EQ(f.out, "hi\nC=192.0.2.1 50000 192.0.2.2 22\nH=" + req.user.home + "\nU=" +
                       req.user.name + "\nL=" + req.user.name + "\nP=" + path +
                       "\nX=yes\nS=/bin/sh\n");
  auto report = decode_wait_status(f.wait_status);
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->signaled);
  EXPECT_EQ(report->exit_status, 3);
}

TEST(OsProcess, EnvironmentIsBuiltFresh) {
  setenv("HASHI_SERVER_SECRET", "leak", 1);
  auto req = request_for_me("env");
  std::string error;
  auto p = spawn_session(req, error);
  ASSERT_TRUE(p.has_value()) << error;
  auto f = run_to_end(*p);
  unsetenv("HASHI_SERVER_SECRET");
  EXPECT_EQ(f.out.find("HASHI_SERVER_SECRET"), std::string::npos);
  EXPECT_NE(f.out.find("SSH_CLIENT=192.0.2.1 50000 22\n"), std::string::npos);
  EXPECT_NE(f.out.find("MAIL=/var/mail/" + req.user.name + "\n"), std::string::npos);
}

TEST(OsProcess, ArgvZeroIsShellBasenameAndDashForLoginShell) {
  auto req = request_for_me("echo $0");
  std::string error;
  auto p = spawn_session(req, error);
  ASSERT_TRUE(p.has_value()) << error;
  EXPECT_EQ(run_to_end(*p).out, "sh\n");

  auto login = request_for_me(std::nullopt);
  login.env = {{"ENV", ""}};  // keep sh from reading an rc file in interactive mode
  p = spawn_session(login, error);
  ASSERT_TRUE(p.has_value()) << error;
  // A login shell reads commands from stdin.
  auto f = run_to_end(*p, "echo $0; exit 0\n");
  EXPECT_EQ(f.out, "-sh\n");
  EXPECT_EQ(build_session_argv(login), std::vector<std::string>{"-sh"});
}

TEST(OsProcess, MergedStderr) {
  auto req = request_for_me("echo out; echo err >&2");
  req.merge_stderr = true;
  std::string error;
  auto p = spawn_session(req, error);
  ASSERT_TRUE(p.has_value()) << error;
  EXPECT_EQ(p->stderr_fd, -1);
  EXPECT_EQ(run_to_end(*p).out, "out\nerr\n");
}

TEST(OsProcess, SignalsTranslateToRfc4254Names) {
  for (auto [sig, name] : {std::pair{SIGKILL, "KILL"}, std::pair{SIGTERM, "TERM"}}) {
    auto req = request_for_me("exec sleep 30");
    std::string error;
    auto p = spawn_session(req, error);
    ASSERT_TRUE(p.has_value()) << error;
    close(p->stdin_fd);
    usleep(20000);
    ASSERT_TRUE(kill_session(p->pid, sig));
    int status = 0;
    ASSERT_EQ(waitpid(p->pid, &status, 0), p->pid);
    close(p->stdout_fd);
    close(p->stderr_fd);
    auto report = decode_wait_status(status);
    ASSERT_TRUE(report.has_value());
    EXPECT_TRUE(report->signaled);
    EXPECT_EQ(report->signal_name, name);
    EXPECT_FALSE(report->core_dumped);
  }
  EXPECT_EQ(signal_name(SIGCHLD), "SIG@openssh.com");
  EXPECT_EQ(signal_from_name("USR1"), SIGUSR1);
  EXPECT_FALSE(signal_from_name("SIGTERM").has_value());
}

TEST(OsProcess, ChildGetsDefaultSigpipeAndOwnSession) {
  // The test process ignores SIGPIPE, as the server does; the child must not inherit that.
  signal(SIGPIPE, SIG_IGN);
  auto req = request_for_me("grep -E '^(SigIgn|SigBlk)' /proc/self/status; ps -o sid= -p $$");
  std::string error;
  auto p = spawn_session(req, error);
  ASSERT_TRUE(p.has_value()) << error;
  pid_t pid = p->pid;
  auto f = run_to_end(*p);
  signal(SIGPIPE, SIG_DFL);
  // Only the standard signals (1-31, bits 0-30) are checked: glibc reserves 32 and 33 for itself and refuses
  // to change them, so their disposition is whatever the test runner left there.
  auto standard_bits = [&](const char* field) -> unsigned long long {
    size_t at = f.out.find(field);
    if (at == std::string::npos) return ~0ull;
    return std::stoull(f.out.substr(at + std::strlen(field), 16), nullptr, 16) & 0x7fffffffull;
  };
  EXPECT_EQ(standard_bits("SigIgn:\t"), 0ull) << f.out;
  EXPECT_EQ(standard_bits("SigBlk:\t"), 0ull) << f.out;
  if (f.out.find("SigBlk") != std::string::npos && f.err.empty()) {
    EXPECT_NE(f.out.find(std::to_string(pid)), std::string::npos) << f.out;  // sid == pid
  }
}

TEST(OsProcess, OnlyStdioIsInherited) {
  int leak[2];
  ASSERT_EQ(pipe(leak), 0);  // not close-on-exec on purpose
  auto req = request_for_me("ls /proc/self/fd | wc -l");
  std::string error;
  auto p = spawn_session(req, error);
  ASSERT_TRUE(p.has_value()) << error;
  auto f = run_to_end(*p);
  close(leak[0]);
  close(leak[1]);
  // 0, 1, 2 and the directory ls has open.
  EXPECT_EQ(f.out, "4\n");
}

TEST(OsProcess, StdinRoundTripOfOneMebibyte) {
  std::string input;
  input.reserve(1 << 20);
  for (size_t i = 0; input.size() < (1u << 20); ++i) {
    input.push_back(static_cast<char>('a' + i % 26));
    if (i % 61 == 60) input.push_back('\n');
  }
  input.resize(1 << 20);
  auto req = request_for_me("cat");
  std::string error;
  auto p = spawn_session(req, error);
  ASSERT_TRUE(p.has_value()) << error;
  auto f = run_to_end(*p, input);
  EXPECT_EQ(f.out.size(), input.size());
  EXPECT_TRUE(f.out == input);
  auto report = decode_wait_status(f.wait_status);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->exit_status, 0);
}

TEST(OsProcess, MissingShellIsReportedSynchronously) {
  auto req = request_for_me("true");
  req.user.shell = "/nonexistent/hashi-shell";
  std::string error;
  auto p = spawn_session(req, error);
  EXPECT_FALSE(p.has_value());
  EXPECT_NE(error.find("execve /nonexistent/hashi-shell"), std::string::npos) << error;
}

TEST(OsProcess, MissingHomeFallsBackToRootWithSshdMessage) {
  auto req = request_for_me("pwd");
  req.user.home = "/nonexistent/hashi-home";
  std::string error;
  auto p = spawn_session(req, error);
  ASSERT_TRUE(p.has_value()) << error;
  auto f = run_to_end(*p);
  EXPECT_EQ(f.out, "/\n");
  EXPECT_EQ(f.err,
            "Could not chdir to home directory /nonexistent/hashi-home: No such file or "
            "directory\n");
}

TEST(OsProcess, UserSwitchingFollowsPrivilege) {
  auto nobody = lookup_user("nobody");
  if (!nobody) {
    GTEST_SKIP() << "no 'nobody' account";
  }
  SpawnRequest req;
  req.user = *nobody;
  req.user.shell = "/bin/sh";  // nobody's own shell is nologin
  req.command = "id -u; id -g; id -G";
  std::string error;
  auto p = spawn_session(req, error);
  if (geteuid() != 0) {
    EXPECT_FALSE(p.has_value());
    EXPECT_NE(error.find("not running as root"), std::string::npos) << error;
    return;
  }
  ASSERT_TRUE(p.has_value()) << error;
  auto f = run_to_end(*p);
  std::string uid = std::to_string(nobody->uid);
  std::string gid = std::to_string(nobody->gid);
  EXPECT_EQ(f.out.substr(0, f.out.find('\n') + 1), uid + "\n");
  EXPECT_NE(f.out.find("\n" + gid + "\n"), std::string::npos) << f.out;
  // Root's supplementary groups must be gone: only nobody's own.
  EXPECT_EQ(f.out.find(" 0"), std::string::npos) << f.out;
  auto report = decode_wait_status(f.wait_status);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->exit_status, 0);
}

// When running as root, also check the unprivileged path by dropping to nobody in a forked child:
// it may serve only itself. Exit codes carry the result out of the child.
TEST(OsProcess, UnprivilegedServerServesOnlyItsOwnUser) {
  auto nobody = lookup_user("nobody");
  auto root = lookup_user("root");
  if (geteuid() != 0 || !nobody || !root) {
    GTEST_SKIP() << "needs root and a 'nobody' account";
  }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(nobody->gid) != 0 || setuid(nobody->uid) != 0) {
      _exit(10);
    }
    SpawnRequest other;
    other.user = *root;
    other.command = "true";
    std::string error;
    if (spawn_session(other, error) || error.find("not running as root") == std::string::npos) {
      _exit(11);
    }
    SpawnRequest self;
    self.user = *nobody;
    self.user.shell = "/bin/sh";
    self.command = "exit 5";
    auto p = spawn_session(self, error);
    if (!p) {
      _exit(12);
    }
    int status = 0;
    if (waitpid(p->pid, &status, 0) != p->pid || !WIFEXITED(status) || WEXITSTATUS(status) != 5) {
      _exit(13);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(OsProcess, DecodeWaitStatus) {
  auto exited = decode_wait_status(7 << 8);
  ASSERT_TRUE(exited.has_value());
  EXPECT_FALSE(exited->signaled);
  EXPECT_EQ(exited->exit_status, 7);
  auto cored = decode_wait_status(SIGSEGV | 0x80);
  ASSERT_TRUE(cored.has_value());
  EXPECT_TRUE(cored->signaled);
  EXPECT_EQ(cored->signal_name, "SEGV");
  EXPECT_TRUE(cored->core_dumped);
  EXPECT_FALSE(decode_wait_status(0x137f).has_value());  // stopped by SIGSTOP
}

}  // namespace
}  // namespace hashi::server
