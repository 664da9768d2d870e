// Tests for src/server/log: OpenSSH's level names, prefixes and escaping.
#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "server/log.h"

namespace hashi::server {
namespace {

TEST(OsLog, ParsesLevelsCaseInsensitively) {
  EXPECT_EQ(parse_log_level("QUIET"), LogLevel::kQuiet);
  EXPECT_EQ(parse_log_level("fatal"), LogLevel::kFatal);
  EXPECT_EQ(parse_log_level("Error"), LogLevel::kError);
  EXPECT_EQ(parse_log_level("INFO"), LogLevel::kInfo);
  EXPECT_EQ(parse_log_level("verbose"), LogLevel::kVerbose);
  EXPECT_EQ(parse_log_level("DEBUG"), LogLevel::kDebug1);
  EXPECT_EQ(parse_log_level("debug1"), LogLevel::kDebug1);
  EXPECT_EQ(parse_log_level("DEBUG2"), LogLevel::kDebug2);
  EXPECT_EQ(parse_log_level("dEbUg3"), LogLevel::kDebug3);
  EXPECT_FALSE(parse_log_level("DEBUG4").has_value());
  EXPECT_FALSE(parse_log_level("").has_value());
  EXPECT_FALSE(parse_log_level("INFO ").has_value());
  EXPECT_EQ(log_level_name(LogLevel::kDebug), "DEBUG1");
  EXPECT_EQ(log_level_name(LogLevel::kVerbose), "VERBOSE");
}

TEST(OsLog, ParsesSyslogFacilities) {
  EXPECT_EQ(parse_syslog_facility("AUTH"), LOG_AUTH);
  EXPECT_EQ(parse_syslog_facility("authpriv"), LOG_AUTHPRIV);
  EXPECT_EQ(parse_syslog_facility("DAEMON"), LOG_DAEMON);
  EXPECT_EQ(parse_syslog_facility("local7"), LOG_LOCAL7);
  EXPECT_FALSE(parse_syslog_facility("KERN").has_value());
  EXPECT_EQ(default_syslog_facility(), LOG_AUTH);
}

class OsLogOutput : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(pipe2(fds_, O_NONBLOCK), 0);
    log_init("hashi-test", LogLevel::kDebug2, true, LOG_AUTH);
    log_redirect_stderr_to(fds_[1]);
  }
  void TearDown() override {
    log_redirect_stderr_to(STDERR_FILENO);
    log_init("hashi", LogLevel::kInfo, true, LOG_AUTH);
    close(fds_[0]);
    close(fds_[1]);
  }
  std::string drain() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds_[0], buf, sizeof(buf))) > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  int fds_[2] = {-1, -1};
};

TEST_F(OsLogOutput, StderrFormatMatchesSshdDashE) {
  log_info("Server listening on %s port %d.", "0.0.0.0", 22);
  log_error("Bind to port %d on %s failed: %s.", 22, "::", "Address already in use");
  log_verbose("Connection closed by %s port %u", "192.0.2.1", 4242u);
  log_debug("sshd version %s", "hashi");
  log_debug2("fd %d setting O_NONBLOCK", 3);
  log_debug3("not shown at DEBUG2");
  EXPECT_EQ(drain(),
            "Server listening on 0.0.0.0 port 22.\r\n"
            "Bind to port 22 on :: failed: Address already in use.\r\n"
            "Connection closed by 192.0.2.1 port 4242\r\n"
            "debug1: sshd version hashi\r\n"
            "debug2: fd 3 setting O_NONBLOCK\r\n");
}

TEST_F(OsLogOutput, LevelFiltersAndPreservesErrno) {
  log_set_level(LogLevel::kInfo);
  EXPECT_FALSE(log_enabled(LogLevel::kVerbose));
  EXPECT_TRUE(log_enabled(LogLevel::kError));
  errno = ENOENT;
  log_verbose("hidden");
  log_debug("hidden");
  logf(LogLevel::kInfo, "shown %d", 1);
  EXPECT_EQ(errno, ENOENT);
  log_set_level(LogLevel::kQuiet);
  log_error("hidden");
  EXPECT_EQ(log_get_level(), LogLevel::kQuiet);
  EXPECT_EQ(drain(), "shown 1\r\n");
}

TEST_F(OsLogOutput, PeerStringsCannotForgeLines) {
  log_info("Invalid user %s from %s", "evil\nAccepted password for root", "192.0.2.1");
  EXPECT_EQ(drain(), "Invalid user evil\\012Accepted password for root from 192.0.2.1\r\n");
}

TEST(OsLog, EscapesLikeStrnvis) {
  char out[64];
  EXPECT_EQ(log_escape("a\\b\x01\x7f\xe9\tz", out, sizeof(out), false), 18u);
  EXPECT_STREQ(out, "a\\\\b\\001\\177\\351\tz");
  log_escape("l1\nl2\t", out, sizeof(out), true);
  EXPECT_STREQ(out, "l1\\nl2\\t");
  // Truncation never splits an escape and always leaves a NUL.
  EXPECT_EQ(log_escape("ab\x01", out, 5, false), 2u);
  EXPECT_STREQ(out, "ab");
}

TEST(OsLog, FatalExitsWith255) {
  EXPECT_EXIT(
      {
        log_init("hashi-test", LogLevel::kInfo, true, LOG_AUTH);
        log_fatal("Cannot bind any address.");
      },
      ::testing::ExitedWithCode(255), "Cannot bind any address.");
}

}  // namespace
}  // namespace hashi::server
