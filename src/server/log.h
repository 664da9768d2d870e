// Server and client logging in OpenSSH's wording and levels, to stderr (-e / -d) or syslog.
//
// Messages are formatted as OpenSSH's log.c does, so log tooling (fail2ban, auditd rules, grep
// recipes) keeps working: debug messages carry a "debug1: " .. "debug3: " prefix, errors and
// fatal messages carry "error: " / "fatal: " in syslog only, and control characters and bytes
// above 0x7e are escaped as \ooo (a backslash is doubled) so a peer-supplied string cannot
// forge a log line. On stderr each line ends in "\r\n", as `sshd -D -e` prints it (the client
// may have the terminal in raw mode).
//
// The settings are process-wide (a logger is one per process by nature); log_init is meant to be
// called once by main() before threads start. These functions are for the drivers and programs,
// never for the sans-I/O core.
//
// Async-signal safety: with stderr output, logf formats into a stack buffer with vsnprintf (no
// heap for %s/%d/%u/%x/%c/%p conversions; avoid %f and %ls) and emits one write(2), so it may be
// used in a forked child of a multithreaded process and in a signal handler. Syslog output calls
// syslog(3), which takes a lock and may allocate: do not use it between fork and exec, or in a
// signal handler. log_fatal calls exit(255); in a forked child use _exit instead.
#pragma once

#include <optional>
#include <string_view>

namespace hashi::server {

// Ordered from least to most verbose; a message is emitted when its level <= the configured one.
enum class LogLevel : int {
  kQuiet = 0,
  kFatal,
  kError,
  kInfo,
  kVerbose,
  kDebug1,
  kDebug2,
  kDebug3,
  kDebug = kDebug1,
};

// parse_log_level maps a LogLevel keyword (QUIET, FATAL, ERROR, INFO, VERBOSE, DEBUG, DEBUG1,
// DEBUG2, DEBUG3; case-insensitive) to its level, or nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view name);

// log_level_name returns the canonical keyword of `level` ("DEBUG1" for kDebug).
std::string_view log_level_name(LogLevel level);

// parse_syslog_facility maps a SyslogFacility keyword (DAEMON, USER, AUTH, AUTHPRIV, LOCAL0 ..
// LOCAL7; case-insensitive) to its syslog(3) facility value, or nullopt.
std::optional<int> parse_syslog_facility(std::string_view name);

// The facility sshd uses unless SyslogFacility says otherwise.
int default_syslog_facility();

// log_init sets the program name (the syslog ident; it is copied), the level, and the output:
// stderr when `to_stderr`, else syslog with LOG_PID and `syslog_facility`.
void log_init(std::string_view program, LogLevel level, bool to_stderr, int syslog_facility);

// log_set_level changes the level only (e.g. after the config file is read).
void log_set_level(LogLevel level);
LogLevel log_get_level();

// log_redirect_stderr_to makes stderr output go to `fd` instead of 2 (OpenSSH's
// log_redirect_stderr_to; used by tests and when fd 2 is handed to a session).
void log_redirect_stderr_to(int fd);

// log_enabled reports whether a message at `level` would be emitted (to skip costly formatting).
bool log_enabled(LogLevel level);

// logf emits one message at `level`. The message has no trailing newline. errno is preserved.
void logf(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

void log_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));  // DEBUG1
void log_debug2(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug3(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// log_fatal emits the message at FATAL and exits with status 255.
[[noreturn]] void log_fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// log_escape writes `in` to `out` (capacity `out_len`, always NUL-terminated when out_len > 0)
// with the escaping described above; `for_syslog` also escapes tab and newline as \t and \n
// instead of octal. Returns the length written. Async-signal-safe.
size_t log_escape(std::string_view in, char* out, size_t out_len, bool for_syslog);

}  // namespace hashi::server
