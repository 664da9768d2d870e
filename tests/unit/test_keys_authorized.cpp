// Tests for keys/authorized_keys.h.
#include <gtest/gtest.h>

#include "keys/authorized_keys.h"

namespace hashi::keys {
namespace {

class KeysAuthorized : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = PrivateKey::generate(KeyType::kEd25519).public_key();
    other_ = PrivateKey::generate(KeyType::kEcdsaP256).public_key();
  }
  PublicKey key_;
  PublicKey other_;
};

TEST_F(KeysAuthorized, PlainKeyWithComment) {
  std::string error;
  auto entry = parse_authorized_key_line(key_.to_line("alice@laptop  extra words"), error);
  ASSERT_TRUE(entry) << error;
  EXPECT_TRUE(entry->key == key_);
  EXPECT_EQ(entry->comment, "alice@laptop  extra words");
  EXPECT_TRUE(entry->options.permit_pty);
  EXPECT_FALSE(entry->options.command);

  entry = parse_authorized_key_line("  " + key_.to_line() + " \r", error);
  ASSERT_TRUE(entry) << error;
  EXPECT_EQ(entry->comment, "");
}

TEST_F(KeysAuthorized, CommentsAndBlankLines) {
  std::string error = "stale";
  EXPECT_FALSE(parse_authorized_key_line("", error));
  EXPECT_TRUE(error.empty());
  EXPECT_FALSE(parse_authorized_key_line("   \t ", error));
  EXPECT_TRUE(error.empty());
  EXPECT_FALSE(parse_authorized_key_line("# " + key_.to_line(), error));
  EXPECT_TRUE(error.empty());
}

TEST_F(KeysAuthorized, OptionsWithQuotedCommasAndEscapedQuotes) {
  std::string line =
      R"(command="echo \"a, b\" && ls -l",from="*.example.com,!bad.example.com",)"
      R"(environment="LANG=C",environment="X=1 2",no-pty,permitopen="localhost:8080",)"
      R"(permitopen="[::1]:22",permitlisten="2222",permitlisten="0.0.0.0:*",)"
      R"(expiry-time="20301231",principals="alice,bob",NO-AGENT-FORWARDING,no-touch-required )" +
      key_.to_line("comment here");
  std::string error;
  auto entry = parse_authorized_key_line(line, error);
  ASSERT_TRUE(entry) << error;
  const KeyOptions& o = entry->options;
  EXPECT_EQ(o.command, R"(echo "a, b" && ls -l)");
  EXPECT_EQ(o.from, "*.example.com,!bad.example.com");
  EXPECT_EQ(o.environment, (std::vector<std::string>{"LANG=C", "X=1 2"}));
  EXPECT_EQ(o.permitopen, (std::vector<std::string>{"localhost:8080", "[::1]:22"}));
  EXPECT_EQ(o.permitlisten, (std::vector<std::string>{"2222", "0.0.0.0:*"}));
  EXPECT_EQ(o.expiry_time, "20301231");
  EXPECT_EQ(o.principals, "alice,bob");
  EXPECT_FALSE(o.permit_pty);
  EXPECT_FALSE(o.permit_agent_forwarding);
  EXPECT_TRUE(o.permit_port_forwarding);
  EXPECT_TRUE(o.no_touch_required);
  EXPECT_FALSE(o.verify_required);
  EXPECT_FALSE(o.cert_authority);
  EXPECT_TRUE(entry->key == key_);
  EXPECT_EQ(entry->comment, "comment here");
}

TEST_F(KeysAuthorized, RestrictThenReenable) {
  std::string error;
  auto entry = parse_authorized_key_line("restrict,pty,verify-required " + key_.to_line(), error);
  ASSERT_TRUE(entry) << error;
  const KeyOptions& o = entry->options;
  EXPECT_TRUE(o.restricted);
  EXPECT_TRUE(o.permit_pty);
  EXPECT_FALSE(o.permit_port_forwarding);
  EXPECT_FALSE(o.permit_agent_forwarding);
  EXPECT_FALSE(o.permit_x11_forwarding);
  EXPECT_FALSE(o.permit_user_rc);
  EXPECT_TRUE(o.verify_required);
}

TEST_F(KeysAuthorized, BadLines) {
  const std::string k = key_.to_line();
  const char* bad_options[] = {
      "command=\"unterminated ",
      "command=unquoted ",
      "bogus-option ",
      "no-pty, ",
      "no-pty=\"x\" ",
      "command=\"a\",command=\"b\" ",
      "environment=\"NOEQUALS\" ",
      "permitopen=\"nohost\" ",
      "permitopen=\"host:99999\" ",
      "expiry-time=\"2030\" ",
  };
  for (const char* opts : bad_options) {
    std::string error;
    EXPECT_FALSE(parse_authorized_key_line(opts + k, error)) << opts;
    EXPECT_FALSE(error.empty()) << opts;
  }
  std::string error;
  EXPECT_FALSE(parse_authorized_key_line("ssh-ed25519 not*base64", error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(parse_authorized_key_line("ssh-ed25519", error));
  EXPECT_FALSE(error.empty());
  // Key type name disagreeing with the blob.
  std::string mismatched = "ecdsa-sha2-nistp256 " + k.substr(k.find(' ') + 1);
  EXPECT_FALSE(parse_authorized_key_line(mismatched, error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(parse_authorized_key_line(std::string(kMaxAuthorizedKeyLineLen + 1, 'a'), error));
  EXPECT_EQ(error, "line too long");
}

TEST_F(KeysAuthorized, LoadSkipsBadLinesWithFileAndLine) {
  std::string contents = "# my keys\n" + key_.to_line("first") + "\n\nbogus-option " +
                         key_.to_line() + "\r\ncert-authority " + other_.to_line("ca") +
                         "\nno-pty " + other_.to_line("second") + "\n";
  std::vector<std::string> warnings;
  auto keys = load_authorized_keys(contents, "/home/a/.ssh/authorized_keys", warnings);
  ASSERT_EQ(keys.size(), 3u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("/home/a/.ssh/authorized_keys:4: ", 0), 0u) << warnings[0];

  const AuthorizedKey* found = find_authorized(keys, key_);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->comment, "first");
  // The cert-authority line does not authorize the CA key itself; the later plain line does.
  found = find_authorized(keys, other_);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->comment, "second");
  EXPECT_FALSE(found->options.permit_pty);
  EXPECT_EQ(find_authorized(keys, PrivateKey::generate(KeyType::kEd25519).public_key()), nullptr);
}

}  // namespace
}  // namespace hashi::keys
