// Host trust (known_hosts lookup as OpenSSH 9.x), the hostkeys-00 / hostkeys-prove-00 exchange,
// the known_hosts update, and the authorized_keys from= / expiry-time= evaluation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "client/host_trust.h"
#include "client/hostkeys_update.h"
#include "session/hostkeys.h"
#include "server/key_authenticator.h"

namespace hashi {
namespace {

std::string temp_file(const std::string& contents) {
  char path[] = "/tmp/hashi-trust-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, contents.data(), contents.size()), ssize_t(contents.size()));
  close(fd);
  return path;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TrustConfirm, YesNoFingerprint) {
  EXPECT_EQ(client::parse_confirmation("yes", "SHA256:x"), true);
  EXPECT_EQ(client::parse_confirmation("  YES \r", "SHA256:x"), true);
  EXPECT_EQ(client::parse_confirmation("SHA256:x", "SHA256:x"), true);
  EXPECT_EQ(client::parse_confirmation("no", "SHA256:x"), false);
  EXPECT_EQ(client::parse_confirmation("", "SHA256:x"), false);
  EXPECT_EQ(client::parse_confirmation("maybe", "SHA256:x"), std::nullopt);
  EXPECT_EQ(client::parse_confirmation("SHA256:y", "SHA256:x"), std::nullopt);
}

TEST(TrustLookup, OkChangedOtherTypeRevoked) {
  auto ed = keys::PrivateKey::generate(keys::KeyType::kEd25519).public_key();
  auto ed2 = keys::PrivateKey::generate(keys::KeyType::kEd25519).public_key();
  auto ec = keys::PrivateKey::generate(keys::KeyType::kEcdsaP256).public_key();
  std::string f = temp_file("# comment\n[h]:2222 " + ed.to_line() + "\nother " + ed2.to_line() +
                            "\n");
  auto r = client::lookup_host_key({f}, "[h]:2222", ed);
  EXPECT_EQ(r.status, client::TrustStatus::kOk);
  EXPECT_EQ(r.line, 2u);
  r = client::lookup_host_key({f}, "[h]:2222", ed2);
  EXPECT_EQ(r.status, client::TrustStatus::kChanged);
  EXPECT_EQ(r.line, 2u);
  // A key of another type for a known host counts as changed (OpenSSH 9.x).
  r = client::lookup_host_key({f}, "[h]:2222", ec);
  EXPECT_EQ(r.status, client::TrustStatus::kChanged);
  EXPECT_EQ(r.found_type, keys::KeyType::kEd25519);
  EXPECT_EQ(client::lookup_host_key({f}, "h", ed).status, client::TrustStatus::kNew);
  std::string g = temp_file("@revoked * " + ed.to_line() + "\n");
  EXPECT_EQ(client::lookup_host_key({f, g}, "[h]:2222", ed).status, client::TrustStatus::kRevoked);
  unlink(f.c_str());
  unlink(g.c_str());
}

TEST(HostkeysProve, RoundTripAllTypes) {
  session::HostKeyList hk;
  for (auto t : {keys::KeyType::kEd25519, keys::KeyType::kEcdsaP384, keys::KeyType::kRsa}) {
    hk.push_back(std::make_shared<keys::PrivateKey>(keys::PrivateKey::generate(t, 2048)));
  }
  Bytes sid(32, 7);
  size_t unsupported = 0;
  auto offered = session::parse_hostkeys(session::hostkeys_announcement(hk), unsupported);
  ASSERT_TRUE(offered);
  ASSERT_EQ(offered->size(), 3u);
  auto proof = session::prove_hostkeys(hk, session::encode_hostkeys(*offered), sid, "ssh-ed25519");
  ASSERT_TRUE(proof);
  EXPECT_TRUE(session::verify_hostkeys_proof(*offered, sid, *proof, false));
  Bytes other_sid(32, 8);
  EXPECT_FALSE(session::verify_hostkeys_proof(*offered, other_sid, *proof, false));
  // A key the server does not hold is refused.
  auto stranger = keys::PrivateKey::generate(keys::KeyType::kEd25519).public_key();
  EXPECT_FALSE(session::prove_hostkeys(hk, session::encode_hostkeys({stranger}), sid, ""));
  // Repeated keys make the announcement invalid.
  EXPECT_FALSE(session::parse_hostkeys(session::encode_hostkeys({stranger, stranger}), unsupported));
}

TEST(HostkeysUpdate, AddsAndRemoves) {
  auto a = keys::PrivateKey::generate(keys::KeyType::kEd25519).public_key();
  auto b = keys::PrivateKey::generate(keys::KeyType::kEcdsaP256).public_key();
  auto old = keys::PrivateKey::generate(keys::KeyType::kEd25519).public_key();
  std::string f = temp_file("keep " + old.to_line() + "\n[h]:2 " + a.to_line() + "\n[h]:2 " +
                            old.to_line() + "\n");
  client::KnownHostsUpdater u(f, "[h]:2", false, nullptr);
  auto unknown = u.unknown_keys({a, b});
  ASSERT_TRUE(unknown);
  ASSERT_EQ(unknown->size(), 1u);
  EXPECT_TRUE((*unknown)[0] == b);
  ASSERT_TRUE(u.apply({a, b}, {b}));
  EXPECT_EQ(slurp(f), "keep " + old.to_line() + "\n[h]:2 " + a.to_line() + "\n[h]:2 " +
                          b.to_line() + "\n");
  // Nothing known for the host: no update.
  client::KnownHostsUpdater other(f, "[x]:2", false, nullptr);
  EXPECT_FALSE(other.unknown_keys({a}));
  unlink(f.c_str());
  unlink((f + ".old").c_str());
}

TEST(AuthorizedKeysFrom, Patterns) {
  EXPECT_TRUE(server::from_allowed("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(server::from_allowed("10.0.0.1", "127.0.0.1"));
  EXPECT_TRUE(server::from_allowed("10.*,127.0.0.0/8", "127.9.9.9"));
  EXPECT_FALSE(server::from_allowed("*,!127.0.0.1", "127.0.0.1"));
  EXPECT_TRUE(server::from_allowed("2001:db8::/32", "2001:db8::5"));
  EXPECT_FALSE(server::from_allowed("2001:db8::/32", "2001:db9::5"));
  EXPECT_FALSE(server::from_allowed("10.0.0.0/99", "10.0.0.1"));
}

TEST(AuthorizedKeysExpiry, Parse) {
  EXPECT_EQ(server::parse_expiry_time("20000101Z"), 946684800);
  EXPECT_EQ(server::parse_expiry_time("200001010000Z"), 946684800);
  EXPECT_EQ(server::parse_expiry_time("20000101000001Z"), 946684801);
  EXPECT_FALSE(server::parse_expiry_time("2000"));
  EXPECT_FALSE(server::parse_expiry_time("2000010x"));
}

}  // namespace
}  // namespace hashi
