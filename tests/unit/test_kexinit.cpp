// KEXINIT negotiation rules (RFC 4253 section 7.1).
#include <gtest/gtest.h>

#include "transport/kexinit.h"

namespace hashi::transport {
namespace {

KexInit offer(std::vector<std::string> kex, std::vector<std::string> host_key, bool follows) {
  KexInit k;
  k.kex = std::move(kex);
  k.host_key = std::move(host_key);
  k.first_kex_packet_follows = follows;
  return k;
}

// A guessed packet is judged by the two sides' first choices, not by what negotiation picks:
// Dropbear guesses curve25519 while hashi prefers ML-KEM; both then expect the guess to be resent.
TEST(KexInitGuess, WrongWhenFirstChoicesDiffer) {
  KexInit ours = offer({"mlkem768x25519-sha256", "curve25519-sha256"}, {"ssh-ed25519"}, false);
  EXPECT_TRUE(guess_was_wrong(offer({"curve25519-sha256"}, {"ssh-ed25519"}, true), ours));
  EXPECT_TRUE(guess_was_wrong(
      offer({"mlkem768x25519-sha256"}, {"ecdsa-sha2-nistp256", "ssh-ed25519"}, true), ours));
  EXPECT_FALSE(guess_was_wrong(
      offer({"mlkem768x25519-sha256", "x"}, {"ssh-ed25519", "y"}, true), ours));
  EXPECT_FALSE(guess_was_wrong(offer({"curve25519-sha256"}, {"ssh-ed25519"}, false), ours));
}

bool never_aead(std::string_view) { return false; }

TEST(KexInitNegotiate, ClientPreferenceWinsAndPseudoAlgorithmsNever) {
  KexInit c = offer({"ext-info-c", "curve25519-sha256", "ecdh-sha2-nistp256"}, {"ssh-ed25519"},
                    false);
  KexInit s = offer({"ecdh-sha2-nistp256", "curve25519-sha256", "ext-info-c"}, {"ssh-ed25519"},
                    false);
  for (KexInit* k : {&c, &s}) {
    k->cipher_c2s = k->cipher_s2c = {"aes128-ctr"};
    k->mac_c2s = k->mac_s2c = {"hmac-sha2-256"};
    k->compression_c2s = k->compression_s2c = {"none"};
  }
  std::string error;
  auto n = negotiate(c, s, never_aead, error);
  ASSERT_TRUE(n) << error;
  EXPECT_EQ(n->kex, "curve25519-sha256");
  s.mac_c2s = {"hmac-sha2-512"};
  EXPECT_FALSE(negotiate(c, s, never_aead, error));
  EXPECT_NE(error.find("MAC"), std::string::npos);
}

}  // namespace
}  // namespace hashi::transport
