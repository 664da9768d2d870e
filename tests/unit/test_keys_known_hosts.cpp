// Tests for keys/known_hosts.h, including entries written by ssh-keygen -H.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "keys/known_hosts.h"
#include "wire/pattern.h"

namespace hashi::keys {
namespace {

namespace fs = std::filesystem;

class KeysKnownHosts : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "hashi-kh-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ed_ = PrivateKey::generate(KeyType::kEd25519).public_key();
    ed2_ = PrivateKey::generate(KeyType::kEd25519).public_key();
    ec_ = PrivateKey::generate(KeyType::kEcdsaP256).public_key();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string dir_;
  PublicKey ed_, ed2_, ec_;
};

HostKeyStatus status_in(const std::string& contents, std::string_view host, uint16_t port,
                        const PublicKey& key) {
  return check_known_host_contents(contents, "f", host, port, key).status;
}

TEST_F(KeysKnownHosts, PlainNamesListsAndPorts) {
  std::string c =
      "# comment\n\nalpha,192.0.2.1 " + ed_.to_line() + "\n[beta]:2222 " + ec_.to_line("c") + "\n";
  EXPECT_EQ(status_in(c, "alpha", 22, ed_), HostKeyStatus::kMatch);
  EXPECT_EQ(status_in(c, "ALPHA", 22, ed_), HostKeyStatus::kMatch);
  EXPECT_EQ(status_in(c, "192.0.2.1", 22, ed_), HostKeyStatus::kMatch);
  EXPECT_EQ(status_in(c, "alpha", 2222, ed_), HostKeyStatus::kNotFound);
  EXPECT_EQ(status_in(c, "beta", 2222, ec_), HostKeyStatus::kMatch);
  EXPECT_EQ(status_in(c, "beta", 22, ec_), HostKeyStatus::kNotFound);
  EXPECT_EQ(status_in(c, "gamma", 22, ed_), HostKeyStatus::kNotFound);
  // Known with a key of another type only: not a mismatch (OpenSSH then learns the new type).
  EXPECT_EQ(status_in(c, "alpha", 22, ec_), HostKeyStatus::kNotFound);
  EXPECT_EQ(known_host_name("Host", 22), "host");
  EXPECT_EQ(known_host_name("host", 2200), "[host]:2200");
}

TEST_F(KeysKnownHosts, PatternsAndNegation) {
  std::string c = "*.example.com,!secret.example.com " + ed_.to_line() + "\n" + "10.0.0.? " +
                  ed_.to_line() + "\n[*.lan]:* " + ed_.to_line() + "\n";
  EXPECT_EQ(status_in(c, "www.example.com", 22, ed_), HostKeyStatus::kMatch);
  EXPECT_EQ(status_in(c, "secret.example.com", 22, ed_), HostKeyStatus::kNotFound);
  EXPECT_EQ(status_in(c, "example.com", 22, ed_), HostKeyStatus::kNotFound);
  EXPECT_EQ(status_in(c, "10.0.0.7", 22, ed_), HostKeyStatus::kMatch);
  EXPECT_EQ(status_in(c, "10.0.0.17", 22, ed_), HostKeyStatus::kNotFound);
  EXPECT_EQ(status_in(c, "box.lan", 8022, ed_), HostKeyStatus::kMatch);
  EXPECT_TRUE(match_pattern("abc", "a*c"));
  EXPECT_TRUE(match_pattern("ac", "a*c"));
  EXPECT_TRUE(match_pattern("aXbXc", "a*b*c"));
  EXPECT_FALSE(match_pattern("abcd", "a*c"));
  EXPECT_TRUE(match_pattern("", "*"));
  EXPECT_FALSE(match_pattern("", "?"));
  EXPECT_TRUE(match_pattern("Box.LAN", "*.lan", PatternCase::kInsensitive));
  EXPECT_FALSE(match_pattern("Box.LAN", "*.lan"));
  // Pathological patterns stay fast.
  EXPECT_FALSE(match_pattern(std::string(5000, 'a'), std::string(100, '*') + "b"));
}

TEST_F(KeysKnownHosts, MismatchReportsFileAndLine) {
  std::string f1 = write("known1", "other " + ed2_.to_line() + "\n");
  std::string f2 = write("known2", "# x\nalpha " + ec_.to_line() + "\nalpha " + ed2_.to_line() +
                                       "\nalpha " + ed2_.to_line() + "\n");
  HostKeyLookup r = check_known_host({dir_ + "/missing", f1, f2}, "alpha", 22, ed_);
  EXPECT_EQ(r.status, HostKeyStatus::kMismatch);
  EXPECT_EQ(r.file, f2);
  EXPECT_EQ(r.line, 3u);
  // If any line has the key, it is a match even though another line differs.
  std::string f3 = write("known3", "alpha " + ed_.to_line() + "\n");
  r = check_known_host({f2, f3}, "alpha", 22, ed_);
  EXPECT_EQ(r.status, HostKeyStatus::kMatch);
  EXPECT_EQ(r.file, f3);
  EXPECT_EQ(r.line, 1u);
  r = check_known_host({f1}, "alpha", 22, ed_);
  EXPECT_EQ(r.status, HostKeyStatus::kNotFound);
}

TEST_F(KeysKnownHosts, Revoked) {
  std::string f1 = write("k1", "alpha " + ed_.to_line() + "\n");
  std::string f2 = write("k2", "@cert-authority *.example.com " + ec_.to_line() + "\n" +
                                   "@revoked * " + ed_.to_line() + "\n");
  HostKeyLookup r = check_known_host({f1, f2}, "alpha", 22, ed_);
  EXPECT_EQ(r.status, HostKeyStatus::kRevoked);
  EXPECT_EQ(r.file, f2);
  EXPECT_EQ(r.line, 2u);
  EXPECT_EQ(check_known_host({f1, f2}, "alpha", 22, ed2_).status, HostKeyStatus::kMismatch);
  // The CA line is not a host key for hosts it covers.
  EXPECT_EQ(check_known_host({f2}, "a.example.com", 22, ec_).status, HostKeyStatus::kNotFound);
  std::string error;
  auto e = parse_known_host_line("@cert-authority *.example.com " + ec_.to_line(), error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->marker, KnownHostMarker::kCertAuthority);
  EXPECT_FALSE(parse_known_host_line("@bogus host " + ec_.to_line(), error));
  EXPECT_FALSE(error.empty());
}

TEST_F(KeysKnownHosts, HashedBySshKeygenMatches) {
  std::string path =
      write("known_hosts", "alpha " + ed_.to_line() + "\n[beta]:2222 " + ec_.to_line() + "\n");
  int rc = std::system(("ssh-keygen -q -H -f " + path + " >/dev/null 2>&1").c_str());
  ASSERT_EQ(rc, 0);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  ASSERT_EQ(ss.str().rfind("|1|", 0), 0u) << ss.str();
  EXPECT_EQ(ss.str().find("alpha"), std::string::npos);
  EXPECT_EQ(check_known_host({path}, "alpha", 22, ed_).status, HostKeyStatus::kMatch);
  EXPECT_EQ(check_known_host({path}, "beta", 2222, ec_).status, HostKeyStatus::kMatch);
  EXPECT_EQ(check_known_host({path}, "alpha", 22, ed2_).status, HostKeyStatus::kMismatch);
  EXPECT_EQ(check_known_host({path}, "alphb", 22, ed_).status, HostKeyStatus::kNotFound);
}

TEST_F(KeysKnownHosts, AppendCreatesPrivateFileAndSshKeygenFindsIt) {
  std::string path = dir_ + "/new_known_hosts";
  ASSERT_TRUE(append_known_host(path, "alpha", 22, ed_, false));
  ASSERT_TRUE(append_known_host(path, "Beta", 2222, ec_, true));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(check_known_host({path}, "alpha", 22, ed_).status, HostKeyStatus::kMatch);
  HostKeyLookup r = check_known_host({path}, "beta", 2222, ec_);
  EXPECT_EQ(r.status, HostKeyStatus::kMatch);
  EXPECT_EQ(r.line, 2u);
  // ssh-keygen -F finds both, including the hashed one.
  EXPECT_EQ(std::system(("ssh-keygen -F alpha -f " + path + " >/dev/null").c_str()), 0);
  EXPECT_EQ(std::system(("ssh-keygen -F '[beta]:2222' -f " + path + " >/dev/null").c_str()), 0);
  // A file without a final newline gets one before the new entry.
  std::string p2 = write("no_newline", "gamma " + ed2_.to_line());
  ASSERT_TRUE(append_known_host(p2, "delta", 22, ed_, false));
  EXPECT_EQ(check_known_host({p2}, "gamma", 22, ed2_).status, HostKeyStatus::kMatch);
  EXPECT_EQ(check_known_host({p2}, "delta", 22, ed_).line, 2u);
  EXPECT_FALSE(append_known_host(dir_ + "/no/such/dir", "x", 22, ed_, false));
}

TEST_F(KeysKnownHosts, HashedNameFormat) {
  std::string h = hash_known_host_name("alpha");
  ASSERT_EQ(h.rfind("|1|", 0), 0u);
  KnownHostEntry e;
  e.hosts = h;
  EXPECT_TRUE(host_matches_entry(e, "alpha"));
  EXPECT_FALSE(host_matches_entry(e, "alphA"));
  e.hosts = "|1|bad|bad";
  EXPECT_FALSE(host_matches_entry(e, "alpha"));
}

}  // namespace
}  // namespace hashi::keys
