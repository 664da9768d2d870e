// Process plumbing for the server's main process and its children: PID file, detaching from the
// terminal, descriptor flags, and signal dispositions.
#pragma once

#include <string>
#include <string_view>

namespace hashi::server {

// write_pid_file writes the calling process's pid and a newline to `path` (created with mode
// 0644, truncated if present). A path of "none" (PidFile none) or "" does nothing and succeeds.
// On failure returns false with `error` set ("Couldn't create pid file \"...\": <reason>").
[[nodiscard]] bool write_pid_file(std::string_view path, std::string& error);

// remove_pid_file unlinks `path` unless it is "none" or ""; a missing file is not an error.
void remove_pid_file(std::string_view path);

// daemonize detaches the process as sshd does without -D: fork (the parent exits 0), setsid,
// fork again (so the daemon can never reacquire a controlling terminal; the middle process
// exits 0), chdir("/"), and stdin/stdout/stderr on /dev/null. Returns in the grandchild only;
// write the PID file after it. Call it before any thread is started. On failure returns false
// with `error` set and the process unchanged as far as possible.
[[nodiscard]] bool daemonize(std::string& error);

// write_all writes all `len` bytes of `buf` to `fd`, retrying on EINTR and short writes; gives up
// silently on any other error (it is used for diagnostics and child-to-parent reports, where
// there is no one left to tell). Async-signal-safe.
void write_all(int fd, const void* buf, size_t len);

// close_fds_from closes every descriptor >= first (close_range(2), with a loop up to the fd
// limit as the fallback). Async-signal-safe.
void close_fds_from(int first);

// set_nonblocking / set_cloexec set O_NONBLOCK / FD_CLOEXEC on fd; false (errno set) on failure.
// set_blocking clears O_NONBLOCK. Async-signal-safe.
bool set_nonblocking(int fd);
bool set_blocking(int fd);
bool set_cloexec(int fd);

// ignore_sigpipe sets SIGPIPE to SIG_IGN so that a write to a closed socket or pipe returns EPIPE
// instead of killing the server. Children get the default back (restore_default_signals).
void ignore_sigpipe();

// restore_default_signals sets every catchable signal back to SIG_DFL and clears the signal
// mask: what a child must see before exec, since ignored dispositions and the mask survive
// exec (a shell started with SIGPIPE ignored breaks `yes | head`). Async-signal-safe.
void restore_default_signals();

}  // namespace hashi::server
