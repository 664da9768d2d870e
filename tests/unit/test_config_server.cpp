#include <gtest/gtest.h>

#include <algorithm>
#include <map>

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
      "PasswordAuthentication no\nPubkeyAuthentication no\nPubkeyAuthentication yes\n"
      "PermitRootLogin without-password\nMaxAuthTries 3\nLoginGraceTime 1m\n"
      "AuthorizedKeysFile .ssh/ak %h/.ssh/ak2\nAuthorizedKeysFile ignored\n"
      "Subsystem sftp /usr/lib/hashi/sftp-server -l INFO\n"
      "Ciphers -aes*-ctr\nRekeyLimit 1G 1h\nAllowUsers a b\nAllowUsers c\n"
      "Banner none\nUsePAM no\n");
  ASSERT_TRUE(o) << (t.diags.empty() ? "" : t.diags[0].message);
  EXPECT_EQ(o->ports, (std::vector<uint16_t>{22, 2222}));
  EXPECT_EQ(o->listen_addresses, (std::vector<std::string>{"127.0.0.1", "[::1]:2200"}));
  EXPECT_EQ(o->host_keys, (std::vector<std::string>{"/k1", "/k2"}));
  EXPECT_FALSE(o->pubkey_authentication);
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
  EXPECT_EQ(o->max_sessions, 10u);
}

TEST(ConfigServer, UnknownVersusUnsupported) {
  Fixture t;
  auto o = t.parse("# c\nGSSAPICleanupCredentials no\nUseLogin no\nProtocol 2\nFrobnicate yes\n");
  EXPECT_FALSE(o);
  EXPECT_EQ(t.messages(),
            (std::vector<std::string>{kPath + ":2: Unsupported option GSSAPICleanupCredentials",
                                      kPath + ":3: Deprecated option UseLogin",
                                      kPath + ":5: Bad configuration option: frobnicate"}));
  EXPECT_TRUE(t.diags[0].fatal);
  EXPECT_FALSE(t.diags[1].fatal);
  EXPECT_TRUE(t.diags[2].fatal);
  EXPECT_EQ(t.diags[2].line, 5u);

  // Deprecated warnings alone do not fail the parse; the value in force is accepted.
  o = t.parse("UsePrivilegeSeparation sandbox\nKerberosAuthentication no\nUsePAM no\n");
  EXPECT_TRUE(o);
  EXPECT_EQ(t.diags.size(), 1u);
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
  expect("Match User bob\n  PubkeyAuthentication perhaps\n",
         "2: Bad yes/no argument: perhaps");
  expect("Match User bob\n  LogLevel DEBUG\n",
         "2: Unsupported option LogLevel inside Match: hashi-server applies it only globally");
  expect("Match Colour blue\n", "1: Unsupported Match attribute Colour");
  expect("Match User\n", "1: Missing Match criteria for User");
  expect("Match All User x\n", "1: 'all' cannot be combined with other Match attributes");
  expect("LoginGraceTime 2x\n", "1: invalid time value '2x'");
}

TEST(ConfigServer, MatchBlocksResolve) {
  Fixture t;
  auto o = t.parse(
      "PubkeyAuthentication yes\nMaxSessions 4\nAcceptEnv LANG\n"
      "Match User alice,!admin Address 10.0.0.0/8\n"
      "  PubkeyAuthentication no\n"
      "  AcceptEnv EDITOR\n"
      "Match Group staff\n"
      "  PubkeyAuthentication yes\n"  // an earlier matching block already set it
      "  MaxSessions 2\n"
      "Match LocalPort 2222 Host *.example.com\n"
      "  ForceCommand /usr/bin/upload -d /upload\n"
      "Match all\n  PermitRootLogin no\n");
  ASSERT_TRUE(o) << (t.diags.empty() ? "" : t.diags[0].message);
  ASSERT_EQ(o->match_blocks.size(), 4u);
  EXPECT_EQ(o->match_blocks[0].conditions.size(), 2u);
  EXPECT_TRUE(o->pubkey_authentication);  // global value unaffected
  EXPECT_EQ(o->permit_root_login, "prohibit-password");

  MatchContext ctx;
  ctx.user = "alice";
  ctx.groups = {"users", "staff"};
  ctx.address = "10.1.2.3";
  ctx.host = "Client.Example.com";
  ctx.local_port = 2222;
  ServerOptions r = resolve_match(*o, ctx);
  EXPECT_FALSE(r.pubkey_authentication);
  EXPECT_EQ(r.accept_env, (std::vector<std::string>{"EDITOR"}));
  EXPECT_EQ(r.max_sessions, 2u);
  EXPECT_EQ(r.force_command, "/usr/bin/upload -d /upload");
  EXPECT_EQ(r.permit_root_login, "no");

  ctx.address = "192.168.1.1";
  ctx.groups = {"users"};
  ctx.local_port = 22;
  r = resolve_match(*o, ctx);
  EXPECT_TRUE(r.pubkey_authentication);
  EXPECT_EQ(r.accept_env, (std::vector<std::string>{"LANG"}));
  EXPECT_EQ(r.max_sessions, 4u);
  EXPECT_TRUE(r.force_command.empty());

  // Negated user in the list excludes the block.
  ctx.user = "admin";
  ctx.address = "10.0.0.1";
  r = resolve_match(*o, ctx);
  EXPECT_TRUE(r.pubkey_authentication);

  // IPv6 CIDR.
  o = t.parse("Match Address 2001:db8::/32\n  MaxSessions 1\n");
  ASSERT_TRUE(o);
  ctx.address = "2001:db8::5";
  EXPECT_EQ(resolve_match(*o, ctx).max_sessions, 1u);
  ctx.address = "2001:db9::5";
  EXPECT_EQ(resolve_match(*o, ctx).max_sessions, 10u);

  // ForceCommand none in a Match block clears a global one.
  o = t.parse("ForceCommand /bin/true\nMatch User root\n  ForceCommand none\n");
  ASSERT_TRUE(o);
  ctx.user = "root";
  EXPECT_TRUE(resolve_match(*o, ctx).force_command.empty());
  ctx.user = "bob";
  EXPECT_EQ(resolve_match(*o, ctx).force_command, "/bin/true");
}

TEST(ConfigServer, IncludeAndDump) {
  Fixture t;
  t.fs.files["/etc/ssh/sshd_config.d/10-a.conf"] = "PubkeyAuthentication no\nMatch User x\n";
  t.fs.files["/etc/ssh/sshd_config.d/20-b.conf"] = "MaxSessions 3\n";
  auto o = t.parse("Include sshd_config.d/*.conf\nPort 2200\nPubkeyAuthentication yes\n");
  ASSERT_TRUE(o) << (t.diags.empty() ? "" : t.diags[0].message);
  EXPECT_FALSE(o->pubkey_authentication);
  EXPECT_EQ(o->max_sessions, 3u);  // the Match in 10-a.conf ended with that file
  EXPECT_EQ(o->ports, (std::vector<uint16_t>{2200}));

  std::string dump = dump_server_config(*o);
  EXPECT_NE(dump.find("port 2200\n"), std::string::npos);
  EXPECT_NE(dump.find("pubkeyauthentication no\n"), std::string::npos);
  EXPECT_NE(dump.find("passwordauthentication no\n"), std::string::npos);
  EXPECT_NE(dump.find("usepam no\n"), std::string::npos);
  EXPECT_NE(dump.find("maxsessions 3\n"), std::string::npos);
  EXPECT_NE(dump.find("permitrootlogin without-password\n"), std::string::npos);
  EXPECT_NE(dump.find("authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2\n"),
            std::string::npos);
  EXPECT_NE(dump.find("kexalgorithms mlkem768x25519-sha256,"), std::string::npos);
  EXPECT_NE(dump.find("listenaddress 0.0.0.0:2200\n"), std::string::npos);
  // Refused keywords are never printed, not even with their defaults.
  for (const auto& k : server_keyword_states()) {
    if (k.state != KeywordState::kApplied) {
      EXPECT_EQ(dump.find("\n" + k.name + " "), std::string::npos) << k.name;
    }
  }

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

namespace {

// Every applied keyword with a line that exercises it (the interop test
// tests/interop/test_server_policy.sh covers its effect on real connections). A keyword added to
// the table as applied without a line here fails KeywordTableStates.
const std::map<std::string, std::string> kExercisedApplied = {
    {"port", "Port 2222"},
    {"listenaddress", "ListenAddress 127.0.0.1"},
    {"addressfamily", "AddressFamily inet"},
    {"hostkey", "HostKey /k"},
    {"hostdsakey", "HostDSAKey /k"},
    {"pidfile", "PidFile /run/x.pid"},
    {"logingracetime", "LoginGraceTime 30"},
    {"permitrootlogin", "PermitRootLogin forced-commands-only"},
    {"syslogfacility", "SyslogFacility AUTH"},
    {"loglevel", "LogLevel VERBOSE"},
    {"hostkeyalgorithms", "HostKeyAlgorithms ssh-ed25519"},
    {"ciphers", "Ciphers aes256-gcm@openssh.com"},
    {"macs", "MACs hmac-sha2-256"},
    {"kexalgorithms", "KexAlgorithms curve25519-sha256"},
    {"pubkeyacceptedalgorithms", "PubkeyAcceptedAlgorithms ssh-ed25519"},
    {"pubkeyacceptedkeytypes", "PubkeyAcceptedKeyTypes ssh-ed25519"},
    {"rekeylimit", "RekeyLimit 1G"},
    {"pubkeyauthentication", "PubkeyAuthentication yes"},
    {"authorizedkeysfile", "AuthorizedKeysFile none"},
    {"revokedkeys", "RevokedKeys /etc/revoked"},
    {"allowusers", "AllowUsers alice@10.0.0.0/8"},
    {"denyusers", "DenyUsers bob"},
    {"allowgroups", "AllowGroups staff"},
    {"denygroups", "DenyGroups guests"},
    {"maxauthtries", "MaxAuthTries 2"},
    {"maxsessions", "MaxSessions 0"},
    {"forcecommand", "ForceCommand /bin/echo hi"},
    {"subsystem", "Subsystem sftp /usr/lib/openssh/sftp-server"},
    {"acceptenv", "AcceptEnv LANG LC_*"},
    {"setenv", "SetEnv A=b"},
    {"permituserenvironment", "PermitUserEnvironment no"},
    {"match", "Match User x"},
    {"include", "Include /nonexistent/*.conf"},
    {"usepam", "UsePAM no"},
    {"passwordauthentication", "PasswordAuthentication no"},
    {"kbdinteractiveauthentication", "KbdInteractiveAuthentication no"},
    {"challengeresponseauthentication", "ChallengeResponseAuthentication no"},
    {"skeyauthentication", "SkeyAuthentication no"},
    {"hostbasedauthentication", "HostbasedAuthentication no"},
    {"permitemptypasswords", "PermitEmptyPasswords no"},
    {"gssapiauthentication", "GSSAPIAuthentication no"},
    {"kerberosauthentication", "KerberosAuthentication no"},
    {"authenticationmethods", "AuthenticationMethods any"},
    {"ignorerhosts", "IgnoreRhosts yes"},
    {"strictmodes", "StrictModes no"},
    {"printmotd", "PrintMotd no"},
    {"printlastlog", "PrintLastLog no"},
    {"usedns", "UseDNS no"},
    {"compression", "Compression no"},
    {"tcpkeepalive", "TCPKeepAlive yes"},
    {"keepalive", "KeepAlive yes"},
    {"x11forwarding", "X11Forwarding no"},
    {"allowtcpforwarding", "AllowTcpForwarding no"},
    {"allowagentforwarding", "AllowAgentForwarding no"},
    {"allowstreamlocalforwarding", "AllowStreamLocalForwarding no"},
    {"gatewayports", "GatewayPorts no"},
    {"disableforwarding", "DisableForwarding yes"},
    {"permittunnel", "PermitTunnel no"},
    {"permittty", "PermitTTY no"},
    {"permituserrc", "PermitUserRC no"},
    {"exposeauthinfo", "ExposeAuthInfo no"},
    {"banner", "Banner none"},
    {"chrootdirectory", "ChrootDirectory none"},
    {"trustedusercakeys", "TrustedUserCAKeys none"},
    {"authorizedprincipalsfile", "AuthorizedPrincipalsFile none"},
    {"authorizedkeyscommand", "AuthorizedKeysCommand none"},
    {"versionaddendum", "VersionAddendum none"},
    {"fingerprinthash", "FingerprintHash sha256"},
};

}  // namespace

TEST(ConfigServer, KeywordTableStates) {
  Fixture t;
  size_t refused = 0;
  for (const auto& k : server_keyword_states()) {
    SCOPED_TRACE(k.name);
    if (k.state == KeywordState::kRefused) {
      ++refused;
      // Refused wherever it appears, whatever its value: fatal, with file:line.
      EXPECT_FALSE(t.parse("\n" + k.name + " yes\n"));
      ASSERT_EQ(t.diags.size(), 1u);
      EXPECT_EQ(t.diags[0].message, kPath + ":2: Unsupported option " + k.name);
      EXPECT_TRUE(t.diags[0].fatal);
      EXPECT_FALSE(t.parse("", {k.name + "=x"}));
      continue;
    }
    if (k.state == KeywordState::kDeprecated) {
      EXPECT_TRUE(t.parse(k.name + " x\n"));
      continue;
    }
    auto it = kExercisedApplied.find(k.name);
    ASSERT_NE(it, kExercisedApplied.end()) << "applied keyword without a test: " << k.name;
    EXPECT_TRUE(t.parse(it->second + "\n")) << (t.diags.empty() ? "" : t.diags[0].message);
    if (!k.only_value.empty()) {
      // Any value but the one in force is refused, naming the supported value.
      const std::string other = k.only_value == "no" ? "yes" : k.only_value == "yes" ? "no" : "x";
      EXPECT_FALSE(t.parse(k.name + " " + other + "\n"));
      ASSERT_FALSE(t.diags.empty());
      EXPECT_EQ(t.diags[0].message.rfind(kPath + ":1: Unsupported option " + k.name + " " + other,
                                         0),
                0u)
          << t.diags[0].message;
      EXPECT_NE(t.diags[0].message.find("supports only " + k.name + " " + k.only_value),
                std::string::npos);
    }
  }
  EXPECT_GT(refused, 30u);
  const auto states = server_keyword_states();
  EXPECT_EQ(kExercisedApplied.size(),
            size_t(std::count_if(states.begin(), states.end(), [](const KeywordInfo& k) {
              return k.state == KeywordState::kApplied;
            })));
}

TEST(ConfigServer, RefusedValuesAndMatchRefusal) {
  Fixture t;
  EXPECT_FALSE(t.parse("Subsystem sftp internal-sftp\n"));
  EXPECT_FALSE(t.parse("ForceCommand internal-sftp\n"));
  EXPECT_FALSE(t.parse("Match User x\n  PubkeyAcceptedAlgorithms ssh-ed25519\n"));
  EXPECT_FALSE(t.parse("Match User x\n  X11Forwarding yes\n"));
  EXPECT_TRUE(t.parse("Match User x\n  X11Forwarding no\n  DenyUsers x\n"));
  // All diagnostics are collected before giving up.
  EXPECT_FALSE(t.parse("UsePAM yes\nMaxStartups 10\nX11Forwarding yes\nPrintMotd no\n"));
  EXPECT_EQ(t.diags.size(), 3u);
}

TEST(ConfigServer, DebianStockConfigListsEveryRefusedLine) {
  Fixture t;
  t.fs.files["/etc/ssh/sshd_config.d/empty.conf"] = "";
  auto o = t.parse(
      "Include /etc/ssh/sshd_config.d/*.conf\n"
      "#Port 22\n"
      "KbdInteractiveAuthentication no\n"
      "UsePAM yes\n"
      "X11Forwarding yes\n"
      "PrintMotd no\n"
      "AcceptEnv LANG LC_*\n"
      "Subsystem\tsftp\t/usr/lib/openssh/sftp-server\n");
  EXPECT_FALSE(o);
  ASSERT_EQ(t.diags.size(), 2u);
  EXPECT_EQ(t.diags[0].message.rfind(kPath + ":4: Unsupported option UsePAM yes", 0), 0u);
  EXPECT_EQ(t.diags[1].message.rfind(kPath + ":5: Unsupported option X11Forwarding yes", 0), 0u);
}

TEST(ConfigServer, AllowedUserOrderAndForms) {
  ServerOptions o;
  const std::vector<std::string> groups = {"alice", "staff"};
  EXPECT_FALSE(allowed_user(o, "alice", groups, "10.1.2.3"));

  o.deny_users = {"alice"};
  o.allow_users = {"alice"};  // DenyUsers is checked first
  EXPECT_EQ(allowed_user(o, "alice", groups, "10.1.2.3"), "listed in DenyUsers");

  o = {};
  o.allow_users = {"bob", "al?ce@10.0.0.0/8"};
  EXPECT_FALSE(allowed_user(o, "alice", groups, "10.1.2.3"));
  EXPECT_EQ(allowed_user(o, "alice", groups, "192.168.0.1"), "not listed in AllowUsers");
  EXPECT_EQ(allowed_user(o, "carol", groups, "10.1.2.3"), "not listed in AllowUsers");
  o.allow_users = {"*@!10.9.0.0/16,10.0.0.0/8"};
  EXPECT_FALSE(allowed_user(o, "alice", groups, "10.1.2.3"));
  EXPECT_TRUE(allowed_user(o, "alice", groups, "10.9.2.3"));
  o.allow_users = {"*,!alice"};
  EXPECT_TRUE(allowed_user(o, "alice", groups, "10.1.2.3"));
  EXPECT_FALSE(allowed_user(o, "bob", groups, "10.1.2.3"));
  o.allow_users = {"alice@2001:db8::/32"};
  EXPECT_FALSE(allowed_user(o, "alice", groups, "2001:db8::1"));
  EXPECT_TRUE(allowed_user(o, "alice", groups, "2001:db9::1"));

  o = {};
  o.deny_groups = {"st*"};
  o.allow_groups = {"staff"};  // DenyGroups before AllowGroups
  EXPECT_EQ(allowed_user(o, "alice", groups, "10.1.2.3"), "a group is listed in DenyGroups");
  o.deny_groups.clear();
  EXPECT_FALSE(allowed_user(o, "alice", groups, "10.1.2.3"));
  o.allow_groups = {"wheel"};
  EXPECT_EQ(allowed_user(o, "alice", groups, "10.1.2.3"),
            "none of user's groups are listed in AllowGroups");
  EXPECT_EQ(allowed_user(o, "alice", {}, "10.1.2.3"), "not in any group");
  // User lists come before group lists.
  o.deny_users = {"alice"};
  EXPECT_EQ(allowed_user(o, "alice", groups, "10.1.2.3"), "listed in DenyUsers");
}

TEST(ConfigServer, AllowDenyInMatchResolve) {
  Fixture t;
  auto o = t.parse("Match Address 10.0.0.0/8\n  DenyUsers alice\n");
  ASSERT_TRUE(o);
  MatchContext ctx;
  ctx.user = "alice";
  ctx.address = "10.0.0.7";
  EXPECT_EQ(allowed_user(resolve_match(*o, ctx), "alice", {"alice"}, ctx.address),
            "listed in DenyUsers");
  ctx.address = "127.0.0.1";
  EXPECT_FALSE(allowed_user(resolve_match(*o, ctx), "alice", {"alice"}, ctx.address));
}
