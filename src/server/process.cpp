#include "server/process.h"

#include <fcntl.h>
#include <grp.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <algorithm>

#include "server/daemon.h"

namespace hashi::server {
namespace {

// What failed in the child before exec; sent to the parent over the error pipe.
enum class ChildStage : int {
  kSetsid = 1,
  kControllingTty,
  kDup2,
  kSetgroups,
  kSetgid,
  kSetuid,
  kRegainedPrivilege,
  kExec,
};

struct ChildFailure {
  ChildStage stage;
  int err;
};

const char* stage_text(ChildStage stage) {
  switch (stage) {
    case ChildStage::kSetsid:
      return "setsid";
    case ChildStage::kControllingTty:
      return "ioctl TIOCSCTTY";
    case ChildStage::kDup2:
      return "dup2";
    case ChildStage::kSetgroups:
      return "setgroups";
    case ChildStage::kSetgid:
      return "setgid";
    case ChildStage::kSetuid:
      return "setuid";
    case ChildStage::kRegainedPrivilege:
      return "privileges could be regained after dropping them";
    case ChildStage::kExec:
      return "execve";
  }
  return "child setup";
}

// A pipe whose both ends are >= 3 and close-on-exec, so dup2 onto 0-2 in the child can never
// clobber another of our descriptors.
struct Pipe {
  int read_fd = -1;
  int write_fd = -1;
};

void close_fd(int& fd) {
  if (fd >= 0) {
    close(fd);
    fd = -1;
  }
}

int move_above_stdio(int fd) {
  if (fd > 2) {
    return fd;
  }
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int saved_errno = errno;
  close(fd);
  errno = saved_errno;
  return moved;
}

bool make_pipe(Pipe& out) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return false;
  }
  out.read_fd = move_above_stdio(fds[0]);
  out.write_fd = move_above_stdio(fds[1]);
  if (out.read_fd < 0 || out.write_fd < 0) {
    close_fd(out.read_fd);
    close_fd(out.write_fd);
    return false;
  }
  return true;
}

std::string base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string shell_of(const UserInfo& user) { return user.shell.empty() ? "/bin/sh" : user.shell; }

void set_env(std::vector<std::string>& env, std::string_view name, std::string_view value) {
  std::string entry;
  entry.reserve(name.size() + 1 + value.size());
  entry.append(name).append("=").append(value);
  for (auto& existing : env) {
    if (existing.size() > name.size() && existing.compare(0, name.size(), name) == 0 &&
        existing[name.size()] == '=') {
      existing = std::move(entry);
      return;
    }
  }
  env.push_back(std::move(entry));
}

bool valid_env_name(std::string_view name) {
  return !name.empty() && name.find('=') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

std::vector<char*> as_argv(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

// Looks up a group's id (getgrnam_r); false when there is no such group.
bool group_entry_gid(const char* name, gid_t& out) {
  std::vector<char> buf(4096);
  for (;;) {
    group grp{};
    group* result = nullptr;
    int rc = getgrnam_r(name, &grp, buf.data(), buf.size(), &result);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || result == nullptr) {
      return false;
    }
    out = grp.gr_gid;
    return true;
  }
}


[[noreturn]] void child_fail(int error_fd, ChildStage stage) {
  ChildFailure failure{stage, errno};
  write_all(error_fd, &failure, sizeof(failure));
  _exit(1);
}

// Closes every descriptor >= 3 except `keep`. Async-signal-safe.
void close_all_but_stdio_and(int keep) {
  bool done = false;
#ifdef SYS_close_range
  done = (keep <= 3 || syscall(SYS_close_range, 3U, static_cast<unsigned>(keep - 1), 0U) == 0);
#endif
  if (!done) {
    for (int fd = 3; fd < keep; ++fd) {
      close(fd);
    }
  }
  close_fds_from(keep + 1);
}

// Everything the child needs, prepared before fork so the child never allocates.
struct ChildPlan {
  const char* shell;
  char* const* argv;
  char* const* envp;
  const char* home;
  const char* chdir_message;  // "Could not chdir to home directory <home>: "
  int stdin_fd;               // child's ends
  int stdout_fd;
  int stderr_fd;
  int error_fd;
  bool make_controlling_tty;  // stdin_fd is a pty slave to become the controlling terminal
  bool switch_user;
  uid_t uid;
  gid_t gid;
  const std::vector<gid_t>* groups;
};

[[noreturn]] void run_child(const ChildPlan& plan) {
  restore_default_signals();
  if (setsid() < 0) {
    child_fail(plan.error_fd, ChildStage::kSetsid);
  }
  if (plan.make_controlling_tty && ioctl(plan.stdin_fd, TIOCSCTTY, 0) != 0) {
    child_fail(plan.error_fd, ChildStage::kControllingTty);
  }
  // All three sources are >= 3 (see make_pipe), so dup2 never overwrites a source, and the
  // duplicates on 0-2 do not inherit close-on-exec.
  if (dup2(plan.stdin_fd, 0) < 0 || dup2(plan.stdout_fd, 1) < 0 || dup2(plan.stderr_fd, 2) < 0) {
    child_fail(plan.error_fd, ChildStage::kDup2);
  }
  if (plan.switch_user) {
    if (setgroups(plan.groups->size(), plan.groups->data()) != 0) {
      child_fail(plan.error_fd, ChildStage::kSetgroups);
    }
    if (setgid(plan.gid) != 0) {
      child_fail(plan.error_fd, ChildStage::kSetgid);
    }
    if (setuid(plan.uid) != 0) {
      child_fail(plan.error_fd, ChildStage::kSetuid);
    }
    // As OpenSSH's permanently_set_uid: a dropped user must not be able to become root again.
    if (plan.uid != 0 && (setuid(0) == 0 || seteuid(0) == 0 || getuid() != plan.uid ||
                          geteuid() != plan.uid || getgid() != plan.gid ||
                          getegid() != plan.gid)) {
      errno = EPERM;
      child_fail(plan.error_fd, ChildStage::kRegainedPrivilege);
    }
  }
  if (chdir(plan.home) != 0) {
    // sshd's wording; strerrordesc_np is a table lookup (async-signal-safe, untranslated).
    int err = errno;
    const char* reason = strerrordesc_np(err);
    write_all(2, plan.chdir_message, strlen(plan.chdir_message));
    if (reason != nullptr) {
      write_all(2, reason, strlen(reason));
    }
    write_all(2, "\n", 1);
    if (chdir("/") != 0) {
      // Nothing sensible is left to try; the shell starts wherever it is.
    }
  }
  close_all_but_stdio_and(plan.error_fd);
  execve(plan.shell, plan.argv, plan.envp);
  child_fail(plan.error_fd, ChildStage::kExec);
}

}  // namespace

std::vector<std::string> build_session_env(const SpawnRequest& req) {
  std::vector<std::string> env;
  for (const auto& [name, value] : req.env) {
    if (valid_env_name(name) && value.find('\0') == std::string::npos) {
      set_env(env, name, value);
    }
  }
  const UserInfo& user = req.user;
  set_env(env, "USER", user.name);
  set_env(env, "LOGNAME", user.name);
  set_env(env, "HOME", user.home);
  set_env(env, "PATH", user.uid == 0 ? kRootPath : kUserPath);
  set_env(env, "MAIL", std::string(kMailDir) + "/" + user.name);
  set_env(env, "SHELL", shell_of(user));
  if (const char* tz = getenv("TZ")) {
    set_env(env, "TZ", tz);
  }
  set_env(env, "SSH_CLIENT", req.ssh_client);
  set_env(env, "SSH_CONNECTION", req.ssh_connection);
  if (!req.original_command.empty()) {
    set_env(env, "SSH_ORIGINAL_COMMAND", req.original_command);
  }
  return env;
}

std::vector<std::string> build_session_argv(const SpawnRequest& req) {
  std::string name = base_name(shell_of(req.user));
  if (!req.command) {
    return {"-" + name};
  }
  return {name, "-c", *req.command};
}

namespace {

// Gives the pty slave to the session's user as sshd's pty_setowner does: group "tty" when it
// exists (so `write`/`wall` work), mode 0620.
bool give_tty_to_user(const char* tty_name, const UserInfo& user, std::string& error) {
  gid_t group = user.gid;
  mode_t mode = 0600;
  if (group_entry_gid("tty", group)) {
    mode = 0620;
  }
  if (chown(tty_name, user.uid, group) != 0 || chmod(tty_name, mode) != 0) {
    error = std::string("chown/chmod ") + tty_name + ": " + strerror(errno);
    return false;
  }
  return true;
}

std::optional<SpawnedProcess> spawn_impl(const SpawnRequest& req, const PtySettings* pty,
                                         std::string& error) {
  const UserInfo& user = req.user;
  bool as_root = geteuid() == 0;
  if (!as_root && (user.uid != getuid() || user.uid != geteuid())) {
    error = "cannot start a session for user " + user.name +
            ": the server is not running as root and may only serve its own user";
    return std::nullopt;
  }
  if (req.command && req.command->find('\0') != std::string::npos) {
    error = "command contains a NUL byte";
    return std::nullopt;
  }
  std::vector<gid_t> groups;
  if (as_root) {
    auto found = supplementary_groups(user, error);
    if (!found) {
      return std::nullopt;
    }
    groups = std::move(*found);
  }

  std::string shell = shell_of(user);
  std::vector<std::string> argv_strings = build_session_argv(req);
  std::vector<std::string> env_strings = build_session_env(req);
  int master_fd = -1;
  int slave_fd = -1;
  if (pty != nullptr) {
    winsize size{};
    size.ws_col = static_cast<unsigned short>(std::min<uint32_t>(pty->cols, 0xffff));
    size.ws_row = static_cast<unsigned short>(std::min<uint32_t>(pty->rows, 0xffff));
    size.ws_xpixel = static_cast<unsigned short>(std::min<uint32_t>(pty->width_px, 0xffff));
    size.ws_ypixel = static_cast<unsigned short>(std::min<uint32_t>(pty->height_px, 0xffff));
    char tty_name[64] = {};
    if (openpty(&master_fd, &slave_fd, tty_name, nullptr, &size) != 0) {
      error = std::string("openpty: ") + strerror(errno);
      return std::nullopt;
    }
    set_cloexec(master_fd);
    set_cloexec(slave_fd);
    master_fd = move_above_stdio(master_fd);
    slave_fd = move_above_stdio(slave_fd);
    if (master_fd < 0 || slave_fd < 0 || (as_root && !give_tty_to_user(tty_name, user, error))) {
      if (error.empty()) error = std::string("openpty: ") + strerror(errno);
      close_fd(master_fd);
      close_fd(slave_fd);
      return std::nullopt;
    }
    if (!pty->term.empty()) {
      set_env(env_strings, "TERM", pty->term);
    }
    set_env(env_strings, "SSH_TTY", tty_name);
  }
  std::vector<char*> argv = as_argv(argv_strings);
  std::vector<char*> envp = as_argv(env_strings);
  std::string chdir_message = "Could not chdir to home directory " + user.home + ": ";

  bool merge_stderr = req.merge_stderr || pty != nullptr;
  Pipe in, out, err, status;
  auto close_all = [&] {
    for (Pipe* p : {&in, &out, &err, &status}) {
      close_fd(p->read_fd);
      close_fd(p->write_fd);
    }
    close_fd(master_fd);
    close_fd(slave_fd);
  };
  if ((pty == nullptr && (!make_pipe(in) || !make_pipe(out) ||
                          (!merge_stderr && !make_pipe(err)))) ||
      !make_pipe(status)) {
    error = std::string("pipe: ") + strerror(errno);
    close_all();
    return std::nullopt;
  }

  ChildPlan plan{};
  plan.shell = shell.c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.home = user.home.c_str();
  plan.chdir_message = chdir_message.c_str();
  if (pty != nullptr) {
    plan.stdin_fd = plan.stdout_fd = plan.stderr_fd = slave_fd;
    plan.make_controlling_tty = true;
  } else {
    plan.stdin_fd = in.read_fd;
    plan.stdout_fd = out.write_fd;
    plan.stderr_fd = merge_stderr ? out.write_fd : err.write_fd;
  }
  plan.error_fd = status.write_fd;
  plan.switch_user = as_root;
  plan.uid = user.uid;
  plan.gid = user.gid;
  plan.groups = &groups;

  pid_t pid = fork();
  if (pid < 0) {
    error = std::string("fork: ") + strerror(errno);
    close_all();
    return std::nullopt;
  }
  if (pid == 0) {
    run_child(plan);
  }

  close_fd(in.read_fd);
  close_fd(out.write_fd);
  close_fd(err.write_fd);
  close_fd(status.write_fd);
  close_fd(slave_fd);

  // EOF means the exec happened (the write end was close-on-exec); a record means it did not.
  ChildFailure failure{};
  size_t got = 0;
  while (got < sizeof(failure)) {
    ssize_t n = read(status.read_fd, reinterpret_cast<char*>(&failure) + got,
                     sizeof(failure) - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  close_fd(status.read_fd);
  if (got != 0) {
    if (got == sizeof(failure)) {
      error = std::string(stage_text(failure.stage));
      if (failure.stage == ChildStage::kExec) {
        error += " " + shell;
      }
      error += std::string(": ") + strerror(failure.err);
    } else {
      error = "session child failed during setup";
    }
    close_all();
    int ignored;
    while (waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    return std::nullopt;
  }

  SpawnedProcess proc;
  proc.pid = pid;
  if (pty != nullptr) {
    // Two descriptors of one master, so the caller can treat input and output like pipes.
    proc.stdin_fd = master_fd;
    proc.stdout_fd = fcntl(master_fd, F_DUPFD_CLOEXEC, 3);
    master_fd = -1;
    if (proc.stdout_fd < 0) {
      error = std::string("dup of pty master: ") + strerror(errno);
      close_fd(proc.stdin_fd);
      kill_session(pid, SIGHUP);
      int ignored;
      while (waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
      }
      return std::nullopt;
    }
  } else {
    proc.stdin_fd = in.write_fd;
    proc.stdout_fd = out.read_fd;
  }
  proc.stderr_fd = merge_stderr ? -1 : err.read_fd;
  for (int fd : {proc.stdin_fd, proc.stdout_fd, proc.stderr_fd}) {
    if (fd >= 0) {
      set_nonblocking(fd);
    }
  }
  return proc;
}

}  // namespace

std::optional<SpawnedProcess> spawn_session(const SpawnRequest& req, std::string& error) {
  return spawn_impl(req, nullptr, error);
}

std::optional<SpawnedProcess> spawn_pty_session(const SpawnRequest& req, const PtySettings& pty,
                                                std::string& error) {
  return spawn_impl(req, &pty, error);
}

bool resize_pty(int master_fd, uint32_t cols, uint32_t rows, uint32_t width_px,
                uint32_t height_px) {
  winsize size{};
  size.ws_col = static_cast<unsigned short>(std::min<uint32_t>(cols, 0xffff));
  size.ws_row = static_cast<unsigned short>(std::min<uint32_t>(rows, 0xffff));
  size.ws_xpixel = static_cast<unsigned short>(std::min<uint32_t>(width_px, 0xffff));
  size.ws_ypixel = static_cast<unsigned short>(std::min<uint32_t>(height_px, 0xffff));
  return ioctl(master_fd, TIOCSWINSZ, &size) == 0;
}

bool kill_session(pid_t pid, int sig) {
  if (pid <= 0) {
    errno = EINVAL;
    return false;
  }
  return killpg(pid, sig) == 0 || kill(pid, sig) == 0;
}

namespace {
struct SignalName {
  int sig;
  std::string_view name;
};
// RFC 4254 section 6.10.
constexpr SignalName kSignalNames[] = {
    {SIGABRT, "ABRT"}, {SIGALRM, "ALRM"}, {SIGFPE, "FPE"},   {SIGHUP, "HUP"},   {SIGILL, "ILL"},
    {SIGINT, "INT"},   {SIGKILL, "KILL"}, {SIGPIPE, "PIPE"}, {SIGQUIT, "QUIT"}, {SIGSEGV, "SEGV"},
    {SIGTERM, "TERM"}, {SIGUSR1, "USR1"}, {SIGUSR2, "USR2"},
};
}  // namespace

std::string signal_name(int sig) {
  for (const auto& entry : kSignalNames) {
    if (entry.sig == sig) {
      return std::string(entry.name);
    }
  }
  return "SIG@openssh.com";
}

std::optional<int> signal_from_name(std::string_view name) {
  for (const auto& entry : kSignalNames) {
    if (entry.name == name) {
      return entry.sig;
    }
  }
  return std::nullopt;
}

std::optional<ExitReport> decode_wait_status(int wait_status) {
  ExitReport report;
  if (WIFEXITED(wait_status)) {
    report.exit_status = WEXITSTATUS(wait_status);
    return report;
  }
  if (WIFSIGNALED(wait_status)) {
    report.signaled = true;
    report.signal_name = signal_name(WTERMSIG(wait_status));
    report.core_dumped = WCOREDUMP(wait_status);
    return report;
  }
  return std::nullopt;
}

}  // namespace hashi::server
