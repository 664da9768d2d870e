#include <gtest/gtest.h>

#include "config/algorithms.h"
#include "config/config_text.h"

using namespace hashi::config;

namespace {
using Names = std::vector<std::string>;
}

TEST(ConfigAlgorithms, DefaultsAreSupportedAndExcludeSha1) {
  for (auto kind : {AlgorithmKind::kKex, AlgorithmKind::kCipher, AlgorithmKind::kMac,
                    AlgorithmKind::kHostKey}) {
    const auto& sup = supported_algorithms(kind);
    for (const auto& name : default_algorithms(kind)) {
      EXPECT_NE(std::find(sup.begin(), sup.end(), name), sup.end()) << name;
    }
  }
  const auto& macs = default_algorithms(AlgorithmKind::kMac);
  EXPECT_EQ(std::find(macs.begin(), macs.end(), "hmac-sha1"), macs.end());
  const auto& hk = default_algorithms(AlgorithmKind::kHostKey);
  EXPECT_EQ(std::find(hk.begin(), hk.end(), "ssh-rsa"), hk.end());
  EXPECT_EQ(default_algorithms(AlgorithmKind::kCipher).front(), "chacha20-poly1305@openssh.com");
  // Hybrid post-quantum key exchange comes first, as in OpenSSH 10.
  EXPECT_EQ(default_algorithms(AlgorithmKind::kKex).front(), "mlkem768x25519-sha256");
}

TEST(ConfigAlgorithms, ReplaceAppendPrependRemove) {
  std::string err;
  auto r = apply_algorithm_spec(AlgorithmKind::kCipher, "aes256-ctr,aes128-ctr,aes256-ctr", err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(*r, (Names{"aes256-ctr", "aes128-ctr"}));

  r = apply_algorithm_spec(AlgorithmKind::kMac, "+hmac-sha1", err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->back(), "hmac-sha1");
  EXPECT_EQ(r->size(), default_algorithms(AlgorithmKind::kMac).size() + 1);

  // Appending a name already in the default list does not duplicate it.
  r = apply_algorithm_spec(AlgorithmKind::kMac, "+hmac-sha2-256", err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(*r, default_algorithms(AlgorithmKind::kMac));

  r = apply_algorithm_spec(AlgorithmKind::kCipher, "^aes256-gcm@openssh.com,aes128-ctr", err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(*r, (Names{"aes256-gcm@openssh.com", "aes128-ctr", "chacha20-poly1305@openssh.com",
                       "aes192-ctr", "aes256-ctr", "aes128-gcm@openssh.com"}));

  r = apply_algorithm_spec(AlgorithmKind::kCipher, "-aes*-ctr,chacha20-poly1305@openssh.com", err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(*r, (Names{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com"}));

  r = apply_algorithm_spec(AlgorithmKind::kKex,
                           "-ecdh-sha2-nistp???,diffie-hellman-*,mlkem*,sntrup*", err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(*r, (Names{"curve25519-sha256", "curve25519-sha256@libssh.org"}));

  // Unknown names in a denylist are harmless, as in OpenSSH.
  r = apply_algorithm_spec(AlgorithmKind::kHostKey, "-no-such-alg", err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(*r, default_algorithms(AlgorithmKind::kHostKey));
}

TEST(ConfigAlgorithms, Errors) {
  std::string err;
  EXPECT_FALSE(apply_algorithm_spec(AlgorithmKind::kCipher, "aes128-ctr,3des-cbc", err));
  EXPECT_NE(err.find("3des-cbc"), std::string::npos) << err;
  EXPECT_FALSE(apply_algorithm_spec(AlgorithmKind::kCipher, "+blowfish-cbc", err));
  EXPECT_NE(err.find("blowfish-cbc"), std::string::npos);
  EXPECT_FALSE(apply_algorithm_spec(AlgorithmKind::kCipher, "^aes*", err));
  EXPECT_FALSE(apply_algorithm_spec(AlgorithmKind::kCipher, "", err));
  EXPECT_FALSE(apply_algorithm_spec(AlgorithmKind::kCipher, "+", err));
  EXPECT_FALSE(apply_algorithm_spec(AlgorithmKind::kCipher, "aes128-ctr,", err));
  EXPECT_FALSE(apply_algorithm_spec(AlgorithmKind::kCipher, "-*", err));
  EXPECT_EQ(err, "no algorithms left");
  // Algorithms of another kind are not accepted.
  EXPECT_FALSE(apply_algorithm_spec(AlgorithmKind::kMac, "aes128-ctr", err));
}

TEST(ConfigAlgorithms, RekeyLimit) {
  EXPECT_EQ(parse_rekey_limit("1G 1h"), std::make_pair(uint64_t{1} << 30, uint64_t{3600}));
  EXPECT_EQ(parse_rekey_limit("512M"), std::make_pair(uint64_t{512} << 20, uint64_t{0}));
  EXPECT_EQ(parse_rekey_limit("100k 30m"), std::make_pair(uint64_t{102400}, uint64_t{1800}));
  EXPECT_EQ(parse_rekey_limit("default none"), std::make_pair(uint64_t{0}, uint64_t{0}));
  EXPECT_EQ(parse_rekey_limit("default 1h30m"), std::make_pair(uint64_t{0}, uint64_t{5400}));
  EXPECT_EQ(parse_rekey_limit("4096 2d"), std::make_pair(uint64_t{4096}, uint64_t{172800}));
  EXPECT_EQ(parse_rekey_limit("1G 1w"), std::make_pair(uint64_t{1} << 30, uint64_t{604800}));
  EXPECT_FALSE(parse_rekey_limit(""));
  EXPECT_FALSE(parse_rekey_limit("1X"));
  EXPECT_FALSE(parse_rekey_limit("8"));  // below OpenSSH's minimum of 16
  EXPECT_FALSE(parse_rekey_limit("1G 1y"));
  EXPECT_FALSE(parse_rekey_limit("1G 1h extra"));
  EXPECT_FALSE(parse_rekey_limit("99999999999999999999"));
  EXPECT_FALSE(parse_rekey_limit("17179869184G"));
}

TEST(ConfigText, PatternMatching) {
  EXPECT_TRUE(match_pattern("host.example.com", "*.example.com"));
  EXPECT_TRUE(match_pattern("a1", "a?"));
  EXPECT_FALSE(match_pattern("a12", "a?"));
  EXPECT_TRUE(match_pattern("", "*"));
  EXPECT_FALSE(match_pattern("abc", "ABC"));
  // Pathological pattern stays fast (no exponential backtracking).
  std::string s(2000, 'a');
  EXPECT_FALSE(match_pattern(s, "*a*a*a*a*a*a*a*a*a*a*a*a*b"));
  EXPECT_EQ(match_pattern_list("web1", "web*,!web2", false), 1);
  EXPECT_EQ(match_pattern_list("web2", "web*,!web2", false), -1);
  EXPECT_EQ(match_pattern_list("db", "web*", false), 0);
  EXPECT_EQ(match_pattern_list("WEB1", "web*", true), 1);
}

TEST(ConfigText, LineSplitting) {
  ConfigLine line;
  std::string err;
  ASSERT_TRUE(split_config_line("  Port=22", line, err));
  EXPECT_EQ(line.keyword, "Port");
  EXPECT_EQ(line.args, (Names{"22"}));
  ASSERT_TRUE(split_config_line("Port = 22  # comment", line, err));
  EXPECT_EQ(line.args, (Names{"22"}));
  ASSERT_TRUE(split_config_line("IdentityFile \"/path/with space\" 'b c' d\\ e", line, err));
  EXPECT_EQ(line.args, (Names{"/path/with space", "b c", "d e"}));
  ASSERT_TRUE(split_config_line("# only a comment", line, err));
  EXPECT_TRUE(line.keyword.empty());
  ASSERT_TRUE(split_config_line("   \t\r", line, err));
  EXPECT_TRUE(line.keyword.empty());
  EXPECT_FALSE(split_config_line("User \"unterminated", line, err));
  EXPECT_EQ(err, "invalid quotes");
  EXPECT_FALSE(split_config_line("User", line, err));
  EXPECT_NE(err.find("no argument after keyword \"user\""), std::string::npos);
}

TEST(ConfigText, TimeAndSize) {
  EXPECT_EQ(parse_time_interval("90"), 90u);
  EXPECT_EQ(parse_time_interval("1h30m"), 5400u);
  EXPECT_EQ(parse_time_interval("2W"), 1209600u);
  EXPECT_FALSE(parse_time_interval(""));
  EXPECT_FALSE(parse_time_interval("h"));
  EXPECT_FALSE(parse_time_interval("10x"));
  EXPECT_EQ(parse_scaled_size("2K"), 2048u);
  EXPECT_FALSE(parse_scaled_size("2KB"));
}
