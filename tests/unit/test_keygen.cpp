// Tests for hashi-keygen's library parts: randomart (against ssh-keygen -lv output), the private
// key writer (write -> parse round trips per type, format and encryption), RFC 4716 / PEM public
// keys, public-key listing lines, and known_hosts editing (-F / -R / -H).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "keys/base64.h"
#include "keys/key.h"
#include "keys/key_writer.h"
#include "keys/known_hosts.h"
#include "keys/known_hosts_edit.h"
#include "keys/randomart.h"
#include "keys/rfc4716.h"

using namespace hashi;
using namespace hashi::keys;

namespace {

// Keys and pictures captured from OpenSSH 9.2p1's ssh-keygen -lv [-E md5].
constexpr std::string_view kEd25519Line =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMVM0ZXkGV9tsj9Io3NpiGggPuDIh0RaXak4QFYwC5H/ me@x";
constexpr std::string_view kEd25519Sha256Art =
    "+--[ED25519 256]--+\n"
    "|        ..   +...|\n"
    "|       .o . +   .|\n"
    "|      .o + ...o .|\n"
    "|     .o * . .=.O.|\n"
    "|     ..*S  ...X *|\n"
    "|     o....   o *o|\n"
    "|    o o.o  .. ...|\n"
    "|   . ++o .. . .  |\n"
    "| .o...oooE   .   |\n"
    "+----[SHA256]-----+";
constexpr std::string_view kEd25519Md5Art =
    "+--[ED25519 256]--+\n"
    "|..*o             |\n"
    "| E ..            |\n"
    "|+ .              |\n"
    "| o o             |\n"
    "|  + . . S        |\n"
    "| o o o .         |\n"
    "|o.o.o o          |\n"
    "|+ o  + o         |\n"
    "|o. .o .          |\n"
    "+------[MD5]------+";
constexpr std::string_view kEcdsa256Line =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBM+64bObesNVHRLWZ3O1ktf"
    "d/a8eKs2nMH5iPyXf1KpZylw5JP9ZwhIyTdXVGG0uDUQO6IILxwTNlpOYokuPyqA= ec";
constexpr std::string_view kEcdsa256Sha256Art =
    "+---[ECDSA 256]---+\n"
    "|             +o+.|\n"
    "|     . .    . +..|\n"
    "|      +   o . oo.|\n"
    "|     + o = o o o+|\n"
    "|    B O S +    Eo|\n"
    "|   + @ O B       |\n"
    "|    + + O .      |\n"
    "|     o B o       |\n"
    "|    ..* .        |\n"
    "+----[SHA256]-----+";
constexpr std::string_view kEcdsa521Line =
    "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBACS4xo9nI7+uv+sNvNLyPY"
    "vC2vDT09WEsBVYoorQ3S0vGEt+Uylaz2TnnwI2enJxKbTUqMqtF2LQLTuYqNUbDOzoAE5Zs0km+NaVoVy89eEoNrW5xdB61"
    "z04T85MGWQX0D7/JkGFQm0of/OIIB+eaAXwVCyTNlB/qA+Qt9QZ+q3g53Ahw== x";
constexpr std::string_view kEcdsa521Sha256Art =
    "+---[ECDSA 521]---+\n"
    "|=+E+ Oo.         |\n"
    "|=*..=.@.         |\n"
    "|=..+.* +.        |\n"
    "|o.= + o.o .      |\n"
    "|.o =   .So       |\n"
    "| .= .            |\n"
    "| ..X             |\n"
    "|  +o*            |\n"
    "|  .o..           |\n"
    "+----[SHA256]-----+";

PublicKey key_of(std::string_view line) {
  std::optional<PublicKeyLine> parsed = parse_public_key_listing_line(line);
  EXPECT_TRUE(parsed.has_value()) << line;
  return parsed ? parsed->key : PublicKey();
}

}  // namespace

TEST(KeygenRandomart, MatchesSshKeygen) {
  EXPECT_EQ(randomart_for_key(key_of(kEd25519Line), FingerprintHash::kSha256), kEd25519Sha256Art);
  EXPECT_EQ(randomart_for_key(key_of(kEd25519Line), FingerprintHash::kMd5), kEd25519Md5Art);
  EXPECT_EQ(randomart_for_key(key_of(kEcdsa256Line), FingerprintHash::kSha256), kEcdsa256Sha256Art);
  EXPECT_EQ(randomart_for_key(key_of(kEcdsa521Line), FingerprintHash::kSha256), kEcdsa521Sha256Art);
}

TEST(KeygenRandomart, TitleFallbacksAsOpenssh) {
  Bytes digest(32, 0);
  // "[ED25519-CERT 256]" does not fit in 17 columns: OpenSSH falls back to "[ED25519-CERT]".
  std::string art = randomart(digest, "SHA256", "ED25519-CERT", 256);
  EXPECT_EQ(art.substr(0, 19), "+-[ED25519-CERT]--+");
  // Exactly 17 characters: snprintf keeps the first 16.
  art = randomart(digest, "SHA256", "ABCDEFGHIJ", 1234);
  EXPECT_EQ(art.substr(0, 19), "+[ABCDEFGHIJ 1234-+");
  // Every line is 19 characters wide; 11 lines.
  size_t lines = 0;
  for (size_t pos = 0; pos <= art.size();) {
    size_t nl = art.find('\n', pos);
    std::string_view line = std::string_view(art).substr(pos, nl == std::string::npos ? art.size() - pos : nl - pos);
    EXPECT_EQ(line.size(), 19u);
    ++lines;
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  EXPECT_EQ(lines, 11u);
}

TEST(KeygenFingerprint, Sha256AndMd5) {
  PublicKey key = key_of(kEd25519Line);
  EXPECT_EQ(fingerprint(key, FingerprintHash::kSha256),
            "SHA256:iqteP5ZPuUhElepNoZdmtXeQWfX/BLtYmbA9bcLxq6A");
  EXPECT_EQ(fingerprint(key, FingerprintHash::kMd5),
            "MD5:22:bb:1d:a3:92:b8:82:74:23:71:06:d6:34:90:4e:9c");
  EXPECT_EQ(fingerprint_hash_from_name("SHA256"), FingerprintHash::kSha256);
  EXPECT_EQ(fingerprint_hash_from_name("md5"), FingerprintHash::kMd5);
  EXPECT_FALSE(fingerprint_hash_from_name("sha1").has_value());
}

struct WriterCase {
  KeyType type;
  size_t bits;
  PrivateKeyFormat format;
  const char* passphrase;
  const char* armor;  // the first line expected
};

class KeygenWriterRoundTrip : public testing::TestWithParam<WriterCase> {};

TEST_P(KeygenWriterRoundTrip, WriteThenParse) {
  const WriterCase& c = GetParam();
  KeyMaterial key = KeyMaterial::generate(c.type, c.bits);
  PrivateKeyWriteOptions options;
  options.format = c.format;
  options.passphrase = c.passphrase;
  options.comment = "round trip";
  options.kdf_rounds = 2;  // keep the test fast; the default is checked below
  std::string error;
  std::optional<std::string> text = key.encode(options, error);
  ASSERT_TRUE(text.has_value()) << error;
  EXPECT_EQ(text->substr(0, text->find('\n')), c.armor);
  std::optional<PrivateKey> parsed = PrivateKey::parse(as_bytes(*text), c.passphrase, error);
  ASSERT_TRUE(parsed.has_value()) << error;
  EXPECT_EQ(parsed->public_key(), key.key().public_key());
  if (std::string_view(c.armor).find("OPENSSH") != std::string_view::npos) {
    EXPECT_EQ(parsed->comment(), "round trip");
  }
  // A signature by the re-read key verifies with the original public key.
  Bytes data = to_bytes("data");
  std::string_view alg = signature_algorithms(c.type).front();
  EXPECT_TRUE(key.key().public_key().verify(alg, data, parsed->sign(alg, data)));
  if (*c.passphrase) {
    EXPECT_FALSE(PrivateKey::parse(as_bytes(*text), "wrong passphrase", error).has_value());
    EXPECT_FALSE(PrivateKey::parse(as_bytes(*text), "", error).has_value());
  }
  // KeyMaterial reads its own output back and writes it again in another format.
  std::optional<KeyMaterial> again = KeyMaterial::parse(as_bytes(*text), c.passphrase, error);
  ASSERT_TRUE(again.has_value()) << error;
  PrivateKeyWriteOptions plain;
  std::optional<std::string> rewritten = again->encode(plain, error);
  ASSERT_TRUE(rewritten.has_value()) << error;
  std::optional<PrivateKey> reparsed = PrivateKey::parse(as_bytes(*rewritten), "", error);
  ASSERT_TRUE(reparsed.has_value()) << error;
  EXPECT_EQ(reparsed->public_key(), key.key().public_key());
}

constexpr char kOpenssh[] = "-----BEGIN OPENSSH PRIVATE KEY-----";

INSTANTIATE_TEST_SUITE_P(
    Keygen, KeygenWriterRoundTrip,
    testing::Values(
        WriterCase{KeyType::kEd25519, 0, PrivateKeyFormat::kOpenssh, "", kOpenssh},
        WriterCase{KeyType::kEd25519, 0, PrivateKeyFormat::kOpenssh, "secret", kOpenssh},
        WriterCase{KeyType::kEd25519, 0, PrivateKeyFormat::kPem, "", kOpenssh},
        WriterCase{KeyType::kEd25519, 0, PrivateKeyFormat::kPkcs8, "secret", kOpenssh},
        WriterCase{KeyType::kEcdsaP256, 0, PrivateKeyFormat::kOpenssh, "", kOpenssh},
        WriterCase{KeyType::kEcdsaP384, 0, PrivateKeyFormat::kOpenssh, "secret", kOpenssh},
        WriterCase{KeyType::kEcdsaP521, 0, PrivateKeyFormat::kOpenssh, "secret", kOpenssh},
        WriterCase{KeyType::kEcdsaP256, 0, PrivateKeyFormat::kPem, "",
                   "-----BEGIN EC PRIVATE KEY-----"},
        WriterCase{KeyType::kEcdsaP384, 0, PrivateKeyFormat::kPem, "secret",
                   "-----BEGIN EC PRIVATE KEY-----"},
        WriterCase{KeyType::kEcdsaP521, 0, PrivateKeyFormat::kPkcs8, "",
                   "-----BEGIN PRIVATE KEY-----"},
        WriterCase{KeyType::kEcdsaP256, 0, PrivateKeyFormat::kPkcs8, "secret",
                   "-----BEGIN ENCRYPTED PRIVATE KEY-----"},
        WriterCase{KeyType::kRsa, 2048, PrivateKeyFormat::kOpenssh, "", kOpenssh},
        WriterCase{KeyType::kRsa, 2048, PrivateKeyFormat::kOpenssh, "secret", kOpenssh},
        WriterCase{KeyType::kRsa, 2048, PrivateKeyFormat::kPem, "",
                   "-----BEGIN RSA PRIVATE KEY-----"},
        WriterCase{KeyType::kRsa, 2048, PrivateKeyFormat::kPem, "secret",
                   "-----BEGIN RSA PRIVATE KEY-----"},
        WriterCase{KeyType::kRsa, 2048, PrivateKeyFormat::kPkcs8, "secret",
                   "-----BEGIN ENCRYPTED PRIVATE KEY-----"}),
    [](const testing::TestParamInfo<WriterCase>& info) {
      const WriterCase& c = info.param;
      std::string name;
      switch (c.type) {
        case KeyType::kEd25519: name = "Ed25519"; break;
        case KeyType::kEcdsaP256: name = "EcdsaP256"; break;
        case KeyType::kEcdsaP384: name = "EcdsaP384"; break;
        case KeyType::kEcdsaP521: name = "EcdsaP521"; break;
        case KeyType::kRsa: name = "Rsa" + std::to_string(c.bits); break;
      }
      switch (c.format) {
        case PrivateKeyFormat::kOpenssh: name += "_Openssh"; break;
        case PrivateKeyFormat::kPem: name += "_Pem"; break;
        case PrivateKeyFormat::kPkcs8: name += "_Pkcs8"; break;
      }
      return name + (*c.passphrase ? "_Encrypted" : "_Plain");
    });

TEST(KeygenWriter, OpensshLayoutAsSshKeygen) {
  KeyMaterial key = KeyMaterial::generate(KeyType::kEd25519);
  std::string error;
  PrivateKeyWriteOptions options;
  options.passphrase = "secret";
  options.comment = "c";
  std::optional<std::string> text = key.encode(options, error);
  ASSERT_TRUE(text.has_value()) << error;
  // Lines of 70 base64 characters, then the END line and a newline.
  size_t first_nl = text->find('\n');
  size_t second_nl = text->find('\n', first_nl + 1);
  EXPECT_EQ(second_nl - first_nl - 1, 70u);
  EXPECT_EQ(text->substr(text->size() - 34), "-----END OPENSSH PRIVATE KEY-----\n");
  std::string b64;
  for (char ch : text->substr(first_nl + 1, text->rfind("-----END") - first_nl - 1)) {
    if (ch != '\n') b64 += ch;
  }
  std::optional<Bytes> body = base64_decode(b64);
  ASSERT_TRUE(body.has_value());
  std::string_view s = as_string(*body);
  // magic, "aes256-ctr", "bcrypt", kdf options: string salt(16) + uint32 rounds (16).
  EXPECT_EQ(s.substr(0, 15), std::string_view("openssh-key-v1\0", 15));
  EXPECT_EQ(s.substr(15, 14), std::string_view("\0\0\0\x0a" "aes256-ctr", 14));
  EXPECT_EQ(s.substr(29, 10), std::string_view("\0\0\0\x06" "bcrypt", 10));
  EXPECT_EQ(s.substr(39, 4), std::string_view("\0\0\0\x18", 4));
  EXPECT_EQ(s.substr(43, 4), std::string_view("\0\0\0\x10", 4));
  EXPECT_EQ(s.substr(63, 4), std::string_view("\0\0\0\x10", 4));  // 16 rounds
}

TEST(KeygenWriter, ShortPemPassphraseRefused) {
  KeyMaterial key = KeyMaterial::generate(KeyType::kEcdsaP256);
  PrivateKeyWriteOptions options;
  options.format = PrivateKeyFormat::kPem;
  options.passphrase = "abcd";
  std::string error;
  EXPECT_FALSE(key.encode(options, error).has_value());
  EXPECT_EQ(error, "passphrase is too short (minimum five characters)");
}

TEST(KeygenWriter, AtomicWriteSetsMode) {
  char dir_template[] = "/tmp/hashi-keygen-test.XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string path = std::string(dir_template) + "/key";
  std::string error;
  ASSERT_TRUE(write_file_atomic(path, "one", 0600, error)) << error;
  ASSERT_TRUE(write_file_atomic(path, "two", 0644, error)) << error;
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_FALSE(write_file_atomic(std::string(dir_template) + "/no/such/dir", "x", 0600, error));
  unlink(path.c_str());
  rmdir(dir_template);
}

TEST(KeygenRfc4716, EncodeDecode) {
  PublicKey key = key_of(kEcdsa521Line);
  std::string text = rfc4716_encode(key, "521-bit ECDSA, converted by me@host from OpenSSH");
  EXPECT_EQ(text.substr(0, 32), "---- BEGIN SSH2 PUBLIC KEY ----\n");
  EXPECT_NE(text.find("\nComment: \"521-bit ECDSA, converted by me@host from OpenSSH\"\n"),
            std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 30), "---- END SSH2 PUBLIC KEY ----\n");
  std::optional<PublicKey> back = rfc4716_decode(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, key);
  // Continued header lines (RFC 4716 section 3.3) are skipped.
  std::string continued = "---- BEGIN SSH2 PUBLIC KEY ----\nSubject: a \\\ncontinued: line\n" +
                          text.substr(text.find("AAAA"));
  back = rfc4716_decode(continued);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, key);
  EXPECT_FALSE(rfc4716_decode("---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n").has_value());
}

TEST(KeygenRfc4716, PemPublic) {
  std::string error;
  PublicKey ec = key_of(kEcdsa256Line);
  std::optional<std::string> pem = pem_public_encode(ec, PemPublicFormat::kPkcs8, error);
  ASSERT_TRUE(pem.has_value()) << error;
  EXPECT_EQ(pem->substr(0, 26), "-----BEGIN PUBLIC KEY-----");
  std::optional<PublicKey> back = pem_public_decode(*pem, PemPublicFormat::kPkcs8, error);
  ASSERT_TRUE(back.has_value()) << error;
  EXPECT_EQ(*back, ec);
  EXPECT_FALSE(pem_public_encode(key_of(kEd25519Line), PemPublicFormat::kPem, error).has_value());
  EXPECT_EQ(error, "unsupported key type ED25519");
  PublicKey rsa = KeyMaterial::generate(KeyType::kRsa, 2048).key().public_key();
  pem = pem_public_encode(rsa, PemPublicFormat::kPem, error);
  ASSERT_TRUE(pem.has_value()) << error;
  EXPECT_EQ(pem->substr(0, 30), "-----BEGIN RSA PUBLIC KEY-----");
  back = pem_public_decode(*pem, PemPublicFormat::kPem, error);
  ASSERT_TRUE(back.has_value()) << error;
  EXPECT_EQ(*back, rsa);
}

TEST(KeygenListing, LinesAsSshKeygenL) {
  std::string b64 = std::string(kEd25519Line.substr(12, 68));
  auto comment_of = [](std::string_view line) -> std::optional<std::string> {
    std::optional<PublicKeyLine> l = parse_public_key_listing_line(line);
    if (!l) return std::string("<none>");
    return l->comment;
  };
  EXPECT_EQ(comment_of("ssh-ed25519 " + b64 + " me@x"), "me@x");
  EXPECT_EQ(comment_of("ssh-ed25519 " + b64), std::nullopt);
  EXPECT_EQ(comment_of("host1,host2 ssh-ed25519 " + b64), "host1,host2");
  EXPECT_EQ(comment_of("host ssh-ed25519 " + b64 + " # note"), "host");
  EXPECT_EQ(comment_of("command=\"a b\",no-pty ssh-ed25519 " + b64 + " c"), "c");
  EXPECT_EQ(comment_of("command=\"a b\" ssh-ed25519 " + b64), "command=\"a b\"");
  EXPECT_EQ(comment_of("@cert-authority *.x ssh-ed25519 " + b64), "<none>");
  EXPECT_EQ(comment_of("# ssh-ed25519 " + b64), "<none>");
  EXPECT_EQ(comment_of("ssh-rsa " + b64), "<none>");  // type must match the blob
  EXPECT_EQ(comment_of("2048 35 123"), "<none>");      // SSH1
}

namespace {
const std::string kKey = std::string(kEd25519Line.substr(0, 80));
}  // namespace

TEST(KeygenKnownHosts, FindPlainHashedAndPort) {
  std::string hashed = hash_known_host_name("hashed.example");
  std::string contents = "# c\nhost1 " + kKey + "\nhost2,host3 " + kKey + " cmt\n[host4]:2222 " +
                         kKey + "\n" + hashed + " " + kKey + "\n@revoked host1 " + kKey + "\n";
  KnownHostsEdit r = known_hosts_find(contents, "kh", "host1", false, false);
  EXPECT_TRUE(r.found);
  EXPECT_EQ(r.stdout_text, "# Host host1 found: line 2 \nhost1 " + kKey +
                               "\n# Host host1 found: line 6 REVOKED\n@revoked host1 " + kKey +
                               "\n");
  r = known_hosts_find(contents, "kh", "[host4]:2222", false, true);
  EXPECT_EQ(r.stdout_text, "[host4]:2222 " + kKey + "\n");
  r = known_hosts_find(contents, "kh", "hashed.example", false, false);
  EXPECT_EQ(r.stdout_text, "# Host hashed.example found: line 5 \n" + hashed + " " + kKey + "\n");
  EXPECT_FALSE(known_hosts_find(contents, "kh", "host4", false, false).found);
}

TEST(KeygenKnownHosts, RemoveKeepsMarkersAndOthers) {
  std::string contents = "host1 " + kKey + "\nhost2,host1 " + kKey + "\n@revoked host1 " + kKey +
                         "\nhost3 " + kKey;  // no final newline: written with one, as OpenSSH
  KnownHostsEdit r = known_hosts_remove(contents, "kh", "HOST1", false);
  EXPECT_TRUE(r.found);
  EXPECT_FALSE(r.invalid);
  EXPECT_EQ(r.stdout_text, "# Host HOST1 found: line 1\n# Host HOST1 found: line 2\n");
  EXPECT_EQ(r.file, "@revoked host1 " + kKey + "\nhost3 " + kKey + "\n");
  r = known_hosts_remove("host1 " + kKey + "\n@bogus x " + kKey + "\n", "kh", "host1", true);
  EXPECT_TRUE(r.invalid);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], "kh:2: invalid line");
}

TEST(KeygenKnownHosts, HashEachNameSeparately) {
  std::string contents = "# c\nHost1,host2 " + kKey + " cmt\n*.wild " + kKey + "\n@cert-authority ca " +
                         kKey + "\n";
  KnownHostsEdit r = known_hosts_hash(contents, "kh");
  EXPECT_TRUE(r.has_unhashed);
  EXPECT_FALSE(r.invalid);
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < r.file.size();) {
    size_t nl = r.file.find('\n', pos);
    lines.push_back(r.file.substr(pos, nl - pos));
    pos = nl + 1;
  }
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "# c");
  for (int i : {1, 2}) {
    std::string error;
    std::optional<KnownHostEntry> e = parse_known_host_line(lines[size_t(i)], error);
    ASSERT_TRUE(e.has_value()) << error;
    EXPECT_EQ(e->hosts.substr(0, 3), "|1|");
    EXPECT_TRUE(host_matches_entry(*e, i == 1 ? "host1" : "host2"));  // lower-cased first
    EXPECT_EQ(lines[size_t(i)].substr(lines[size_t(i)].find(' ') + 1), kKey + " cmt");
  }
  EXPECT_EQ(lines[3], "*.wild " + kKey);
  EXPECT_EQ(lines[4], "@cert-authority ca " + kKey);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], "kh:3: ignoring host name with wildcard: *.wild");
}
