// Tests for keys/key.h, keys/base64.h and keys/bcrypt_pbkdf.h against OpenSSH's ssh-keygen.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "keys/base64.h"
#include "keys/bcrypt_pbkdf.h"
#include "keys/key.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::keys {
namespace {

namespace fs = std::filesystem;

// A throw-away directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "hashi-keys-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs a shell command; returns its stdout, and its exit status in `status`.
std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Field `i` (0-based, whitespace separated) of `line`.
std::string field(const std::string& line, size_t i) {
  std::istringstream in(line);
  std::string tok;
  for (size_t k = 0; k <= i; ++k) {
    if (!(in >> tok)) return "";
  }
  return tok;
}

std::optional<PrivateKey> parse_file(const std::string& path, std::string_view pass,
                                     std::string& error) {
  std::string text = read_text(path);
  return PrivateKey::parse(as_bytes(text), pass, error);
}

// Sign/verify round trip for every algorithm of the key, plus the negative cases.
void check_sign_verify(const PrivateKey& key) {
  const PublicKey& pub = key.public_key();
  const Bytes data = to_bytes("exchange hash H");
  for (std::string_view alg : signature_algorithms(pub.type())) {
    SCOPED_TRACE(std::string(alg));
    Bytes sig = key.sign(alg, data);
    ASSERT_FALSE(sig.empty());
    EXPECT_TRUE(pub.verify(alg, data, sig));
    // Wrong data.
    EXPECT_FALSE(pub.verify(alg, to_bytes("exchange hash X"), sig));
    // Truncated blobs, and one trailing byte.
    for (size_t cut : {size_t(0), size_t(3), size_t(4), sig.size() / 2, sig.size() - 1}) {
      EXPECT_FALSE(pub.verify(alg, data, ByteView(sig.data(), cut))) << cut;
    }
    Bytes longer = sig;
    longer.push_back(0);
    EXPECT_FALSE(pub.verify(alg, data, longer));
    // A flipped bit in the signature itself.
    Bytes flipped = sig;
    flipped.back() ^= 1;
    EXPECT_FALSE(pub.verify(alg, data, flipped));
    // Other algorithms, valid or not for this key, do not accept this blob.
    for (std::string_view other :
         {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
          "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa", "bogus"}) {
      if (other != alg) {
        EXPECT_FALSE(pub.verify(other, data, sig)) << other;
      }
    }
  }
  // Algorithms of another key type cannot sign.
  std::string_view foreign = pub.type() == KeyType::kEd25519 ? "rsa-sha2-256" : "ssh-ed25519";
  EXPECT_TRUE(key.sign(foreign, data).empty());
}

struct KeygenCase {
  const char* type;
  int bits;
  KeyType expect;
};

const KeygenCase kKeygenCases[] = {
    {"ed25519", 0, KeyType::kEd25519},   {"ecdsa", 256, KeyType::kEcdsaP256},
    {"ecdsa", 384, KeyType::kEcdsaP384}, {"ecdsa", 521, KeyType::kEcdsaP521},
    {"rsa", 3072, KeyType::kRsa},
};

// "ed25519", "ecdsa256", "rsa3072": a test-name part for a case.
std::string case_name(const KeygenCase& c) {
  return std::string(c.type) + (c.bits ? std::to_string(c.bits) : "");
}

std::string keygen(const TempDir& dir, const KeygenCase& c, const std::string& name,
                   const std::string& extra) {
  std::string path = dir.file(name);
  std::string cmd = "ssh-keygen -q -t " + std::string(c.type) +
                    (c.bits ? " -b " + std::to_string(c.bits) : "") + " -C 'test comment' " +
                    extra + " -f " + path + " </dev/null >/dev/null 2>&1";
  int status = -1;
  run(cmd, &status);
  EXPECT_EQ(status, 0) << cmd;
  return path;
}

TEST(KeysBase64, Vectors) {
  EXPECT_EQ(base64_encode(to_bytes("")), "");
  EXPECT_EQ(base64_encode(to_bytes("f")), "Zg==");
  EXPECT_EQ(base64_encode(to_bytes("fo")), "Zm8=");
  EXPECT_EQ(base64_encode(to_bytes("foo")), "Zm9v");
  EXPECT_EQ(base64_encode(to_bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(to_bytes("fo"), false), "Zm8");
  EXPECT_EQ(*base64_decode("Zm9vYmE="), to_bytes("fooba"));
  EXPECT_EQ(*base64_decode("Zm9vYmE"), to_bytes("fooba"));
  EXPECT_EQ(*base64_decode(""), Bytes{});
  EXPECT_FALSE(base64_decode("Zm9v YmE="));
  EXPECT_FALSE(base64_decode("Zm9vY"));
  EXPECT_FALSE(base64_decode("Zm=9v"));
  EXPECT_FALSE(base64_decode("Zm9vYmE=="));
  EXPECT_FALSE(base64_decode("Zg==="));
  EXPECT_FALSE(base64_decode("Zm9v\n"));
  Bytes all(256);
  for (size_t i = 0; i < all.size(); ++i) all[i] = uint8_t(i);
  for (size_t n = 0; n < all.size(); ++n) {
    ByteView part(all.data(), n);
    EXPECT_EQ(*base64_decode(base64_encode(part)), Bytes(part.begin(), part.end()));
    EXPECT_EQ(*base64_decode(base64_encode(part, false)), Bytes(part.begin(), part.end()));
  }
}

TEST(KeysAlgorithms, Tables) {
  EXPECT_EQ(signature_algorithms(KeyType::kRsa),
            (std::vector<std::string_view>{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}));
  EXPECT_EQ(signature_algorithms(KeyType::kEd25519),
            (std::vector<std::string_view>{"ssh-ed25519"}));
  EXPECT_EQ(signature_algorithms(KeyType::kEcdsaP521),
            (std::vector<std::string_view>{"ecdsa-sha2-nistp521"}));
  EXPECT_EQ(key_type_for_algorithm("rsa-sha2-256"), KeyType::kRsa);
  EXPECT_EQ(key_type_for_algorithm("rsa-sha2-512"), KeyType::kRsa);
  EXPECT_EQ(key_type_for_algorithm("ssh-rsa"), KeyType::kRsa);
  EXPECT_EQ(key_type_for_algorithm("ssh-ed25519"), KeyType::kEd25519);
  EXPECT_EQ(key_type_for_algorithm("ecdsa-sha2-nistp384"), KeyType::kEcdsaP384);
  EXPECT_FALSE(key_type_for_algorithm("ssh-dss"));
  EXPECT_FALSE(key_type_for_algorithm("ssh-ed25519-cert-v01@openssh.com"));
}

class KeysSshKeygen : public ::testing::TestWithParam<std::tuple<KeygenCase, const char*>> {};

TEST_P(KeysSshKeygen, ParseMatchesPublicFileAndFingerprint) {
  const auto& [c, format] = GetParam();
  TempDir dir;
  std::string extra = std::string("-N ''") + (*format ? std::string(" -m ") + format : "");
  std::string path = keygen(dir, c, "id", extra);
  std::string error;
  std::optional<PrivateKey> key = parse_file(path, "", error);
  ASSERT_TRUE(key) << error;
  EXPECT_TRUE(error.empty());
  const PublicKey& pub = key->public_key();
  EXPECT_EQ(pub.type(), c.expect);
  if (c.bits) {
    EXPECT_EQ(pub.bits(), size_t(c.bits));
  }

  std::string pub_line = read_text(path + ".pub");
  EXPECT_EQ(pub.to_line(), field(pub_line, 0) + " " + field(pub_line, 1));
  EXPECT_EQ(pub.to_line("x y"), field(pub_line, 0) + " " + field(pub_line, 1) + " x y");
  if (read_text(path).find("OPENSSH PRIVATE KEY") != std::string::npos) {
    EXPECT_EQ(key->comment(), "test comment");
  }
  EXPECT_EQ(pub.fingerprint_sha256(), field(run("ssh-keygen -l -f " + path + ".pub"), 1));
  EXPECT_EQ(pub.fingerprint_md5(), field(run("ssh-keygen -l -E md5 -f " + path + ".pub"), 1));

  // The public blob round-trips through from_blob.
  std::optional<Bytes> blob = base64_decode(field(pub_line, 1));
  ASSERT_TRUE(blob);
  std::optional<PublicKey> decoded = PublicKey::from_blob(*blob);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(*decoded == pub);
  EXPECT_EQ(decoded->type_name(), field(pub_line, 0));
  check_sign_verify(*key);
}

INSTANTIATE_TEST_SUITE_P(Keys, KeysSshKeygen,
                         ::testing::Combine(::testing::ValuesIn(kKeygenCases),
                                            ::testing::Values("", "PEM", "PKCS8")),
                         [](const auto& info) {
                           const char* format = std::get<1>(info.param);
                           return case_name(std::get<0>(info.param)) + "_" +
                                  (*format ? format : "OpenSSH");
                         });

// Encryption tests use a 2048-bit RSA key: the cipher path is what is tested, and ssh-keygen's
// 3072-bit generation costs seconds per key.
const KeygenCase kEncryptedCases[] = {
    {"ed25519", 0, KeyType::kEd25519},
    {"ecdsa", 256, KeyType::kEcdsaP256},
    {"ecdsa", 521, KeyType::kEcdsaP521},
    {"rsa", 2048, KeyType::kRsa},
};

class KeysEncrypted : public ::testing::TestWithParam<KeygenCase> {};

TEST_P(KeysEncrypted, OpensshFormatWithPassphrase) {
  const KeygenCase& c = GetParam();
  TempDir dir;
  int n = 0;
  for (std::string cipher : {"", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-cbc"}) {
    SCOPED_TRACE(cipher);
    std::string extra = "-N 'correct horse' -a 4" + (cipher.empty() ? "" : " -Z " + cipher);
    std::string path = keygen(dir, c, "enc" + std::to_string(n++), extra);
    std::string error;
    std::optional<PrivateKey> key = parse_file(path, "correct horse", error);
    ASSERT_TRUE(key) << error;
    EXPECT_EQ(key->comment(), "test comment");
    std::string pub_line = read_text(path + ".pub");
    EXPECT_EQ(key->public_key().to_line(), field(pub_line, 0) + " " + field(pub_line, 1));

    EXPECT_FALSE(parse_file(path, "wrong horse", error));
    EXPECT_EQ(error, "incorrect passphrase supplied to decrypt private key");
    EXPECT_FALSE(parse_file(path, "", error));
    EXPECT_EQ(error, "incorrect passphrase supplied to decrypt private key");
  }
}

// ssh-keygen writes ed25519 keys only in OpenSSH format, so the PEM/PKCS8 cases leave it out
// (encrypted PKCS#8 ed25519 from openssl is covered by OpensslPkcs8IncludingEd25519).
class KeysEncryptedPem : public ::testing::TestWithParam<KeygenCase> {};

TEST_P(KeysEncryptedPem, PemWithPassphrase) {
  const KeygenCase& c = GetParam();
  TempDir dir;
  for (std::string format : {"PEM", "PKCS8"}) {
    std::string path = keygen(dir, c, "pem" + format, "-N 'correct horse' -m " + format);
    std::string error;
    std::optional<PrivateKey> key = parse_file(path, "correct horse", error);
    ASSERT_TRUE(key) << format << ": " << error;
    std::string pub_line = read_text(path + ".pub");
    EXPECT_EQ(key->public_key().to_line(), field(pub_line, 0) + " " + field(pub_line, 1));
    EXPECT_FALSE(parse_file(path, "wrong horse", error));
    EXPECT_EQ(error, "incorrect passphrase supplied to decrypt private key");
  }
}

INSTANTIATE_TEST_SUITE_P(Keys, KeysEncrypted, ::testing::ValuesIn(kEncryptedCases),
                         [](const auto& info) { return case_name(info.param); });
INSTANTIATE_TEST_SUITE_P(Keys, KeysEncryptedPem,
                         ::testing::Values(kEncryptedCases[1], kEncryptedCases[2],
                                           kEncryptedCases[3]),
                         [](const auto& info) { return case_name(info.param); });

TEST(KeysPrivateKey, OpensslPkcs8IncludingEd25519) {
  TempDir dir;
  const std::pair<const char*, const char*> algs[] = {
      {"ed25519", "-algorithm ed25519"},
      {"ec", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384"},
      {"rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048"},
  };
  for (const auto& [name, args] : algs) {
    SCOPED_TRACE(name);
    std::string path = dir.file(name);
    int status = -1;
    run(std::string("openssl genpkey ") + args + " -out " + path + " 2>/dev/null", &status);
    ASSERT_EQ(status, 0);
    run("openssl pkcs8 -topk8 -v2 aes256 -passout pass:secret12 -in " + path + " -out " + path +
            ".enc 2>/dev/null",
        &status);
    ASSERT_EQ(status, 0);
    std::string error;
    std::optional<PrivateKey> key = parse_file(path, "", error);
    ASSERT_TRUE(key) << error;
    ::chmod(path.c_str(), 0600);
    std::string ours = key->public_key().to_line();
    if (std::string(name) != "ed25519") {  // OpenSSH 9.2 cannot read PKCS#8 ed25519
      std::string theirs = run("ssh-keygen -y -f " + path);
      EXPECT_EQ(ours, field(theirs, 0) + " " + field(theirs, 1));
    }
    std::optional<PrivateKey> enc = parse_file(path + ".enc", "secret12", error);
    ASSERT_TRUE(enc) << error;
    EXPECT_TRUE(enc->public_key() == key->public_key());
    EXPECT_FALSE(parse_file(path + ".enc", "nope", error));
    EXPECT_EQ(error, "incorrect passphrase supplied to decrypt private key");
    check_sign_verify(*key);
  }
}

TEST(KeysPrivateKey, Rsa1024RefusedWithClearMessage) {
  TempDir dir;
  for (std::string format : {"", "PEM", "PKCS8"}) {
    std::string path = keygen(dir, {"rsa", 1024, KeyType::kRsa}, "rsa1024" + format,
                              "-N ''" + (format.empty() ? "" : " -m " + format));
    std::string error;
    EXPECT_FALSE(parse_file(path, "", error)) << format;
    EXPECT_EQ(error, "RSA key too small: 1024 bits (minimum 2048)") << format;
    // The public key itself is acceptable to from_blob (the 1024-bit floor is OpenSSH's).
    std::optional<Bytes> blob = base64_decode(field(read_text(path + ".pub"), 1));
    ASSERT_TRUE(blob);
    std::optional<PublicKey> pub = PublicKey::from_blob(*blob);
    ASSERT_TRUE(pub);
    EXPECT_EQ(pub->bits(), 1024u);
  }
}

TEST(KeysPrivateKey, GarbageGivesInvalidFormat) {
  std::string error;
  EXPECT_FALSE(PrivateKey::parse(as_bytes("hello"), "", error));
  EXPECT_EQ(error, "invalid format");
  EXPECT_FALSE(PrivateKey::parse(
      as_bytes("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"),
      "", error));
  EXPECT_EQ(error, "invalid format");
}

TEST(KeysPrivateKey, TamperedOpensshKeyRejected) {
  TempDir dir;
  std::string path = keygen(dir, {"ed25519", 0, KeyType::kEd25519}, "id", "-N ''");
  std::string text = read_text(path);
  size_t b = text.find('\n') + 1;
  size_t e = text.find("-----END");
  std::string b64;
  for (char ch : text.substr(b, e - b)) {
    if (ch != '\n') b64 += ch;
  }
  Bytes body = *base64_decode(b64);
  // Flipping any byte of the body must never yield a key with a different public half.
  std::string error;
  std::optional<PrivateKey> orig = parse_file(path, "", error);
  ASSERT_TRUE(orig);
  for (size_t i = 0; i < body.size(); ++i) {
    Bytes bad = body;
    bad[i] ^= 0x40;
    std::string armored = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64_encode(bad) +
                          "\n-----END OPENSSH PRIVATE KEY-----\n";
    std::optional<PrivateKey> k = PrivateKey::parse(as_bytes(armored), "", error);
    if (k) {  // e.g. only the comment changed
      EXPECT_TRUE(k->public_key() == orig->public_key()) << i;
    }
  }
}

TEST(KeysPrivateKey, PermissionsChecked) {
  TempDir dir;
  std::string path = keygen(dir, {"ed25519", 0, KeyType::kEd25519}, "id", "-N ''");
  ::chmod(path.c_str(), 0644);
  std::string error;
  EXPECT_FALSE(PrivateKey::load_file(path, "", error));
  EXPECT_NE(error.find("WARNING: UNPROTECTED PRIVATE KEY FILE!"), std::string::npos) << error;
  EXPECT_NE(error.find("Permissions 0644 for '" + path + "' are too open."), std::string::npos)
      << error;
  EXPECT_TRUE(PrivateKey::load_file(path, "", error, /*check_permissions=*/false)) << error;
  ::chmod(path.c_str(), 0600);
  EXPECT_TRUE(PrivateKey::load_file(path, "", error)) << error;
  EXPECT_FALSE(PrivateKey::load_file(dir.file("missing"), "", error));
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
}

// Keys we generate are read identically by ssh-keygen.
TEST(KeysPrivateKey, GeneratedKeysAgreeWithSshKeygen) {
  TempDir dir;
  for (const auto& c : kKeygenCases) {
    SCOPED_TRACE(c.type + std::to_string(c.bits));
    PrivateKey key = PrivateKey::generate(c.expect, c.expect == KeyType::kRsa ? 2048 : 0);
    EXPECT_EQ(key.public_key().type(), c.expect);
    std::string pub_path = dir.file("gen.pub");
    write_text(pub_path, key.public_key().to_line("generated") + "\n");
    std::string out = run("ssh-keygen -l -f " + pub_path);
    EXPECT_EQ(field(out, 1), key.public_key().fingerprint_sha256()) << out;
    EXPECT_EQ(field(out, 2), "generated");
    check_sign_verify(key);
  }
  EXPECT_EQ(PrivateKey::generate(KeyType::kRsa).public_key().bits(), kRsaDefaultBits);
  EXPECT_THROW(PrivateKey::generate(KeyType::kRsa, 1024), std::invalid_argument);
}

// SSHSIG (OpenSSH PROTOCOL.sshsig) lets ssh-keygen check our raw signatures and lets us check
// signatures OpenSSH made: the inner signature is an ordinary SSH signature blob.
Bytes sshsig_signed_data(std::string_view ns, std::string_view hash_alg, ByteView msg_hash) {
  Bytes d;
  wire::Writer w(d);
  w.raw("SSHSIG").string(ns).string("").string(hash_alg).string(msg_hash);
  return d;
}

Bytes sha512(std::string_view msg) {
  Bytes out(64);
  unsigned int len = 0;
  EVP_Digest(msg.data(), msg.size(), out.data(), &len, EVP_sha512(), nullptr);
  return out;
}

TEST(KeysInterop, OpensshVerifiesOurSignaturesAndWeVerifyTheirs) {
  TempDir dir;
  const std::string msg = "the message\n";
  write_text(dir.file("msg"), msg);
  for (const auto& c : kKeygenCases) {
    SCOPED_TRACE(c.type + std::to_string(c.bits));
    std::string path = keygen(dir, c, std::string("k") + c.type + std::to_string(c.bits), "-N ''");
    std::string error;
    std::optional<PrivateKey> key = parse_file(path, "", error);
    ASSERT_TRUE(key) << error;

    // Theirs -> ours.
    int status = -1;
    fs::remove(dir.file("msg") + ".sig");
    run("ssh-keygen -Y sign -n file -f " + path + " " + dir.file("msg") + " >/dev/null 2>&1",
        &status);
    ASSERT_EQ(status, 0);
    std::string armored = read_text(dir.file("msg") + ".sig");
    std::string b64;
    std::istringstream lines(armored);
    for (std::string l; std::getline(lines, l);) {
      if (l.rfind("-----", 0) != 0) b64 += l;
    }
    std::optional<Bytes> sshsig = base64_decode(b64);
    ASSERT_TRUE(sshsig);
    wire::Reader r(*sshsig);
    ByteView magic, pub_blob, sig_blob;
    uint32_t version = 0;
    std::string_view ns, reserved, hash_alg;
    ASSERT_TRUE(r.bytes(6, magic) && r.u32(version) && r.string(pub_blob) && r.string(ns) &&
                r.string(reserved) && r.string(hash_alg) && r.string(sig_blob) && r.empty());
    EXPECT_TRUE(std::equal(pub_blob.begin(), pub_blob.end(), key->public_key().blob().begin(),
                           key->public_key().blob().end()));
    wire::Reader sr(sig_blob);
    std::string_view sig_alg;
    ASSERT_TRUE(sr.string(sig_alg));
    ASSERT_EQ(hash_alg, "sha512");
    Bytes signed_data = sshsig_signed_data("file", "sha512", sha512(msg));
    EXPECT_TRUE(key->public_key().verify(sig_alg, signed_data, sig_blob)) << sig_alg;
    signed_data.back() ^= 1;
    EXPECT_FALSE(key->public_key().verify(sig_alg, signed_data, sig_blob));

    // Ours -> theirs.
    std::string_view our_alg = signature_algorithms(key->public_key().type()).front();
    Bytes our_sig = key->sign(our_alg, sshsig_signed_data("file", "sha512", sha512(msg)));
    Bytes blob;
    wire::Writer w(blob);
    w.raw("SSHSIG")
        .u32(1)
        .string(key->public_key().blob())
        .string("file")
        .string("")
        .string("sha512")
        .string(our_sig);
    std::string out_armored =
        "-----BEGIN SSH SIGNATURE-----\n" + base64_encode(blob) + "\n-----END SSH SIGNATURE-----\n";
    write_text(dir.file("ours.sig"), out_armored);
    std::string out = run("ssh-keygen -Y check-novalidate -n file -s " + dir.file("ours.sig") +
                              " < " + dir.file("msg") + " 2>&1",
                          &status);
    EXPECT_EQ(status, 0) << out;
  }
}

TEST(KeysPublicKey, MalformedBlobsRejected) {
  PrivateKey ec = PrivateKey::generate(KeyType::kEcdsaP256);
  const Bytes& blob = ec.public_key().blob();
  for (size_t n = 0; n < blob.size(); ++n) {
    EXPECT_FALSE(PublicKey::from_blob(ByteView(blob.data(), n))) << n;
  }
  Bytes trailing = blob;
  trailing.push_back(0);
  EXPECT_FALSE(PublicKey::from_blob(trailing));
  // A point off the curve: change the last byte of Y.
  Bytes off_curve = blob;
  off_curve.back() ^= 1;
  EXPECT_FALSE(PublicKey::from_blob(off_curve));
  // Curve name not matching the key type.
  wire::Reader r(blob);
  std::string_view name, ident;
  ByteView point;
  ASSERT_TRUE(r.string(name) && r.string(ident) && r.string(point));
  Bytes wrong_curve;
  wire::Writer(wrong_curve).string(name).string("nistp384").string(point);
  EXPECT_FALSE(PublicKey::from_blob(wrong_curve));
  Bytes wrong_type;
  wire::Writer(wrong_type).string("ecdsa-sha2-nistp384").string("nistp384").string(point);
  EXPECT_FALSE(PublicKey::from_blob(wrong_type));
  Bytes unknown;
  wire::Writer(unknown).string("ssh-dss").string(point);
  EXPECT_FALSE(PublicKey::from_blob(unknown));
  EXPECT_FALSE(PublicKey::from_blob({}));

  // RSA: too small, too large, even exponent.
  Bytes n512(64, 0xff);
  Bytes rsa_small;
  wire::Writer(rsa_small).string("ssh-rsa").mpint(Bytes{1, 0, 1}).mpint(n512);
  EXPECT_FALSE(PublicKey::from_blob(rsa_small));
  Bytes n_huge(16384 / 8 + 1, 0xff);
  Bytes rsa_huge;
  wire::Writer(rsa_huge).string("ssh-rsa").mpint(Bytes{1, 0, 1}).mpint(n_huge);
  EXPECT_FALSE(PublicKey::from_blob(rsa_huge));
  Bytes n2048(256, 0xff);
  Bytes rsa_even_e;
  wire::Writer(rsa_even_e).string("ssh-rsa").mpint(Bytes{1, 0, 0}).mpint(n2048);
  EXPECT_FALSE(PublicKey::from_blob(rsa_even_e));
  Bytes rsa_ok;
  wire::Writer(rsa_ok).string("ssh-rsa").mpint(Bytes{1, 0, 1}).mpint(n2048);
  EXPECT_TRUE(PublicKey::from_blob(rsa_ok));

  // ed25519 with a short key.
  Bytes ed_short;
  wire::Writer(ed_short).string("ssh-ed25519").string(Bytes(31, 1));
  EXPECT_FALSE(PublicKey::from_blob(ed_short));

  // An empty key verifies nothing.
  PublicKey empty;
  EXPECT_TRUE(empty.blob().empty());
  EXPECT_FALSE(empty.verify("ssh-ed25519", {}, {}));
}

// Known answers from OpenBSD's regress/lib/libutil/bcrypt_pbkdf (the vectors other
// implementations, e.g. RustCrypto's bcrypt-pbkdf, test against): NULs inside the passphrase and
// the salt, output lengths that are and are not a multiple of the 32-byte block (the strided
// output), and several round counts.
TEST(KeysBcryptPbkdf, OpenbsdRegressVectors) {
  struct Vector {
    std::string_view passphrase;
    std::string_view salt;
    uint32_t rounds;
    const char* out_hex;
  };
  using namespace std::string_view_literals;
  const std::string_view lorem =
      "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt "
      "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation "
      "ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in "
      "reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur "
      "sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id "
      "est laborum.";
  const Vector vectors[] = {
      {"password", "salt", 4, "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9"},
      {"password", "\0"sv, 4, "c12b566235eee04c212598970a579a67"},
      {"\0"sv, "salt", 4, "6051be18c2f4f82cbf0efee5471b4bb9"},
      {"password\0"sv, "salt\0"sv, 4,
       "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050"},
      {"pass\0wor"sv, "sa\0l"sv, 4, "c2bffd9db38f6569efef4372f4de83c0"},
      {"pass\0word"sv, "sa\0lt"sv, 4, "4ba4ac3925c0e8d7f0cdb6bb1684a56f"},
      {"password", "salt", 8,
       "e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec76227ea66088b849b20ab7aa4"
       "78010246e74bba51723fefa9f9474d6508845e8d"},
      {"password", "salt", 42, "833cf0dcf56db65608e8f0dc0ce882bd"},
      {lorem, "salis\0"sv, 8, "10978b07253df57f71a162eb0e8ad30a"},
  };
  for (const Vector& v : vectors) {
    SCOPED_TRACE(std::string(v.out_hex));
    Bytes out(std::string_view(v.out_hex).size() / 2);
    ASSERT_TRUE(bcrypt_pbkdf(v.passphrase, as_bytes(v.salt), v.rounds, out));
    std::string hex;
    for (uint8_t b : out) {
      static const char* kDigits = "0123456789abcdef";
      hex += kDigits[b >> 4];
      hex += kDigits[b & 15];
    }
    EXPECT_EQ(hex, v.out_hex);
  }
}

TEST(KeysBcryptPbkdf, DeterministicAndParameterChecked) {
  Bytes a(48), b(48), c(16);
  ASSERT_TRUE(bcrypt_pbkdf("password", as_bytes("salt"), 2, a));
  ASSERT_TRUE(bcrypt_pbkdf("password", as_bytes("salt"), 2, b));
  EXPECT_EQ(a, b);
  ASSERT_TRUE(bcrypt_pbkdf("password", as_bytes("salt"), 3, c));
  EXPECT_NE(Bytes(a.begin(), a.begin() + 16), c);
  EXPECT_FALSE(bcrypt_pbkdf("", as_bytes("salt"), 2, a));
  EXPECT_FALSE(bcrypt_pbkdf("password", {}, 2, a));
  EXPECT_FALSE(bcrypt_pbkdf("password", as_bytes("salt"), 0, a));
  Bytes too_long(1025);
  EXPECT_FALSE(bcrypt_pbkdf("password", as_bytes("salt"), 1, too_long));
}

}  // namespace
}  // namespace hashi::keys

namespace hashi::keys {
namespace {

// Keys written by Dropbear's and PuTTY's converters parse, and agree with ssh-keygen -y.
TEST(KeysInterop, DropbearAndPuttyKeysParse) {
  TempDir dir;
  const std::string cmds[] = {
      "dropbearkey -t ed25519 -f " + dir.file("db") + " && dropbearconvert dropbear openssh " +
          dir.file("db") + " " + dir.file("key0"),
      "dropbearkey -t ecdsa -s 384 -f " + dir.file("db2") +
          " && dropbearconvert dropbear openssh " + dir.file("db2") + " " + dir.file("key1"),
      "puttygen -t ed25519 -o " + dir.file("p.ppk") + " --new-passphrase /dev/null && puttygen " +
          dir.file("p.ppk") + " -O private-openssh-new -o " + dir.file("key2"),
      "puttygen -t ecdsa -b 521 -o " + dir.file("p2.ppk") +
          " --new-passphrase /dev/null && puttygen " + dir.file("p2.ppk") +
          " -O private-openssh -o " + dir.file("key3"),
  };
  for (size_t i = 0; i < std::size(cmds); ++i) {
    int status = -1;
    run("(" + cmds[i] + ") >/dev/null 2>&1", &status);
    if (status != 0) {
      ADD_FAILURE() << "could not make fixture: " << cmds[i];
      continue;
    }
    std::string path = dir.file("key" + std::to_string(i));
    ::chmod(path.c_str(), 0600);
    std::string error;
    std::optional<PrivateKey> key = PrivateKey::load_file(path, "", error);
    ASSERT_TRUE(key) << cmds[i] << ": " << error;
    std::string theirs = run("ssh-keygen -y -f " + path);
    EXPECT_EQ(key->public_key().to_line(), field(theirs, 0) + " " + field(theirs, 1)) << i;
    check_sign_verify(*key);
  }
}

}  // namespace
}  // namespace hashi::keys
