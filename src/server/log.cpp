#include "server/log.h"

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "server/daemon.h"

namespace hashi::server {
namespace {

// OpenSSH's MSGBUFSIZ; longer messages are truncated, as there.
constexpr size_t kMaxLogMessageLen = 1024;
// Room for the syslog ident ("hashi-server" and the like); a longer name is truncated.
constexpr size_t kMaxProgramNameLen = 64;

// Process-wide logger settings (see log.h for why these are globals). Atomics so a reader in a
// signal handler or another thread never sees a torn value.
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_to_stderr{true};
std::atomic<int> g_facility{LOG_AUTH};
std::atomic<int> g_stderr_fd{STDERR_FILENO};
char g_program[kMaxProgramNameLen] = "hashi";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) {
      return false;
    }
  }
  return true;
}

struct LevelName {
  std::string_view name;
  LogLevel level;
};
constexpr LevelName kLevelNames[] = {
    {"QUIET", LogLevel::kQuiet},     {"FATAL", LogLevel::kFatal},   {"ERROR", LogLevel::kError},
    {"INFO", LogLevel::kInfo},       {"VERBOSE", LogLevel::kVerbose}, {"DEBUG", LogLevel::kDebug},
    {"DEBUG1", LogLevel::kDebug1}, {"DEBUG2", LogLevel::kDebug2}, {"DEBUG3", LogLevel::kDebug3},
};

struct FacilityName {
  std::string_view name;
  int facility;
};
constexpr FacilityName kFacilityNames[] = {
    {"DAEMON", LOG_DAEMON}, {"USER", LOG_USER},     {"AUTH", LOG_AUTH},
    {"AUTHPRIV", LOG_AUTHPRIV}, {"LOCAL0", LOG_LOCAL0}, {"LOCAL1", LOG_LOCAL1},
    {"LOCAL2", LOG_LOCAL2}, {"LOCAL3", LOG_LOCAL3}, {"LOCAL4", LOG_LOCAL4},
    {"LOCAL5", LOG_LOCAL5}, {"LOCAL6", LOG_LOCAL6}, {"LOCAL7", LOG_LOCAL7},
};

// The prefix OpenSSH's do_log puts before the message, or nullptr.
const char* level_prefix(LogLevel level, bool to_stderr) {
  switch (level) {
    case LogLevel::kFatal:
      return to_stderr ? nullptr : "fatal";
    case LogLevel::kError:
      return to_stderr ? nullptr : "error";
    case LogLevel::kDebug1:
      return "debug1";
    case LogLevel::kDebug2:
      return "debug2";
    case LogLevel::kDebug3:
      return "debug3";
    default:
      return nullptr;
  }
}

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::kFatal:
      return LOG_CRIT;
    case LogLevel::kError:
      return LOG_ERR;
    case LogLevel::kInfo:
    case LogLevel::kVerbose:
      return LOG_INFO;
    default:
      return LOG_DEBUG;
  }
}


void vlog(LogLevel level, const char* fmt, va_list args) {
  if (!log_enabled(level)) {
    return;
  }
  int saved_errno = errno;
  bool to_stderr = g_to_stderr.load(std::memory_order_relaxed);

  char raw[kMaxLogMessageLen];
  size_t raw_len = 0;
  if (const char* prefix = level_prefix(level, to_stderr)) {
    int n = snprintf(raw, sizeof(raw), "%s: ", prefix);
    raw_len = n > 0 ? static_cast<size_t>(n) : 0;
  }
  int n = vsnprintf(raw + raw_len, sizeof(raw) - raw_len, fmt, args);
  if (n > 0) {
    raw_len += static_cast<size_t>(n);
  }
  if (raw_len >= sizeof(raw)) {
    raw_len = sizeof(raw) - 1;
  }

  // Escaping can grow the text fourfold; the result is truncated to the buffer like OpenSSH's.
  char escaped[kMaxLogMessageLen + 2];
  size_t len = log_escape({raw, raw_len}, escaped, kMaxLogMessageLen, !to_stderr);
  if (to_stderr) {
    escaped[len++] = '\r';
    escaped[len++] = '\n';
    write_all(g_stderr_fd.load(std::memory_order_relaxed), escaped, len);
  } else {
    // OpenSSH logs at most 500 characters per syslog line.
    syslog(g_facility.load(std::memory_order_relaxed) | syslog_priority(level), "%.500s",
           escaped);
  }
  errno = saved_errno;
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (const auto& entry : kLevelNames) {
    if (iequals(entry.name, name)) {
      return entry.level;
    }
  }
  return std::nullopt;
}

std::string_view log_level_name(LogLevel level) {
  for (const auto& entry : kLevelNames) {
    if (entry.level == level && entry.name != "DEBUG") {
      return entry.name;
    }
  }
  return "UNKNOWN";
}

std::optional<int> parse_syslog_facility(std::string_view name) {
  for (const auto& entry : kFacilityNames) {
    if (iequals(entry.name, name)) {
      return entry.facility;
    }
  }
  return std::nullopt;
}

int default_syslog_facility() { return LOG_AUTH; }

void log_init(std::string_view program, LogLevel level, bool to_stderr, int syslog_facility) {
  size_t len = program.size() < sizeof(g_program) - 1 ? program.size() : sizeof(g_program) - 1;
  memcpy(g_program, program.data(), len);
  g_program[len] = '\0';
  g_level.store(static_cast<int>(level));
  g_to_stderr.store(to_stderr);
  g_facility.store(syslog_facility);
  if (!to_stderr) {
    // openlog keeps the ident pointer; g_program lives for the whole process.
    openlog(g_program, LOG_PID, syslog_facility);
  }
}

void log_set_level(LogLevel level) { g_level.store(static_cast<int>(level)); }

LogLevel log_get_level() { return static_cast<LogLevel>(g_level.load()); }

void log_redirect_stderr_to(int fd) { g_stderr_fd.store(fd); }

bool log_enabled(LogLevel level) {
  return level != LogLevel::kQuiet &&
         static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

size_t log_escape(std::string_view in, char* out, size_t out_len, bool for_syslog) {
  if (out_len == 0) {
    return 0;
  }
  size_t len = 0;
  auto room = [&](size_t n) { return len + n < out_len; };  // keeps one byte for the NUL
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      if (!room(2)) break;
      out[len++] = '\\';
      out[len++] = '\\';
    } else if (for_syslog && (c == '\n' || c == '\t')) {
      if (!room(2)) break;
      out[len++] = '\\';
      out[len++] = c == '\n' ? 'n' : 't';
    } else if ((c >= 0x20 && c < 0x7f) || (!for_syslog && c == '\t')) {
      if (!room(1)) break;
      out[len++] = static_cast<char>(c);
    } else {
      if (!room(4)) break;
      out[len++] = '\\';
      out[len++] = static_cast<char>('0' + ((c >> 6) & 7));
      out[len++] = static_cast<char>('0' + ((c >> 3) & 7));
      out[len++] = static_cast<char>('0' + (c & 7));
    }
  }
  out[len] = '\0';
  return len;
}

void logf(LogLevel level, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vlog(level, fmt, args);
  va_end(args);
}

#define HASHI_DEFINE_LOG_FN(fn, level) \
  void fn(const char* fmt, ...) {      \
    va_list args;                      \
    va_start(args, fmt);               \
    vlog(level, fmt, args);            \
    va_end(args);                      \
  }
HASHI_DEFINE_LOG_FN(log_error, LogLevel::kError)
HASHI_DEFINE_LOG_FN(log_info, LogLevel::kInfo)
HASHI_DEFINE_LOG_FN(log_verbose, LogLevel::kVerbose)
HASHI_DEFINE_LOG_FN(log_debug, LogLevel::kDebug1)
HASHI_DEFINE_LOG_FN(log_debug2, LogLevel::kDebug2)
HASHI_DEFINE_LOG_FN(log_debug3, LogLevel::kDebug3)
#undef HASHI_DEFINE_LOG_FN

void log_fatal(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vlog(LogLevel::kFatal, fmt, args);
  va_end(args);
  exit(255);
}

}  // namespace hashi::server
