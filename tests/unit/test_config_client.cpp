#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "config/algorithms.h"
#include "config/client_config.h"

using namespace hashi::config;

namespace {

const std::string kHome = "/home/alice";

struct Fixture {
  MemoryFileSource fs;
  std::string error;
  std::vector<std::string> warnings;

  std::optional<ClientOptions> resolve(const std::string& host,
                                       const std::vector<std::string>& cli = {},
                                       std::optional<std::string> f = std::nullopt) {
    error.clear();
    warnings.clear();
    return ClientConfig::resolve(host, cli, f, kHome, "alice", fs, error, &warnings);
  }
};

}  // namespace

TEST(ConfigClient, FirstValueWinsAndHostPatterns) {
  Fixture t;
  t.fs.files[kHome + "/.ssh/config"] =
      "Host web? !web3\n"
      "  HostName %h.example.com\n"
      "  User deploy\n"
      "  IdentityFile ~/.ssh/web\n"
      "Host *\n"
      "  User nobody\n"
      "  Port 2200\n"
      "  IdentityFile ~/.ssh/all\n";
  t.fs.files["/etc/ssh/ssh_config"] = "Host *\n  Port 22\n  BatchMode yes\n";

  auto o = t.resolve("web1");
  ASSERT_TRUE(o) << t.error;
  EXPECT_EQ(o->hostname, "%h.example.com");
  EXPECT_EQ(o->user, "deploy");
  EXPECT_EQ(o->port, 2200);
  EXPECT_EQ(o->batch_mode, "yes");
  EXPECT_EQ(o->identity_files, (std::vector<std::string>{"~/.ssh/web", "~/.ssh/all"}));

  // Negated pattern excludes the whole Host line.
  o = t.resolve("web3");
  ASSERT_TRUE(o) << t.error;
  EXPECT_FALSE(o->hostname);
  EXPECT_EQ(o->user, "nobody");

  // Host names are matched lower-cased, as ssh does.
  o = t.resolve("WEB2");
  ASSERT_TRUE(o) << t.error;
  EXPECT_EQ(o->user, "deploy");
}

TEST(ConfigClient, CommandLineOptionsWinAndSyntax) {
  Fixture t;
  t.fs.files[kHome + "/.ssh/config"] = "User fromfile\nPort 2222\nCiphers aes128-ctr\n";
  auto o = t.resolve("h", {"User=fromcli", "port 4444", "ciphers = +aes256-gcm@openssh.com"});
  ASSERT_TRUE(o) << t.error;
  EXPECT_EQ(o->user, "fromcli");
  EXPECT_EQ(o->port, 4444);
  EXPECT_EQ(o->ciphers, "+aes256-gcm@openssh.com");
  apply_client_defaults(*o, kHome);
  EXPECT_EQ(o->ciphers, join_names(default_algorithms(AlgorithmKind::kCipher)));

  EXPECT_FALSE(t.resolve("h", {"Host foo"}));
  EXPECT_NE(t.error.find("command-line"), std::string::npos);
  EXPECT_FALSE(t.resolve("h", {"Bogus=1"}));
  EXPECT_EQ(t.error, "command-line:0: Bad configuration option: bogus");
}

TEST(ConfigClient, DashFDevNullAndNone) {
  Fixture t;
  t.fs.files[kHome + "/.ssh/config"] = "User fromfile\n";
  t.fs.files["/etc/ssh/ssh_config"] = "User fromsystem\n";
  t.fs.files["/dev/null"] = "";
  t.fs.files["/tmp/alt"] = "User alt\n";

  auto o = t.resolve("h", {}, std::string("/dev/null"));
  ASSERT_TRUE(o) << t.error;
  EXPECT_FALSE(o->user);  // neither the user nor the system file is read
  o = t.resolve("h", {}, std::string("none"));
  ASSERT_TRUE(o) << t.error;
  EXPECT_FALSE(o->user);
  o = t.resolve("h", {}, std::string("/tmp/alt"));
  ASSERT_TRUE(o) << t.error;
  EXPECT_EQ(o->user, "alt");
  EXPECT_FALSE(t.resolve("h", {}, std::string("/tmp/missing")));
  // Without -F, the system file fills what the user file left unset.
  t.fs.files[kHome + "/.ssh/config"] = "Port 1\n";
  o = t.resolve("h");
  ASSERT_TRUE(o) << t.error;
  EXPECT_EQ(o->user, "fromsystem");
}

TEST(ConfigClient, MatchCriteria) {
  Fixture t;
  t.fs.files[kHome + "/.ssh/config"] =
      "Host jump\n  HostName jump.internal.example\n"
      "Match host *.internal.example user alice\n  Port 1001\n"
      "Match originalhost jump !localuser bob\n  SetEnv MATCHED=1\n"
      "Match localuser bob\n  Compression yes\n"
      "Match all\n  User fallback\n";
  auto o = t.resolve("jump");
  ASSERT_TRUE(o) << t.error;
  EXPECT_EQ(o->port, 1001);
  EXPECT_EQ(o->set_env, (std::vector<std::string>{"MATCHED=1"}));
  EXPECT_FALSE(o->compression);  // the Match does not apply, so Compression yes is not refused
  EXPECT_EQ(o->user, "fallback");

  t.fs.files[kHome + "/.ssh/config"] = "Match exec \"true\"\n  User x\n";
  EXPECT_FALSE(t.resolve("h"));
  EXPECT_NE(t.error.find(":1: Match exec is not supported"), std::string::npos) << t.error;
  t.fs.files[kHome + "/.ssh/config"] = "Match all host x\n";
  EXPECT_FALSE(t.resolve("h"));
  t.fs.files[kHome + "/.ssh/config"] = "Match nonsense x\n";
  EXPECT_FALSE(t.resolve("h"));
  t.fs.files[kHome + "/.ssh/config"] = "Match host\n";
  EXPECT_FALSE(t.resolve("h"));

  // Match tagged / Tag, and Match final re-parses with first values kept.
  t.fs.files[kHome + "/.ssh/config"] =
      "Tag prod\nMatch tagged prod\n  User produser\nMatch final\n  Port 7\n";
  o = t.resolve("h");
  ASSERT_TRUE(o) << t.error;
  EXPECT_EQ(o->user, "produser");
  EXPECT_EQ(o->port, 7);
}

TEST(ConfigClient, Include) {
  Fixture t;
  t.fs.files[kHome + "/.ssh/config"] =
      "Include conf.d/*.conf\n"
      "Host other\n"
      "  Include " + kHome + "/.ssh/never.conf\n"
      "Host *\n  User last\n";
  t.fs.files[kHome + "/.ssh/conf.d/10-a.conf"] = "Host h\n  User a\n";
  t.fs.files[kHome + "/.ssh/conf.d/20-b.conf"] = "Port 2020\nHost zzz\n";
  t.fs.files[kHome + "/.ssh/never.conf"] = "Host *\n  Port 9\n  Compression yes\n";
  auto o = t.resolve("h");
  ASSERT_TRUE(o) << t.error;
  EXPECT_EQ(o->user, "a");
  // The "Host zzz" in 20-b.conf does not deactivate what follows the Include.
  EXPECT_EQ(o->port, 2020);
  // An Include under a non-matching Host never activates, even for "Host *" inside it.
  EXPECT_FALSE(o->compression);

  // Relative includes in the system file are relative to /etc/ssh; ~ is refused there.
  t.fs.files["/etc/ssh/ssh_config"] = "Include ssh_config.d/*.conf\n";
  t.fs.files["/etc/ssh/ssh_config.d/x.conf"] = "ConnectTimeout 1m\n";
  o = t.resolve("h");
  ASSERT_TRUE(o) << t.error;
  EXPECT_EQ(o->connect_timeout, "60");
  t.fs.files["/etc/ssh/ssh_config"] = "Include ~/x\n";
  EXPECT_FALSE(t.resolve("h"));

  // Include recursion is bounded.
  t.fs.files["/etc/ssh/ssh_config"] = "";
  t.fs.files[kHome + "/.ssh/config"] = "Include config\n";
  EXPECT_FALSE(t.resolve("h"));
  EXPECT_NE(t.error.find("too deep"), std::string::npos) << t.error;
}

TEST(ConfigClient, KeywordsErrorsAndWarnings) {
  Fixture t;
  t.fs.files[kHome + "/.ssh/config"] =
      "# comment\n"
      "STRICTHOSTKEYCHECKING accept-new\n"
      "GSSAPIAuthentication no\n"
      "Protocol 2\n"
      "UserKnownHostsFile ~/.ssh/kh1 \"/path with/space\"\n"
      "RemoteCommand  echo %h  'x y'\n"
      "RekeyLimit 1G 1h\n"
      "SendEnv LANG LC_*\n"
      "SendEnv TERM\n"
      "IgnoreUnknown UseKeychain\n"
      "UseKeychain yes\n";
  auto o = t.resolve("h");
  ASSERT_TRUE(o) << t.error;
  EXPECT_EQ(o->strict_host_key_checking, "accept-new");
  EXPECT_EQ(o->user_known_hosts_files,
            (std::vector<std::string>{"~/.ssh/kh1", "/path with/space"}));
  EXPECT_EQ(o->remote_command, "echo %h  'x y'");
  EXPECT_EQ(o->rekey_limit, "1G 1h");
  EXPECT_EQ(o->send_env, (std::vector<std::string>{"LANG", "LC_*", "TERM"}));
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_EQ(t.warnings[0], kHome + "/.ssh/config:3: Unsupported option \"gssapiauthentication\"");

  auto expect_error = [&](const std::string& text, const std::string& message) {
    t.fs.files[kHome + "/.ssh/config"] = text;
    EXPECT_FALSE(t.resolve("h")) << text;
    EXPECT_EQ(t.error, kHome + "/.ssh/config:" + message) << text;
  };
  expect_error("\nFooBar 1\n", "2: Bad configuration option: foobar");
  expect_error("Port 70000\n", "1: Badly formatted port number.");
  expect_error("BatchMode maybe\n", "1: Bad yes/no argument: maybe");
  expect_error("Ciphers aes128-ctr,rot13\n",
               "1: Bad Ciphers spec 'aes128-ctr,rot13': Unsupported algorithm 'rot13'");
  expect_error("User a b\n", "1: keyword user extra arguments at end of line");
  expect_error("User \"a\n", "1: invalid quotes");
  expect_error("RekeyLimit 1Q\n", "1: Bad RekeyLimit '1Q'");
}

TEST(ConfigClient, Defaults) {
  ClientOptions o;
  o.macs = "-hmac-sha2-512*";
  apply_client_defaults(o, kHome);
  EXPECT_EQ(o.port, 22);
  EXPECT_EQ(o.identity_files,
            (std::vector<std::string>{kHome + "/.ssh/id_rsa", kHome + "/.ssh/id_ecdsa",
                                      kHome + "/.ssh/id_ed25519"}));
  EXPECT_EQ(o.user_known_hosts_files,
            (std::vector<std::string>{kHome + "/.ssh/known_hosts", kHome + "/.ssh/known_hosts2"}));
  EXPECT_EQ(o.global_known_hosts_files,
            (std::vector<std::string>{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}));
  EXPECT_EQ(o.strict_host_key_checking, "ask");
  EXPECT_EQ(o.macs, "hmac-sha2-256-etm@openssh.com,hmac-sha2-256");
  EXPECT_EQ(o.kex, join_names(default_algorithms(AlgorithmKind::kKex)));
}

TEST(ConfigClient, TokenExpansion) {
  TokenValues v;
  v.remote_host = "host.example.com";
  v.original_host = "host";
  v.port = 2222;
  v.remote_user = "bob";
  v.local_user = "alice";
  v.home_dir = kHome;
  v.local_host = "laptop.local";
  v.local_host_short = "laptop";
  v.uid = "1000";
  EXPECT_EQ(expand_tokens("~/.ssh/%r@%h:%p", v), kHome + "/.ssh/bob@host.example.com:2222");
  EXPECT_EQ(expand_tokens("%n %u %d %l %L %i %%", v),
            "host alice " + kHome + " laptop.local laptop 1000 %");
  // %C = SHA-1 of %l%h%p%r: sha1("laptop.localhost.example.com2222bob").
  EXPECT_EQ(expand_tokens("%C", v), "275cda21462a90c02f7368f5caedb8b1504b1efd");
  EXPECT_EQ(expand_tokens("a~b", v), "a~b");
  EXPECT_EQ(expand_tokens("%z", v), "%z");
  std::string err;
  EXPECT_FALSE(expand_tokens_checked("%z", v, err));
  EXPECT_EQ(err, "unknown token %z");
  EXPECT_FALSE(expand_tokens_checked("50%", v, err));
}

namespace {

// A value that makes each refused keyword ask for something hashi does not do; a refused keyword
// missing here is tried with "yes".
const std::map<std::string, std::string> kRefusedSamples = {
    {"addressfamily", "inet"},
    {"bindaddress", "10.0.0.1"},
    {"bindinterface", "eth0"},
    {"certificatefile", "~/.ssh/id_ed25519-cert.pub"},
    {"controlmaster", "auto"},
    {"controlpath", "~/.ssh/cm-%C"},
    {"controlpersist", "10m"},
    {"dsaauthentication", "no"},
    {"dynamicforward", "1080"},
    {"identityagent", "~/.agent.sock"},
    {"knownhostscommand", "/usr/bin/fetch-keys %H"},
    {"localcommand", "echo connected"},
    {"localforward", "8080 localhost:80"},
    {"pkcs11provider", "/usr/lib/opensc-pkcs11.so"},
    {"proxycommand", "nc %h %p"},
    {"proxyjump", "bastion"},
    {"pubkeyauthentication", "no"},
    {"remoteforward", "8080 localhost:80"},
    {"requesttty", "force"},
    {"requiredrsasize", "3072"},
    {"revokedhostkeys", "/etc/ssh/revoked"},
    {"securitykeyprovider", "/usr/lib/sk.so"},
    {"sessiontype", "subsystem"},
    {"smartcarddevice", "/dev/sc0"},
    {"tunnel", "point-to-point"},
};

// Values for the keywords accepted with no effect whose syntax is not yes/no.
const std::map<std::string, std::string> kIgnoredSamples = {
    {"addkeystoagent", "confirm"},
    {"casignaturealgorithms", "ssh-ed25519"},
    {"connectionattempts", "3"},
    {"escapechar", "none"},
    {"fingerprinthash", "md5"},
    {"numberofpasswordprompts", "1"},
    {"preferredauthentications", "publickey,password"},
    {"pubkeyacceptedalgorithms", "+ssh-rsa"},
    {"pubkeyacceptedkeytypes", "+ssh-rsa"},
    {"serveralivecountmax", "3"},
    {"serveraliveinterval", "30"},
    {"syslogfacility", "USER"},
    {"xauthlocation", "/usr/bin/xauth"},
};

// Every applied keyword and where it is exercised (this file unless said otherwise). A keyword
// marked applied in the table must be listed here, so "applied" cannot be claimed untested.
const std::set<std::string> kExercisedApplied = {
    "host",
    "match",
    "include",
    "hostname",
    "user",
    "port",
    "loglevel",
    "kexalgorithms",
    "ciphers",
    "macs",
    "hostkeyalgorithms",
    "rekeylimit",
    "stricthostkeychecking",
    "batchmode",
    "connecttimeout",
    "userknownhostsfile",
    "globalknownhostsfile",
    "hashknownhosts",
    "updatehostkeys",
    "hostkeyalias",  // tests/interop/test_client_refusals.sh
    "identityfile",
    "identityfile2",
    "ignoreunknown",
    "tag",
    "remotecommand",
    "stdinnull",
    "sendenv",
    "setenv",
};

std::string sample(const std::map<std::string, std::string>& samples, std::string_view name) {
  auto it = samples.find(std::string(name));
  return it != samples.end() ? it->second : "yes";
}

std::vector<std::string> split_bar(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t bar = std::min(s.find('|', start), s.size());
    out.emplace_back(s.substr(start, bar - start));
    start = bar + 1;
  }
  return out;
}

}  // namespace

TEST(ConfigClient, RefusedKeywordsFailWithFileAndLine) {
  Fixture t;
  size_t refused = 0;
  for (const auto& k : client_keywords()) {
    if (k.support != KeywordSupport::kRefused) continue;
    ++refused;
    const std::string value = sample(kRefusedSamples, k.name);
    const std::string want =
        "Unsupported option \"" + std::string(k.name) + "\": not implemented by hashi";
    t.fs.files[kHome + "/.ssh/config"] =
        "# mine\nHost *\n  " + std::string(k.name) + " " + value + "\n";
    EXPECT_FALSE(t.resolve("h")) << k.name;
    EXPECT_EQ(t.error, kHome + "/.ssh/config:3: " + want) << k.name;

    t.fs.files.clear();
    EXPECT_FALSE(t.resolve("h", {std::string(k.name) + "=" + value})) << k.name;
    EXPECT_EQ(t.error, "command-line:0: " + want) << k.name;

    // A section that does not apply to this host refuses nothing.
    t.fs.files[kHome + "/.ssh/config"] =
        "Host other\n  " + std::string(k.name) + " " + value + "\n";
    EXPECT_TRUE(t.resolve("h")) << k.name << ": " << t.error;
    t.fs.files.clear();
  }
  EXPECT_GE(refused, 30u);
}

TEST(ConfigClient, RefusedKeywordsAcceptWhatHashiDoesAnyway) {
  Fixture t;
  for (const auto& k : client_keywords()) {
    if (k.support != KeywordSupport::kRefused || k.harmless.empty()) continue;
    for (const auto& v : split_bar(k.harmless)) {
      t.fs.files[kHome + "/.ssh/config"] = std::string(k.name) + " " + v + "\n";
      EXPECT_TRUE(t.resolve("h")) << k.name << " " << v << ": " << t.error;
    }
  }
  // The first value wins: a harmless one given first makes a later refused one moot.
  t.fs.files[kHome + "/.ssh/config"] = "ProxyJump bastion\nForwardAgent yes\n";
  EXPECT_TRUE(t.resolve("h", {"ProxyJump=none", "ForwardAgent=no"})) << t.error;
  // ClearAllForwardings yes (as scp passes it) drops the forwardings of the files.
  t.fs.files[kHome + "/.ssh/config"] = "LocalForward 8080 localhost:80\nDynamicForward 1080\n";
  EXPECT_TRUE(t.resolve("h", {"ClearAllForwardings=yes"})) << t.error;
  EXPECT_FALSE(t.resolve("h"));
  EXPECT_EQ(t.error, kHome +
                         "/.ssh/config:1: Unsupported option \"localforward\": not implemented "
                         "by hashi");
  // Common spellings from real configs.
  t.fs.files[kHome + "/.ssh/config"] =
      "Host *\n  ControlMaster no\n  ControlPath none\n  ForwardX11 no\n  Compression no\n"
      "  RequestTTY auto\n  CheckHostIP no\n  VerifyHostKeyDNS no\n  PubkeyAuthentication yes\n";
  EXPECT_TRUE(t.resolve("h")) << t.error;
}

TEST(ConfigClient, IgnoredKeywordsAreAccepted) {
  Fixture t;
  for (const auto& k : client_keywords()) {
    if (k.support != KeywordSupport::kIgnored) continue;
    t.fs.files[kHome + "/.ssh/config"] =
        std::string(k.name) + " " + sample(kIgnoredSamples, k.name) + "\n";
    EXPECT_TRUE(t.resolve("h")) << k.name << ": " << t.error;
  }
}

TEST(ConfigClient, AppliedKeywordsAreExercised) {
  std::set<std::string> applied;
  for (const auto& k : client_keywords()) {
    if (k.support == KeywordSupport::kApplied) applied.emplace(k.name);
  }
  EXPECT_EQ(applied, kExercisedApplied);
}

TEST(ConfigClient, AppliedSessionKeywords) {
  Fixture t;
  t.fs.files[kHome + "/.ssh/config"] =
      "Host h\n  HostKeyAlias Alias.Example\n  SetEnv A=1 B=two\n  SendEnv LANG\n"
      "  StdinNull yes\n  Tag work\n  SessionType none\n  LogLevel DEBUG2\n"
      "  IdentityFile2 ~/.ssh/two\n  HashKnownHosts yes\n  UpdateHostKeys ask\n"
      "  GlobalKnownHostsFile /g1 /g2\n";
  auto o = t.resolve("h");
  ASSERT_TRUE(o) << t.error;
  EXPECT_EQ(o->host_key_alias, "Alias.Example");
  EXPECT_EQ(o->set_env, (std::vector<std::string>{"A=1", "B=two"}));
  EXPECT_EQ(o->send_env, (std::vector<std::string>{"LANG"}));
  EXPECT_EQ(o->stdin_null, "yes");
  EXPECT_EQ(o->tag, "work");
  EXPECT_EQ(o->session_type, "none");
  EXPECT_EQ(o->log_level, "DEBUG2");
  EXPECT_EQ(o->identity_files, (std::vector<std::string>{"~/.ssh/two"}));
  EXPECT_EQ(o->hash_known_hosts, "yes");
  EXPECT_EQ(o->update_host_keys, "ask");
  EXPECT_EQ(o->global_known_hosts_files, (std::vector<std::string>{"/g1", "/g2"}));
}
