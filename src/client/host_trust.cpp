#include "client/host_trust.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "keys/known_hosts.h"

namespace hashi::client {

namespace {

std::string key_label(const keys::PublicKey& key) {
  switch (key.type()) {
    case keys::KeyType::kEd25519: return "ED25519";
    case keys::KeyType::kEcdsaP256:
    case keys::KeyType::kEcdsaP384:
    case keys::KeyType::kEcdsaP521: return "ECDSA";
    case keys::KeyType::kRsa: return "RSA";
  }
  return "UNKNOWN";
}

transport::Status refuse(const std::string& why) {
  return transport::Status::fail(msg::DisconnectReason::kHostKeyNotVerifiable, why);
}

// Asks on the controlling terminal (not stdin, which carries the session's data).
std::string ask(const std::string& prompt) {
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
  if (fd < 0) return "";
  (void)!write(fd, prompt.data(), prompt.size());
  std::string answer;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') answer.push_back(c);
  close(fd);
  while (!answer.empty() && (answer.back() == '\r' || answer.back() == ' ')) answer.pop_back();
  return answer;
}

}  // namespace

std::string known_hosts_name(const std::string& host, uint16_t port) {
  return port == 22 ? host : "[" + host + "]:" + std::to_string(port);
}

transport::Status HostTrust::check(const keys::PublicKey& key, bool verbose) const {
  std::vector<std::string> files = user_files;
  files.insert(files.end(), global_files.begin(), global_files.end());
  keys::HostKeyLookup found = keys::check_known_host(files, host, port, key);
  std::string name = known_hosts_name(host, port);
  std::string fp = key.fingerprint_sha256();
  switch (found.status) {
    case keys::HostKeyStatus::kMatch:
      return transport::Status::ok();
    case keys::HostKeyStatus::kRevoked:
      std::fprintf(stderr,
                   "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
                   "@       WARNING: REVOKED HOST KEY DETECTED!               @\n"
                   "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
                   "The %s host key for %s is marked as revoked.\n"
                   "This could mean that a stolen key is being used to\n"
                   "impersonate this host.\n",
                   key_label(key).c_str(), name.c_str());
      return refuse("Host key verification failed.");
    case keys::HostKeyStatus::kMismatch: {
      std::string remove = "hashi-keygen -f \"" + found.file + "\" -R \"" + name + "\"";
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
                   "  remove with:\n  %s\n"
                   "Host key for %s has changed and you have requested strict checking.\n",
                   key_label(key).c_str(), fp.c_str(), found.file.c_str(),
                   key_label(key).c_str(), found.file.c_str(), found.line, remove.c_str(),
                   name.c_str());
      return refuse("Host key verification failed.");
    }
    case keys::HostKeyStatus::kNotFound:
      break;
  }
  bool add = false;
  if (strict == "no" || strict == "off" || strict == "accept-new") {
    add = true;
  } else if (strict == "yes" || batch_mode) {
    std::fprintf(stderr,
                 "No %s host key is known for %s and you have requested strict checking.\n",
                 key_label(key).c_str(), name.c_str());
    return refuse("Host key verification failed.");
  } else {
    std::string prompt = "The authenticity of host '" + name + "' can't be established.\n" +
                         key_label(key) + " key fingerprint is " + fp + ".\n" +
                         "This key is not known by any other names.\n"
                         "Are you sure you want to continue connecting (yes/no/[fingerprint])? ";
    while (true) {
      std::string answer = ask(prompt);
      if (answer == "yes" || answer == fp) {
        add = true;
        break;
      }
      if (answer == "no" || answer.empty()) return refuse("Host key verification failed.");
      prompt = "Please type 'yes', 'no' or the fingerprint: ";
    }
  }
  if (add && !user_files.empty()) {
    if (keys::append_known_host(user_files.front(), host, port, key, hash_new_entries)) {
      if (verbose && user_files.front() != "/dev/null") {
        std::fprintf(stderr, "Warning: Permanently added '%s' (%s) to the list of known hosts.\n",
                     name.c_str(), std::string(key.type_name()).c_str());
      }
    } else if (verbose && user_files.front() != "/dev/null") {
      std::fprintf(stderr, "Failed to add the host to the list of known hosts (%s).\n",
                   user_files.front().c_str());
    }
  }
  return transport::Status::ok();
}

}  // namespace hashi::client
