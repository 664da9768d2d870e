// hashi-keygen: ssh-keygen's key generation, inspection, conversion and known_hosts editing, with
// its flags, messages and exit statuses (0 success; 1 for the cases ssh-keygen exits 1; 255 for
// its fatal() errors).
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "crypto/secret.h"
#include "keys/base64.h"
#include "keys/bcrypt_pbkdf.h"
#include "keys/file_io.h"
#include "keys/key.h"
#include "keys/key_writer.h"
#include "keys/known_hosts_edit.h"
#include "keys/randomart.h"
#include "keys/rfc4716.h"
#include "wire/reader.h"

using namespace hashi;
using namespace hashi::keys;

namespace {

constexpr int kExitFatal = 255;  // ssh-keygen's fatal()
// A file given to -l / -e / -i larger than this is not a key or known_hosts file we handle.
constexpr size_t kMaxInputFileLen = 64 * 1024 * 1024;

// log_message writes a line to stderr as OpenSSH's log.c does (it ends lines with "\r\n").
void log_message(const std::string& message) {
  std::fprintf(stderr, "%s\r\n", message.c_str());
}

[[noreturn]] void fatal(const std::string& message) {
  log_message(message);
  std::exit(kExitFatal);
}

enum class ConvertFormat { kRfc4716, kPkcs8, kPem };

struct Options {
  std::optional<std::string> type_name;  // -t
  size_t bits = 0;                        // -b
  std::optional<std::string> new_passphrase;  // -N
  std::optional<std::string> old_passphrase;  // -P
  std::optional<std::string> comment;          // -C
  std::optional<std::string> file;             // -f
  bool quiet = false;                          // -q
  uint32_t rounds = kDefaultKdfRounds;         // -a
  FingerprintHash hash = FingerprintHash::kSha256;  // -E
  bool verbose = false;                             // -v
  ConvertFormat convert = ConvertFormat::kRfc4716;  // -m
  PrivateKeyFormat private_format = PrivateKeyFormat::kOpenssh;
  bool print_public = false;       // -y
  bool print_fingerprint = false;  // -l
  bool change_passphrase = false;  // -p
  bool convert_to = false;         // -e
  bool convert_from = false;       // -i
  bool hash_hosts = false;         // -H
  std::optional<std::string> find_host;    // -F
  std::optional<std::string> delete_host;  // -R
};

std::string user_name() {
  struct passwd* pw = ::getpwuid(::getuid());
  return pw ? pw->pw_name : "unknown";
}

std::string home_dir() {
  struct passwd* pw = ::getpwuid(::getuid());
  if (pw && pw->pw_dir) return pw->pw_dir;
  const char* home = std::getenv("HOME");
  return home ? home : "/";
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::optional<std::string> read_file(const std::string& path) {
  return read_small_file(path, kMaxInputFileLen);
}

std::string read_or_die(const std::string& path) {
  std::optional<std::string> contents = read_file(path);
  if (!contents) fatal("hashi-keygen: " + path + ": " + std::strerror(errno ? errno : EIO));
  return *contents;
}

// Reads a line from stdin without its newline; nullopt at end of input.
std::optional<std::string> read_stdin_line() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  return line;
}

// read_passphrase prompts on the terminal with echo off, as OpenSSH's readpassphrase(3); without
// a terminal it prompts on stderr and reads a line of standard input.
std::string read_passphrase(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    std::fputs(prompt.c_str(), stderr);
    std::fflush(stderr);
    return read_stdin_line().value_or("");
  }
  (void)!::write(fd, prompt.data(), prompt.size());
  struct termios saved {};
  const bool have_termios = ::tcgetattr(fd, &saved) == 0;
  if (have_termios) {
    struct termios quiet = saved;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string out;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n' && c != '\r') out += c;
  if (have_termios) ::tcsetattr(fd, TCSAFLUSH, &saved);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  return out;
}

std::string default_identity(const Options& o) {
  std::string name = "id_ed25519";
  if (o.type_name) {
    if (*o.type_name == "rsa" || *o.type_name == "ssh-rsa") name = "id_rsa";
    if (o.type_name->rfind("ecdsa", 0) == 0) name = "id_ecdsa";
  }
  return home_dir() + "/.ssh/" + name;
}

// ask_filename as ssh-keygen: "PROMPT (DEFAULT): " on stdout, a line of stdin.
std::string identity_file(const Options& o, const char* prompt) {
  if (o.file) return *o.file;
  std::string def = default_identity(o);
  std::printf("%s (%s): ", prompt, def.c_str());
  std::fflush(stdout);
  std::optional<std::string> line = read_stdin_line();
  if (!line) std::exit(1);
  return line->empty() ? def : *line;
}

void stat_or_die(const std::string& path, bool with_progname) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    fatal((with_progname ? "hashi-keygen: " : "") + path + ": " + std::strerror(errno));
  }
}

// load_identity as ssh-keygen: the file with an empty passphrase first, then -P or a prompt.
KeyMaterial load_identity(const Options& o, const std::string& path, const char* prompt) {
  std::optional<std::string> contents = read_file(path);
  if (!contents) fatal("Load key \"" + path + "\": " + std::strerror(errno ? errno : EIO));
  std::string error;
  std::optional<KeyMaterial> key = KeyMaterial::parse(as_bytes(*contents), "", error);
  if (key) return *key;
  if (error != "incorrect passphrase supplied to decrypt private key") {
    fatal("Load key \"" + path + "\": " + error);
  }
  std::string pass = o.old_passphrase ? *o.old_passphrase : read_passphrase(prompt);
  key = KeyMaterial::parse(as_bytes(*contents), pass, error);
  OPENSSL_cleanse(pass.data(), pass.size());
  if (!key) fatal("Load key \"" + path + "\": " + error);
  return *key;
}

// sshkey_try_load_public: the first key line of a public-key file; its comment, or the file name.
std::optional<PublicKeyLine> try_load_public(const std::string& path) {
  std::optional<std::string> contents = read_file(path);
  if (!contents || contents->size() > kMaxRfc4716Len) return std::nullopt;
  std::istringstream in(*contents);
  std::string line;
  while (std::getline(in, line)) {
    std::string_view cp = line;
    while (!cp.empty() && (cp.front() == ' ' || cp.front() == '\t')) cp.remove_prefix(1);
    if (cp.empty() || cp.front() == '#') continue;
    std::optional<PublicKey> key = read_public_key_token(cp);
    if (!key) continue;
    while (!cp.empty() && (cp.front() == ' ' || cp.front() == '\t')) cp.remove_prefix(1);
    return PublicKeyLine{*key, std::string(cp.empty() ? std::string_view(path) : cp)};
  }
  return std::nullopt;
}

// The public half of an openssh-key-v1 file, readable without the passphrase.
std::optional<PublicKey> public_from_private_file(const std::string& path) {
  std::optional<std::string> contents = read_file(path);
  if (!contents) return std::nullopt;
  std::string error;
  std::optional<PrivateKey> key = PrivateKey::parse(as_bytes(*contents), "", error);
  if (key) return key->public_key();
  // Encrypted: the public key sits in clear in front of the encrypted section (PROTOCOL.key).
  constexpr std::string_view kBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
  size_t begin = contents->find(kBegin);
  size_t end = contents->find("-----END OPENSSH PRIVATE KEY-----");
  if (begin == std::string::npos || end == std::string::npos || end < begin) return std::nullopt;
  std::string b64;
  for (char c : contents->substr(begin + kBegin.size(), end - begin - kBegin.size())) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') b64 += c;
  }
  std::optional<Bytes> body = base64_decode(b64);
  if (!body) return std::nullopt;
  wire::Reader r(*body);
  ByteView magic, skip, pub;
  uint32_t n = 0;
  if (!r.bytes(15, magic) || !r.string(skip) || !r.string(skip) || !r.string(skip) || !r.u32(n) ||
      n != 1 || !r.string(pub)) {
    return std::nullopt;
  }
  return PublicKey::from_blob(pub);
}

// sshkey_load_public: FILE as a public key, FILE.pub, then the public half of FILE.
std::optional<PublicKeyLine> load_public(const std::string& path) {
  if (auto line = try_load_public(path)) return line;
  if (auto line = try_load_public(path + ".pub")) return line;
  if (auto key = public_from_private_file(path)) return PublicKeyLine{*key, std::nullopt};
  return std::nullopt;
}

void print_fingerprint(const Options& o, const PublicKey& key,
                       const std::optional<std::string>& comment) {
  std::printf("%zu %s %s (%s)\n", key.bits(), fingerprint(key, o.hash).c_str(),
              comment ? comment->c_str() : "no comment",
              std::string(key_type_label(key.type())).c_str());
  if (o.verbose) std::printf("%s\n", randomart_for_key(key, o.hash).c_str());
}

int fingerprint_private(const Options& o, const std::string& path) {
  stat_or_die(path, false);
  std::optional<PublicKeyLine> pub = load_public(path);
  std::optional<PublicKey> key;
  std::optional<std::string> comment;
  if (pub) {
    key = pub->key;
    comment = pub->comment;
  }
  if (!pub || !comment || comment->empty()) {
    comment.reset();
    std::optional<std::string> contents = read_file(path);
    std::string error;
    std::optional<PrivateKey> priv =
        contents ? PrivateKey::parse(as_bytes(*contents), "", error) : std::nullopt;
    if (priv) {
      if (!key) key = priv->public_key();
      comment = std::string(priv->comment());
      if (comment->empty()) comment.reset();
    }
  }
  if (!key) fatal(path + " is not a key file.");
  print_fingerprint(o, *key, comment);
  return 0;
}

int do_fingerprint(const Options& o) {
  std::string path = identity_file(o, "Enter file in which the key is");
  std::string contents;
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    contents = ss.str();
  } else {
    if (!file_exists(path)) fatal("hashi-keygen: " + path + ": " + std::strerror(errno));
    contents = read_or_die(path);
  }
  bool any = false;
  size_t number = 0;
  std::string_view rest = contents;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++number;
    std::string_view trimmed = line;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) {
      trimmed.remove_prefix(1);
    }
    if (trimmed.empty() || trimmed.front() == '#') continue;
    if (number == 1 && path != "-" && trimmed.find("PRIVATE KEY") != std::string_view::npos) {
      return fingerprint_private(o, path);
    }
    std::optional<PublicKeyLine> entry = parse_public_key_listing_line(line);
    if (!entry) continue;
    print_fingerprint(o, entry->key, entry->comment);
    any = true;
  }
  if (!any) fatal((path == "-" ? std::string("(stdin)") : path) + " is not a public key file.");
  return 0;
}

int do_print_public(const Options& o) {
  std::string path = identity_file(o, "Enter file in which the key is");
  stat_or_die(path, false);
  KeyMaterial key = load_identity(o, path, "Enter passphrase: ");
  std::string line = key.key().public_key().to_line(key.comment());
  std::printf("%s\n", line.c_str());
  return 0;
}

std::optional<std::string> save_private(const Options& o, const KeyMaterial& key,
                                        const std::string& path, std::string_view passphrase,
                                        std::string_view comment) {
  PrivateKeyWriteOptions w;
  w.format = o.private_format;
  w.passphrase = passphrase;
  w.comment = comment;
  w.kdf_rounds = o.rounds;
  std::string error;
  std::optional<std::string> text = key.encode(w, error);
  if (!text) return error;
  bool ok = write_file_atomic(path, *text, 0600, error);
  OPENSSL_cleanse(text->data(), text->size());
  if (!ok) return error;
  return std::nullopt;
}

int do_change_passphrase(const Options& o) {
  std::string path = identity_file(o, "Enter file in which the key is");
  stat_or_die(path, false);
  std::optional<std::string> contents = read_file(path);
  if (!contents) fatal("Failed to load key " + path + ": " + std::strerror(errno ? errno : EIO));
  std::string error;
  std::optional<KeyMaterial> key = KeyMaterial::parse(as_bytes(*contents), "", error);
  if (!key && error == "incorrect passphrase supplied to decrypt private key") {
    std::string old = o.old_passphrase ? *o.old_passphrase : read_passphrase("Enter old passphrase: ");
    key = KeyMaterial::parse(as_bytes(*contents), old, error);
    OPENSSL_cleanse(old.data(), old.size());
  }
  OPENSSL_cleanse(contents->data(), contents->size());
  if (!key) fatal("Failed to load key " + path + ": " + error);
  std::string comment(key->comment());
  std::printf("Key has comment '%s'\n", comment.c_str());
  std::string pass1;
  if (o.new_passphrase) {
    pass1 = *o.new_passphrase;
  } else {
    pass1 = read_passphrase("Enter new passphrase (empty for no passphrase): ");
    std::string pass2 = read_passphrase("Enter same passphrase again: ");
    if (pass1 != pass2) {
      OPENSSL_cleanse(pass1.data(), pass1.size());
      OPENSSL_cleanse(pass2.data(), pass2.size());
      std::printf("Pass phrases do not match.  Try again.\n");
      return 1;
    }
    OPENSSL_cleanse(pass2.data(), pass2.size());
  }
  std::optional<std::string> failure = save_private(o, *key, path, pass1, comment);
  OPENSSL_cleanse(pass1.data(), pass1.size());
  if (failure) {
    log_message("Saving key \"" + path + "\" failed: " + *failure);
    return 1;
  }
  std::printf("Your identification has been saved with the new passphrase.\n");
  return 0;
}

int do_convert_to(const Options& o) {
  std::string path = identity_file(o, "Enter file in which the key is");
  stat_or_die(path, true);
  std::optional<PublicKey> key;
  if (auto pub = load_public(path)) {
    key = pub->key;
  } else {
    key = load_identity(o, path, "Enter passphrase: ").key().public_key();
  }
  if (o.convert == ConvertFormat::kRfc4716) {
    std::string comment = std::to_string(key->bits()) + "-bit " +
                          std::string(key_type_label(key->type())) + ", converted by " +
                          user_name() + "@" + host_name() + " from OpenSSH";
    std::fputs(rfc4716_encode(*key, comment).c_str(), stdout);
    return 0;
  }
  const bool pem = o.convert == ConvertFormat::kPem;
  std::string error;
  std::optional<std::string> text = pem_public_encode(
      *key, pem ? PemPublicFormat::kPem : PemPublicFormat::kPkcs8, error);
  if (!text) {
    fatal(std::string(pem ? "do_convert_to_pem: " : "do_convert_to_pkcs8: ") + error);
  }
  std::fputs(text->c_str(), stdout);
  return 0;
}

int do_convert_from(const Options& o) {
  std::string path = identity_file(o, "Enter file in which the key is");
  stat_or_die(path, true);
  std::string contents = read_or_die(path);
  std::optional<PublicKey> key;
  std::string error;
  switch (o.convert) {
    case ConvertFormat::kRfc4716:
      key = rfc4716_decode(contents);
      if (!key) fatal("do_convert_from_ssh2: base64 decode: invalid format");
      break;
    case ConvertFormat::kPkcs8:
      key = pem_public_decode(contents, PemPublicFormat::kPkcs8, error);
      if (!key) fatal("do_convert_from_pkcs8: " + error);
      break;
    case ConvertFormat::kPem:
      key = pem_public_decode(contents, PemPublicFormat::kPem, error);
      if (!key) fatal("do_convert_from_pem: " + error);
      break;
  }
  std::printf("%s\n", key->to_line().c_str());
  return 0;
}

// Replaces `path` with `new_contents`, keeping the old file as path.old, as ssh-keygen -R / -H.
void replace_known_hosts(const std::string& path, const std::string& new_contents) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fatal("Cannot stat " + path + ": " + std::strerror(errno));
  std::string old = path + ".old";
  if (::unlink(old.c_str()) != 0 && errno != ENOENT) {
    fatal("unlink " + old + ": " + std::strerror(errno));
  }
  if (::link(path.c_str(), old.c_str()) != 0) {
    fatal("link " + path + " to " + old + ": " + std::strerror(errno));
  }
  std::string error;
  if (!write_file_atomic(path, new_contents, st.st_mode & 0644, error)) {
    ::unlink(old.c_str());
    log_message(error);
    std::exit(1);
  }
  std::printf("%s updated.\n", path.c_str());
  std::printf("Original contents retained as %s\n", old.c_str());
}

int do_known_hosts(const Options& o) {
  std::string path = o.file ? *o.file : home_dir() + "/.ssh/known_hosts";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fatal("Cannot stat " + path + ": " + std::strerror(errno));
  std::string contents = read_or_die(path);
  KnownHostsEdit edit;
  if (o.find_host) {
    edit = known_hosts_find(contents, path, *o.find_host, o.hash_hosts, o.quiet);
  } else if (o.delete_host) {
    edit = known_hosts_remove(contents, path, *o.delete_host, o.quiet);
  } else {
    edit = known_hosts_hash(contents, path);
  }
  std::fputs(edit.stdout_text.c_str(), stdout);
  for (const std::string& m : edit.messages) log_message(m);
  const bool in_place = !o.find_host;
  if (edit.invalid) {
    log_message(path + " is not a valid known_hosts file.");
    if (in_place) log_message("Not replacing existing known_hosts file because of errors");
    return 1;
  }
  if (o.delete_host && !edit.found) {
    log_message("Host " + *o.delete_host + " not found in " + path);
    return 0;
  }
  if (in_place) {
    replace_known_hosts(path, edit.file);
    if (edit.has_unhashed) {
      log_message("WARNING: " + path + ".old contains unhashed entries");
      log_message("Delete this file to ensure privacy of hostnames");
    }
  }
  return o.find_host && !edit.found ? 1 : 0;
}

// The key type and size to generate, with ssh-keygen's messages for bad -t / -b.
std::pair<KeyType, size_t> key_type_and_bits(const Options& o) {
  std::string name = o.type_name.value_or("ed25519");
  KeyType type;
  if (name == "ed25519") {
    type = KeyType::kEd25519;
  } else if (name == "rsa") {
    type = KeyType::kRsa;
  } else if (name == "ecdsa") {
    type = KeyType::kEcdsaP256;
  } else if (auto t = key_type_from_name(name)) {
    type = *t;
  } else {
    fatal("unknown key type " + name);
  }
  size_t bits = o.bits;
  if (type == KeyType::kRsa) {
    if (bits == 0) bits = kRsaDefaultBits;
    if (bits < kRsaMinPrivateBits) {
      fatal("Invalid RSA key length: minimum is " + std::to_string(kRsaMinPrivateBits) + " bits");
    }
    if (bits > kRsaMaxBits) {
      fatal("Invalid RSA key length: maximum is " + std::to_string(kRsaMaxBits) + " bits");
    }
  } else if (type != KeyType::kEd25519) {
    if (name == "ecdsa" || bits != 0) {
      switch (bits) {
        case 0:
        case 256:
          type = KeyType::kEcdsaP256;
          break;
        case 384:
          type = KeyType::kEcdsaP384;
          break;
        case 521:
          type = KeyType::kEcdsaP521;
          break;
        default:
          fatal("Invalid ECDSA key length: valid lengths are 256, 384 or 521 bits");
      }
    }
  }
  return {type, bits};
}

bool confirm_overwrite(const std::string& path) {
  if (!file_exists(path)) return true;
  std::printf("%s already exists.\n", path.c_str());
  std::printf("Overwrite (y/n)? ");
  std::fflush(stdout);
  std::optional<std::string> answer = read_stdin_line();
  return answer && !answer->empty() && (answer->front() == 'y' || answer->front() == 'Y');
}

int do_generate(const Options& o) {
  auto [type, bits] = key_type_and_bits(o);
  const std::string type_name = o.type_name.value_or("ed25519");
  if (!o.quiet) std::printf("Generating public/private %s key pair.\n", type_name.c_str());
  std::fflush(stdout);
  KeyMaterial key = KeyMaterial::generate(type, bits);
  Options with_type = o;
  with_type.type_name = std::string(type == KeyType::kRsa       ? "rsa"
                                    : type == KeyType::kEd25519 ? "ed25519"
                                                                : "ecdsa");
  std::string path = identity_file(with_type, "Enter file in which to save the key");
  if (!o.file) {
    std::string dir = home_dir() + "/.ssh";
    if (path.rfind(dir + "/", 0) == 0 && !file_exists(dir)) {
      if (::mkdir(dir.c_str(), 0700) == 0 && !o.quiet) {
        std::printf("Created directory '%s'.\n", dir.c_str());
      }
    }
  }
  if (!confirm_overwrite(path)) return 1;
  std::string passphrase;
  if (o.new_passphrase) {
    passphrase = *o.new_passphrase;
  } else {
    for (;;) {
      passphrase = read_passphrase("Enter passphrase (empty for no passphrase): ");
      std::string again = read_passphrase("Enter same passphrase again: ");
      const bool same = passphrase == again;
      OPENSSL_cleanse(again.data(), again.size());
      if (same) break;
      OPENSSL_cleanse(passphrase.data(), passphrase.size());
      std::printf("Passphrases do not match.  Try again.\n");
    }
  }
  std::string comment = o.comment ? *o.comment : user_name() + "@" + host_name();
  std::optional<std::string> failure = save_private(o, key, path, passphrase, comment);
  OPENSSL_cleanse(passphrase.data(), passphrase.size());
  if (failure) {
    log_message("Saving key \"" + path + "\" failed: " + *failure);
    return 1;
  }
  if (!o.quiet) std::printf("Your identification has been saved in %s\n", path.c_str());
  const PublicKey& pub = key.key().public_key();
  std::string error;
  if (!write_file_atomic(path + ".pub", pub.to_line(comment) + "\n", 0644, error)) {
    fatal("Unable to save public key to " + path + ".pub: " + error);
  }
  if (!o.quiet) {
    std::printf("Your public key has been saved in %s.pub\n", path.c_str());
    std::printf("The key fingerprint is:\n");
    std::printf("%s %s\n", fingerprint(pub, o.hash).c_str(), comment.c_str());
    std::printf("The key's randomart image is:\n");
    std::printf("%s\n", randomart_for_key(pub, o.hash).c_str());
  }
  return 0;
}

void usage() {
  std::fprintf(stderr,
               "usage: hashi-keygen [-q] [-a rounds] [-b bits] [-C comment] [-f output_keyfile]\n"
               "                    [-m format] [-N new_passphrase] [-t ecdsa | ed25519 | rsa]\n"
               "       hashi-keygen -p [-a rounds] [-f keyfile] [-m format] [-N new_passphrase]\n"
               "                    [-P old_passphrase]\n"
               "       hashi-keygen -i [-f input_keyfile] [-m key_format]\n"
               "       hashi-keygen -e [-f input_keyfile] [-m key_format]\n"
               "       hashi-keygen -y [-f input_keyfile] [-P passphrase]\n"
               "       hashi-keygen -l [-v] [-E fingerprint_hash] [-f input_keyfile]\n"
               "       hashi-keygen -F hostname [-lv] [-f known_hosts_file]\n"
               "       hashi-keygen -H [-f known_hosts_file]\n"
               "       hashi-keygen -R hostname [-f known_hosts_file]\n");
  std::exit(1);
}

unsigned long long parse_number(const char* text, unsigned long long max, const char* what) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || !end || *end != '\0' || *text == '\0' || *text == '-' || v < 1 || v > max) {
    fatal(std::string(what) + " " + text + " (" + (v < 1 ? "too small" : "invalid") + ")");
  }
  return v;
}

Options parse_args(int argc, char** argv) {
  Options o;
  int opt;
  while ((opt = ::getopt(argc, argv, "HlpqvyeiBb:C:E:F:N:P:R:a:f:m:t:")) != -1) {
    switch (opt) {
      case 'H': o.hash_hosts = true; break;
      case 'l': o.print_fingerprint = true; break;
      case 'p': o.change_passphrase = true; break;
      case 'q': o.quiet = true; break;
      case 'v': o.verbose = true; break;
      case 'y': o.print_public = true; break;
      case 'e': o.convert_to = true; break;
      case 'i': o.convert_from = true; break;
      case 'b': o.bits = size_t(parse_number(optarg, 0xffffffffULL, "Bits has bad value")); break;
      case 'a': o.rounds = uint32_t(parse_number(optarg, kMaxBcryptRounds, "Invalid number:")); break;
      case 'C': o.comment = optarg; break;
      case 'N': o.new_passphrase = optarg; break;
      case 'P': o.old_passphrase = optarg; break;
      case 'f': o.file = optarg; break;
      case 't': o.type_name = optarg; break;
      case 'F': o.find_host = optarg; break;
      case 'R': o.delete_host = optarg; break;
      case 'E': {
        std::optional<FingerprintHash> h = fingerprint_hash_from_name(optarg);
        if (!h) fatal(std::string("Invalid hash algorithm \"") + optarg + "\"");
        o.hash = *h;
        break;
      }
      case 'm':
        if (!strcasecmp(optarg, "RFC4716") || !strcasecmp(optarg, "ssh2")) {
          o.convert = ConvertFormat::kRfc4716;
        } else if (!strcasecmp(optarg, "PKCS8")) {
          o.convert = ConvertFormat::kPkcs8;
          o.private_format = PrivateKeyFormat::kPkcs8;
        } else if (!strcasecmp(optarg, "PEM")) {
          o.convert = ConvertFormat::kPem;
          o.private_format = PrivateKeyFormat::kPem;
        } else {
          fatal(std::string("Unsupported conversion format \"") + optarg + "\"");
        }
        break;
      default:
        usage();
    }
  }
  if (optind < argc) {
    std::printf("Too many arguments.\n");
    usage();
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  // The same order of precedence as ssh-keygen's main().
  if (o.find_host || o.delete_host || o.hash_hosts) return do_known_hosts(o);
  if (o.print_fingerprint) return do_fingerprint(o);
  if (o.change_passphrase) return do_change_passphrase(o);
  if (o.convert_to) return do_convert_to(o);
  if (o.convert_from) return do_convert_from(o);
  if (o.print_public) return do_print_public(o);
  return do_generate(o);
}
