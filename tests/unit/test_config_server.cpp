#include <gtest/gtest.h>

#include "config/algorithms.h"
#include "config/server_config.h"

using namespace hashi::config;

namespace {

struct Fixture {
  MemoryFileSource fs;
  std::vector<ConfigDiagnostic> diags;

  std::optional<ServerOptions> parse(const std::string& text,
                                     const std::vector<std::string>& cli = {}) {
    diags.clear();
    fs.files["/etc/hashi/sshd_config"] = text;
    return parse_server_config("/etc/hashi/sshd_config", cli, fs, diags);
  }
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& d : diags) {
      out.push_back(d.message);
    }
    return out;
  }
};

const std::string kPath = "/etc/hashi/sshd_config";

}  // namespace

TEST(ConfigServer, FirstValueWinsListsAccumulate) {
  Fixture t;
  auto o = t.parse(
      "Port 22\nPort 2222\nListenAddress 127.0.0.1\nListenAddress [::1]:2200\n"
      "HostKey /k1\nHostKey /k2\n"
      "PasswordAuthentication no\nPasswordAuthentication yes\n"
      "PermitRootLogin without-password\nMaxAuthTries 3\nLoginGraceTime 1m\n"
      "AuthorizedKeysFile .ssh/ak %h/.ssh/ak2\nAuthorizedKeysFile ignored\n"
      "Subsystem sftp /usr/lib/hashi/sftp-server -l INFO\n"
      "Ciphers -aes*-ctr\nRekeyLimit 1G 1h\nAllowUsers a b\nAllowUsers c\n"
      "Banner none\nUsePAM yes\n");
  ASSERT_TRUE(o) << (t.diags.empty() ? "" : t.diags[0].message);
  EXPECT_EQ(o->ports, (std::vector<uint16_t>{22, 2222}));
  EXPECT_EQ(o->listen_addresses, (std::vector<std::string>{"127.0.0.1", "[::1]:2200"}));
  EXPECT_EQ(o->host_keys, (std::vector<std::string>{"/k1", "/k2"}));
  EXPECT_FALSE(o->password_authentication);
  EXPECT_EQ(o->permit_root_login, "prohibit-password");
  EXPECT_EQ(o->max_auth_tries, 3u);
  EXPECT_EQ(o->login_grace_time, 60u);
  EXPECT_EQ(o->authorized_keys_files, (std::vector<std::string>{".ssh/ak", "%h/.ssh/ak2"}));
  EXPECT_EQ(o->subsystems.at("sftp"), "/usr/lib/hashi/sftp-server -l INFO");
  EXPECT_EQ(o->ciphers, (std::vector<std::string>{"chacha20-poly1305@openssh.com",
                                                  "aes128-gcm@openssh.com",
                                                  "aes256-gcm@openssh.com"}));
  EXPECT_EQ(o->rekey_bytes, uint64_t{1} << 30);
  EXPECT_EQ(o->rekey_seconds, 3600u);
  EXPECT_EQ(o->allow_users, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(o->banner.empty());
  EXPECT_TRUE(o->use_pam);
  EXPECT_EQ(o->kex, default_algorithms(AlgorithmKind::kKex));
}

TEST(ConfigServer, DefaultsAndCommandLinePrecedence) {
  Fixture t;
  auto o = t.parse("PermitRootLogin yes\nLogLevel VERBOSE\n",
                   {"PermitRootLogin=no", "Port 2022"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->permit_root_login, "no");
  EXPECT_EQ(o->log_level, "VERBOSE");
  EXPECT_EQ(o->ports, (std::vector<uint16_t>{2022}));
  EXPECT_EQ(o->authorized_keys_files,
            (std::vector<std::string>{".ssh/authorized_keys", ".ssh/authorized_keys2"}));
  EXPECT_EQ(o->host_keys.size(), 3u);
  o = t.parse("");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->ports, (std::vector<uint16_t>{22}));
  EXPECT_EQ(o->max_startups, "10:30:100");
}

TEST(ConfigServer, UnknownVersusUnsupported) {
  Fixture t;
  auto o = t.parse("# c\nGSSAPIAuthentication no\nUseLogin no\nProtocol 2\nFrobnicate yes\n");
  EXPECT_FALSE(o);
  EXPECT_EQ(t.messages(),
            (std::vector<std::string>{kPath + ":2: Unsupported option GSSAPIAuthentication",
                                      kPath + ":3: Deprecated option UseLogin",
                                      kPath + ":5: Bad configuration option: frobnicate"}));
  EXPECT_FALSE(t.diags[0].fatal);
  EXPECT_TRUE(t.diags[2].fatal);
  EXPECT_EQ(t.diags[2].line, 5u);

  // Warnings alone do not fail the parse.
  o = t.parse("ChannelTimeout session=5m\nKerberosAuthentication no\n");
  EXPECT_TRUE(o);
  EXPECT_EQ(t.diags.size(), 2u);
}

TEST(ConfigServer, BadValuesAreFatalWithLocation) {
  Fixture t;
  auto expect = [&](const std::string& text, const std::string& message) {
    EXPECT_FALSE(t.parse(text)) << text;
    ASSERT_FALSE(t.diags.empty()) << text;
    EXPECT_EQ(t.diags.back().message, kPath + ":" + message);
    EXPECT_TRUE(t.diags.back().fatal);
  };
  expect("Port 0\n", "1: Badly formatted port number.");
  expect("\nPermitRootLogin maybe\n", "2: unsupported option \"maybe\"");
  expect("MaxAuthTries -1\n", "1: Bad number '-1'");
  expect("KexAlgorithms +foo\n", "1: Bad KexAlgorithms spec '+foo': Unsupported algorithm 'foo'");
  expect("Subsystem sftp /a\nSubsystem sftp /b\n", "2: Subsystem 'sftp' already defined.");
  expect("Match User bob\n  Port 23\n",
         "2: Directive 'port' is not allowed within a Match block");
  expect("Match User bob\n  PasswordAuthentication perhaps\n",
         "2: Bad yes/no argument: perhaps");
  expect("Match Colour blue\n", "1: Unsupported Match attribute Colour");
  expect("Match User\n", "1: Missing Match criteria for User");
  expect("Match All User x\n", "1: 'all' cannot be combined with other Match attributes");
  expect("LoginGraceTime 2x\n", "1: invalid time value '2x'");
}

TEST(ConfigServer, MatchBlocksResolve) {
  Fixture t;
  auto o = t.parse(
      "PasswordAuthentication no\nAllowTcpForwarding no\nAcceptEnv LANG\n"
      "Match User alice,!admin Address 10.0.0.0/8\n"
      "  PasswordAuthentication yes\n"
      "  AcceptEnv EDITOR\n"
      "Match Group staff\n"
      "  PasswordAuthentication no\n"  // an earlier matching block already set it
      "  AllowTcpForwarding local\n"
      "Match LocalPort 2222 Host *.example.com\n"
      "  ForceCommand internal-sftp -d /upload\n"
      "Match all\n  Banner /etc/banner\n");
  ASSERT_TRUE(o) << (t.diags.empty() ? "" : t.diags[0].message);
  ASSERT_EQ(o->match_blocks.size(), 4u);
  EXPECT_EQ(o->match_blocks[0].conditions.size(), 2u);
  EXPECT_FALSE(o->password_authentication);  // global value unaffected
  EXPECT_TRUE(o->banner.empty());

  MatchContext ctx;
  ctx.user = "alice";
  ctx.groups = {"users", "staff"};
  ctx.address = "10.1.2.3";
  ctx.host = "Client.Example.com";
  ctx.local_port = 2222;
  ServerOptions r = resolve_match(*o, ctx);
  EXPECT_TRUE(r.password_authentication);
  EXPECT_EQ(r.accept_env, (std::vector<std::string>{"EDITOR"}));
  EXPECT_EQ(r.allow_tcp_forwarding, "local");
  EXPECT_EQ(r.force_command, "internal-sftp -d /upload");
  EXPECT_EQ(r.banner, "/etc/banner");

  ctx.address = "192.168.1.1";
  ctx.groups = {"users"};
  ctx.local_port = 22;
  r = resolve_match(*o, ctx);
  EXPECT_FALSE(r.password_authentication);
  EXPECT_EQ(r.accept_env, (std::vector<std::string>{"LANG"}));
  EXPECT_EQ(r.allow_tcp_forwarding, "no");
  EXPECT_TRUE(r.force_command.empty());

  // Negated user in the list excludes the block.
  ctx.user = "admin";
  ctx.address = "10.0.0.1";
  r = resolve_match(*o, ctx);
  EXPECT_FALSE(r.password_authentication);

  // IPv6 CIDR.
  o = t.parse("Match Address 2001:db8::/32\n  MaxSessions 1\n");
  ASSERT_TRUE(o);
  ctx.address = "2001:db8::5";
  EXPECT_EQ(resolve_match(*o, ctx).max_sessions, 1u);
  ctx.address = "2001:db9::5";
  EXPECT_EQ(resolve_match(*o, ctx).max_sessions, 10u);
}

TEST(ConfigServer, IncludeAndDump) {
  Fixture t;
  t.fs.files["/etc/ssh/sshd_config.d/10-a.conf"] = "PasswordAuthentication no\nMatch User x\n";
  t.fs.files["/etc/ssh/sshd_config.d/20-b.conf"] = "X11Forwarding yes\n";
  auto o = t.parse("Include sshd_config.d/*.conf\nPort 2200\nPasswordAuthentication yes\n");
  ASSERT_TRUE(o) << (t.diags.empty() ? "" : t.diags[0].message);
  EXPECT_FALSE(o->password_authentication);
  EXPECT_TRUE(o->x11_forwarding);  // the Match in 10-a.conf ended with that file
  EXPECT_EQ(o->ports, (std::vector<uint16_t>{2200}));

  std::string dump = dump_server_config(*o);
  EXPECT_NE(dump.find("port 2200\n"), std::string::npos);
  EXPECT_NE(dump.find("passwordauthentication no\n"), std::string::npos);
  EXPECT_NE(dump.find("x11forwarding yes\n"), std::string::npos);
  EXPECT_NE(dump.find("permitrootlogin without-password\n"), std::string::npos);
  EXPECT_NE(dump.find("authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2\n"),
            std::string::npos);
  EXPECT_NE(dump.find("kexalgorithms mlkem768x25519-sha256,"), std::string::npos);
  EXPECT_NE(dump.find("listenaddress 0.0.0.0:2200\n"), std::string::npos);

  // Missing main file is fatal.
  std::vector<ConfigDiagnostic> diags;
  EXPECT_FALSE(parse_server_config("/nonexistent", {}, t.fs, diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_TRUE(diags[0].fatal);
  // Include recursion is bounded.
  t.fs.files["/etc/ssh/loop.conf"] = "Include loop.conf\n";
  EXPECT_FALSE(t.parse("Include loop.conf\n"));
}

TEST(ConfigServer, KnownKeywords) {
  EXPECT_TRUE(is_known_server_keyword("PermitRootLogin"));
  EXPECT_TRUE(is_known_server_keyword("gssapiauthentication"));
  EXPECT_FALSE(is_known_server_keyword("StrictHostKeyChecking"));
}

TEST(ConfigServer, IncludeFanOutIsBounded) {
  Fixture t;
  t.fs.files["/etc/ssh/twice.conf"] = "Include twice.conf twice.conf\nMaxSessions 5\n";
  EXPECT_FALSE(t.parse("Include twice.conf\n"));
  bool found = false;
  for (const auto& d : t.diags) {
    found = found || d.message.find("too large") != std::string::npos;
  }
  EXPECT_TRUE(found);
}
