// Starting what a session channel runs (RFC 4254 section 6.5: shell, exec, subsystem) the way
// sshd's session.c does: the user's shell with `-c command`, a fresh environment, the user's
// privileges and home directory, a new session, default signal dispositions.
//
// Everything the child needs (argv, environment, supplementary groups) is computed before fork,
// so the child runs only async-signal-safe calls between fork and exec and is safe to start from
// a multithreaded (Asio) process. Setup failures in the child (privilege drop, exec) are sent
// back over a close-on-exec pipe, so spawn_session reports them synchronously.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/users.h"

namespace hashi::server {

struct SpawnRequest {
  UserInfo user;
  // The command of an "exec" request (or the subsystem's command); nullopt runs a login shell.
  std::optional<std::string> command;
  // Variables from the client's "env" requests, already filtered by AcceptEnv. They cannot
  // override the variables set by the server (USER, HOME, PATH, SSH_CONNECTION, ...).
  std::vector<std::pair<std::string, std::string>> env;
  std::string ssh_connection;  // "client_ip client_port server_ip server_port"
  std::string ssh_client;      // "client_ip client_port server_port"
  // The client's command when a forced command replaced it (SSH_ORIGINAL_COMMAND); empty = unset.
  std::string original_command;
  // Child's stderr goes to the stdout pipe (stderr_fd is then -1).
  bool merge_stderr = false;
};

// The parent's ends: nonblocking and close-on-exec. stderr_fd is -1 when stderr was merged (or,
// later, for a pty session, where stdin_fd and stdout_fd are two descriptors of the master).
// The caller owns the descriptors and must reap the child (waitpid) — a SIGCHLD disposition of
// SIG_IGN would make the kernel reap it and lose the exit status.
struct SpawnedProcess {
  pid_t pid = -1;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// Default PATH values (OpenSSH's _PATH_STDPATH and the one it uses for root).
inline constexpr std::string_view kUserPath = "/usr/local/bin:/usr/bin:/bin:/usr/games";
inline constexpr std::string_view kRootPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
inline constexpr std::string_view kMailDir = "/var/mail";

// build_session_env returns the child's environment as "NAME=value" strings, in sshd's order:
// the client's variables first, then USER, LOGNAME, HOME, PATH, MAIL, SHELL, TZ (when the server
// has it), SSH_CLIENT, SSH_CONNECTION, SSH_ORIGINAL_COMMAND — each later one replacing an earlier
// variable of the same name. Client variables with an empty name, '=' or NUL are dropped.
std::vector<std::string> build_session_env(const SpawnRequest& req);

// build_session_argv returns the shell's argument vector: {"-sh"} (login shell, basename with
// '-' prefix) when there is no command, else {"sh", "-c", command}.
std::vector<std::string> build_session_argv(const SpawnRequest& req);

// spawn_session starts `req` with pipes for stdin/stdout/stderr. When the server runs as root it
// switches to the user (supplementary groups, gid, uid; then verifies that uid 0 cannot be
// regained); otherwise only the server's own user may be spawned. The child starts a new
// session (setsid), gets default signal dispositions and an empty mask, keeps only fds 0-2, and
// changes to the home directory, or to "/" after printing sshd's "Could not chdir to home
// directory" message on its stderr.
// On failure returns nullopt with `error` set; no descriptor is left open and the child, if one
// was started, has been reaped.
std::optional<SpawnedProcess> spawn_session(const SpawnRequest& req, std::string& error);

// Terminal parameters of a "pty-req" (RFC 4254 section 6.2).
struct PtySettings {
  std::string term;  // TERM for the child; empty leaves TERM unset
  uint32_t cols = 80;
  uint32_t rows = 24;
  uint32_t width_px = 0;
  uint32_t height_px = 0;
};

// spawn_pty_session starts `req` on a new pseudo-terminal (openpty) instead of pipes, as sshd does
// after a pty-req: the slave becomes the child's controlling terminal and its stdin, stdout and
// stderr; TERM and SSH_TTY are added to the environment; when the server runs as root the slave
// is given to the user (group "tty" when it exists, mode 0620). In the result stdin_fd and
// stdout_fd are two descriptors of the master (write and read sides; close both) and stderr_fd is
// -1; merge_stderr is implied. Terminal modes (RFC 4254 section 8) are not applied yet.
// Errors as spawn_session.
std::optional<SpawnedProcess> spawn_pty_session(const SpawnRequest& req, const PtySettings& pty,
                                                std::string& error);

// resize_pty applies a "window-change" request to the master side (TIOCSWINSZ; the kernel sends
// SIGWINCH to the terminal's foreground process group). Returns false (errno set) on failure.
bool resize_pty(int master_fd, uint32_t cols, uint32_t rows, uint32_t width_px,
                uint32_t height_px);

// kill_session sends `sig` to the session's process group (the child is its leader), falling
// back to the process itself. Returns false (errno set) when neither could be signalled.
bool kill_session(pid_t pid, int sig);

// How a session's process ended, as the "exit-status" / "exit-signal" requests carry it
// (RFC 4254 section 6.10).
struct ExitReport {
  bool signaled = false;
  int exit_status = 0;      // valid when !signaled
  std::string signal_name;  // valid when signaled: "TERM", "KILL", ... (see signal_name)
  bool core_dumped = false;
};

// decode_wait_status translates a waitpid status; nullopt for stopped/continued statuses.
std::optional<ExitReport> decode_wait_status(int wait_status);

// signal_name returns the RFC 4254 section 6.10 name of `sig` without "SIG" (e.g. "TERM"); a
// signal that section does not name is reported as "SIG@openssh.com", as OpenSSH's sig2name does.
std::string signal_name(int sig);

// signal_from_name maps a name from a "signal" channel request ("TERM", no "SIG" prefix) to its
// number; only the RFC 4254 section 6.10 names are accepted.
std::optional<int> signal_from_name(std::string_view name);

}  // namespace hashi::server
