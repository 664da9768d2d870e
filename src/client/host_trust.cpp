#include "client/host_trust.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "config/config_text.h"

namespace hashi::client {

namespace {

constexpr const char* kVerificationFailed = "Host key verification failed.";
// other_hostkeys_message: at most this many other names are listed.
constexpr size_t kMaxOtherNames = 8;

transport::Status refuse() {
  return transport::Status::fail(msg::DisconnectReason::kHostKeyNotVerifiable,
                                 kVerificationFailed);
}

// Calls `fn(line_number, entry)` for each parseable line of `file` (missing files: nothing).
template <typename Fn>
void for_each_entry(const std::string& file, Fn&& fn) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return;
  std::string line;
  size_t number = 0;
  size_t total = 0;
  while (std::getline(in, line)) {
    ++number;
    total += line.size() + 1;
    if (total > keys::kMaxKnownHostsFileLen) return;
    if (line.size() > keys::kMaxKnownHostsLineLen) continue;
    std::string error;
    auto entry = keys::parse_known_host_line(line, error);
    if (entry) fn(number, *entry);
  }
}

}  // namespace

// Reads from the controlling terminal, not stdin, which carries the session's data.
std::optional<std::string> ask_tty(const std::string& prompt) {
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  (void)!write(fd, prompt.data(), prompt.size());
  std::string answer;
  char c;
  ssize_t n;
  while ((n = read(fd, &c, 1)) == 1 && c != '\n') {
    if (answer.size() < 1024) answer.push_back(c);
  }
  close(fd);
  if (n <= 0 && answer.empty()) return std::nullopt;
  return answer;
}

namespace {

// "This key is not known by any other names." or the list of entries (for other names) that
// hold the key, as OpenSSH's other_hostkeys_message.
std::string other_names_message(const std::vector<std::string>& files, const std::string& name,
                                const keys::PublicKey& key) {
  std::vector<std::string> found;
  size_t omitted = 0;
  for (const auto& file : files) {
    for_each_entry(file, [&](size_t line, const keys::KnownHostEntry& e) {
      if (e.marker != keys::KnownHostMarker::kNone || !(e.key == key)) return;
      if (keys::host_matches_entry(e, name)) return;
      if (found.size() >= kMaxOtherNames) {
        ++omitted;
        return;
      }
      std::string shown = e.hosts.rfind("|1|", 0) == 0 ? "[hashed name]" : e.hosts;
      found.push_back("    " + file + ":" + std::to_string(line) + ": " + shown);
    });
  }
  if (found.empty()) return "This key is not known by any other names.";
  std::string out = "This host key is known by the following other names/addresses:";
  for (const auto& f : found) out += "\n" + f;
  if (omitted) out += "\n    (" + std::to_string(omitted) + " additional names omitted)";
  return out;
}

// Creates the directory of `file` (mode 0700) if it is missing, as ssh does for ~/.ssh.
void make_parent_dir(const std::string& file) {
  auto slash = file.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  std::string dir = file.substr(0, slash);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) mkdir(dir.c_str(), 0700);
}

std::string shell_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '$' || c == '`') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string key_type_label(keys::KeyType type) {
  switch (type) {
    case keys::KeyType::kEd25519: return "ED25519";
    case keys::KeyType::kEcdsaP256:
    case keys::KeyType::kEcdsaP384:
    case keys::KeyType::kEcdsaP521: return "ECDSA";
    case keys::KeyType::kRsa: return "RSA";
  }
  return "UNKNOWN";
}

std::string known_hosts_name(const std::string& host, uint16_t port) {
  return keys::known_host_name(host, port);
}

TrustLookup lookup_host_key(const std::vector<std::string>& files, const std::string& name,
                            const keys::PublicKey& key) {
  TrustLookup out;
  bool ok = false;
  for (const auto& file : files) {
    for_each_entry(file, [&](size_t line, const keys::KnownHostEntry& e) {
      if (out.status == TrustStatus::kRevoked) return;
      if (e.marker == keys::KnownHostMarker::kCertAuthority) return;
      if (!keys::host_matches_entry(e, name)) return;
      if (e.marker == keys::KnownHostMarker::kRevoked) {
        if (e.key == key) out = {TrustStatus::kRevoked, file, line, e.key.type()};
        return;
      }
      if (ok) return;
      if (e.key == key) {
        ok = true;
        out = {TrustStatus::kOk, file, line, e.key.type()};
      } else {
        // A non-matching key: the host is known, so this is a change (whatever the type).
        out = {TrustStatus::kChanged, file, line, e.key.type()};
      }
    });
  }
  return out;
}

std::optional<bool> parse_confirmation(const std::string& answer, const std::string& fingerprint) {
  size_t b = answer.find_first_not_of(" \t");
  std::string p = b == std::string::npos ? "" : answer.substr(b);
  while (!p.empty() && (p.back() == '\r' || p.back() == ' ' || p.back() == '\t')) p.pop_back();
  auto lower = p;
  for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (p.empty() || lower == "no") return false;
  if (lower == "yes" || p == fingerprint) return true;
  return std::nullopt;
}

std::string HostTrust::name() const {
  return alias.empty() ? keys::known_host_name(host, port) : config::to_lower(alias);
}

transport::Status HostTrust::check(const keys::PublicKey& key, bool verbose) {
  untrusted = false;
  std::vector<std::string> files = user_files;
  files.insert(files.end(), global_files.begin(), global_files.end());
  const std::string host_name = name();
  const std::string ip_name = keys::known_host_name(address.empty() ? host : address, port);
  const std::string type = key_type_label(key.type());
  const std::string fp = key.fingerprint_sha256();
  TrustLookup found = lookup_host_key(files, host_name, key);

  switch (found.status) {
    case TrustStatus::kOk:
      return transport::Status::ok();
    case TrustStatus::kRevoked:
      std::fprintf(stderr,
                   "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
                   "@       WARNING: REVOKED HOST KEY DETECTED!               @\n"
                   "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
                   "The %s host key for %s is marked as revoked.\n"
                   "This could mean that a stolen key is being used to\n"
                   "impersonate this host.\n",
                   type.c_str(), host_name.c_str());
      return refuse();
    case TrustStatus::kChanged: {
      std::string remove = "hashi-keygen";
      if (found.file != default_user_file) remove += " -f " + shell_quote(found.file);
      remove += " -R " + shell_quote(host_name);
      std::fprintf(stderr,
                   "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
                   "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
                   "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
                   "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
                   "Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n"
                   "It is also possible that a host key has just been changed.\n"
                   "The fingerprint for the %s key sent by the remote host is\n%s.\n"
                   "Please contact your system administrator.\n"
                   "Add correct host key in %s to get rid of this message.\n"
                   "Offending %s key in %s:%zu\n"
                   "  remove with:\n  %s\n",
                   type.c_str(), fp.c_str(),
                   user_files.empty() ? "known_hosts" : user_files.front().c_str(),
                   key_type_label(*found.found_type).c_str(), found.file.c_str(), found.line,
                   remove.c_str());
      // Only StrictHostKeyChecking=no goes on, and then without anything a man in the middle
      // could abuse (sshconnect.c continue_unsafe).
      if (strict != "no" && strict != "off") {
        std::fprintf(stderr,
                     "Host key for %s has changed and you have requested strict checking.\n",
                     host_name.c_str());
        return refuse();
      }
      std::fprintf(stderr,
                   "Password authentication is disabled to avoid man-in-the-middle attacks.\n"
                   "Keyboard-interactive authentication is disabled to avoid "
                   "man-in-the-middle attacks.\n");
      untrusted = true;
      return transport::Status::ok();
    }
    case TrustStatus::kNew:
      break;
  }

  if (strict == "yes") {
    std::fprintf(stderr,
                 "No %s host key is known for %s and you have requested strict checking.\n",
                 type.c_str(), host_name.c_str());
    return refuse();
  }
  if (strict != "no" && strict != "off" && strict != "accept-new") {
    // ask: BatchMode answers no without asking (sshconnect.c confirm()).
    if (batch_mode) return refuse();
    std::string prompt = "The authenticity of host '" + host_name + " (" + ip_name +
                         ")' can't be established.\n" + type + " key fingerprint is " + fp +
                         ".\n" + other_names_message(files, host_name, key) +
                         "\nAre you sure you want to continue connecting (yes/no/[fingerprint])? ";
    while (true) {
      auto answer = ask_tty(prompt);
      if (!answer) return refuse();
      auto decided = parse_confirmation(*answer, fp);
      if (decided && !*decided) return refuse();
      if (decided) break;
      prompt = "Please type 'yes', 'no' or the fingerprint: ";
    }
  }
  if (user_files.empty()) return transport::Status::ok();
  const std::string& file = user_files.front();
  if (file == default_user_file) make_parent_dir(file);
  if (keys::append_known_host_name(file, host_name, key, hash_new_entries)) {
    if (verbose) {
      std::fprintf(stderr, "Warning: Permanently added '%s' (%s) to the list of known hosts.\n",
                   host_name.c_str(), type.c_str());
    }
  } else if (verbose) {
    std::fprintf(stderr, "Failed to add the host to the list of known hosts (%s).\n",
                 file.c_str());
  }
  return transport::Status::ok();
}

}  // namespace hashi::client
