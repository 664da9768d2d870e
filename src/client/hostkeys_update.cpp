#include "client/hostkeys_update.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "keys/known_hosts.h"
#include "session/hostkeys.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::client {

namespace {

struct FileLine {
  std::string text;
  std::optional<keys::KnownHostEntry> entry;
};

std::optional<std::vector<FileLine>> read_lines(const std::string& file) {
  std::vector<FileLine> out;
  std::ifstream in(file, std::ios::binary);
  if (!in) return out;  // a missing file holds nothing
  std::string line;
  size_t total = 0;
  while (std::getline(in, line)) {
    total += line.size() + 1;
    if (total > keys::kMaxKnownHostsFileLen) return std::nullopt;
    std::string error;
    FileLine fl{line, keys::parse_known_host_line(line, error)};
    out.push_back(std::move(fl));
  }
  return out;
}

// The entry names exactly this host: one plain name equal to it, or a hashed name for it.
bool exact_host_line(const keys::KnownHostEntry& e, const std::string& host_name) {
  if (e.hosts.rfind("|1|", 0) == 0) return true;  // host_matches_entry already checked the hash
  std::string lower = e.hosts;
  for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  return lower == host_name;
}

bool contains(const std::vector<keys::PublicKey>& keys, const keys::PublicKey& k) {
  for (const auto& x : keys) {
    if (x == k) return true;
  }
  return false;
}

}  // namespace

std::optional<std::vector<keys::PublicKey>> KnownHostsUpdater::unknown_keys(
    const std::vector<keys::PublicKey>& offered) const {
  auto lines = read_lines(file_);
  if (!lines) return std::nullopt;
  std::vector<keys::PublicKey> known;
  for (const auto& l : *lines) {
    if (!l.entry || l.entry->marker != keys::KnownHostMarker::kNone) continue;
    if (!keys::host_matches_entry(*l.entry, host_name_)) continue;
    if (!exact_host_line(*l.entry, host_name_)) {
      if (log_) {
        log_(1, "host key found matching a different name/address, skipping "
                "UserKnownHostsFile update");
      }
      return std::nullopt;
    }
    known.push_back(l.entry->key);
  }
  bool current_known = false;
  for (const auto& k : offered) current_known |= contains(known, k);
  if (!current_known) {
    // The host was trusted from another file (or not at all): nothing to build on here.
    if (log_) log_(1, "server host key not in " + file_ + ", skipping UpdateHostKeys");
    return std::nullopt;
  }
  std::vector<keys::PublicKey> unknown;
  for (const auto& k : offered) {
    if (!contains(known, k)) unknown.push_back(k);
  }
  return unknown;
}

bool KnownHostsUpdater::apply(const std::vector<keys::PublicKey>& offered,
                              const std::vector<keys::PublicKey>& learned) const {
  auto lines = read_lines(file_);
  if (!lines) return false;
  std::string out;
  std::vector<keys::PublicKey> present;
  bool modified = false;
  bool hashed_seen = false;
  for (const auto& l : *lines) {
    bool ours = l.entry && l.entry->marker == keys::KnownHostMarker::kNone &&
                keys::host_matches_entry(*l.entry, host_name_) &&
                exact_host_line(*l.entry, host_name_);
    if (ours && l.entry->hosts.rfind("|1|", 0) == 0) hashed_seen = true;
    if (ours && !contains(offered, l.entry->key)) {
      if (log_) {
        log_(1, "Deprecating obsolete hostkey: " + std::string(keys::key_type_name(l.entry->key.type())) +
                    " " + l.entry->key.fingerprint_sha256());
      }
      modified = true;
      continue;
    }
    if (ours) present.push_back(l.entry->key);
    out += l.text + "\n";
  }
  for (const auto& k : learned) {
    if (contains(present, k)) continue;
    std::string name = (hash_ || hashed_seen) ? keys::hash_known_host_name(host_name_) : host_name_;
    if (name.empty()) return false;
    if (log_) {
      log_(1, "Learned new hostkey: " + std::string(keys::key_type_name(k.type())) + " " +
                  k.fingerprint_sha256());
    }
    out += name + " " + k.to_line() + "\n";
    modified = true;
  }
  if (!modified) return true;

  std::string temp = file_ + ".XXXXXX";
  int fd = mkstemp(temp.data());
  if (fd < 0) return false;
  fchmod(fd, 0600);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = write(fd, out.data() + done, out.size() - done);
    if (n <= 0) {
      close(fd);
      unlink(temp.c_str());
      return false;
    }
    done += size_t(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(temp.c_str());
    return false;
  }
  std::string backup = file_ + ".old";
  unlink(backup.c_str());
  if (access(file_.c_str(), F_OK) == 0 && link(file_.c_str(), backup.c_str()) != 0) {
    unlink(temp.c_str());
    return false;
  }
  if (rename(temp.c_str(), file_.c_str()) != 0) {
    unlink(temp.c_str());
    return false;
  }
  if (log_) log_(1, "Updated known_hosts file " + file_);
  return true;
}

std::optional<std::vector<keys::PublicKey>> keys_to_prove(
    ByteView data, const std::optional<keys::PublicKey>& current,
    const std::vector<std::string>& host_key_algorithms, const HostKeysHooks& hooks,
    const std::function<void(const std::string&)>& log,
    std::vector<keys::PublicKey>& out_offered) {
  size_t unsupported = 0;
  auto offered = session::parse_hostkeys(data, unsupported);
  if (!offered) {
    log("client_input_hostkeys: bad hostkeys-00@openssh.com message, ignored");
    return std::nullopt;
  }
  log("client_input_hostkeys: " + std::to_string(offered->size()) + " host keys (" +
      std::to_string(unsupported) + " of unsupported types)");
  // The key this connection was verified with must be among them, else nothing is learned.
  bool has_current = false;
  for (const auto& k : *offered) has_current |= current && k == *current;
  if (!has_current || offered->empty()) {
    log("client_input_hostkeys: server did not include its host key, ignored");
    return std::nullopt;
  }
  auto found = hooks.unknown_keys(*offered);
  if (!found) return std::nullopt;
  // Keys of types HostKeyAlgorithms does not allow are not learned (clientloop.c).
  std::vector<keys::PublicKey> unknown;
  for (auto& k : *found) {
    bool allowed = false;
    for (const auto& a : host_key_algorithms) {
      allowed |= keys::key_type_for_algorithm(a) == k.type();
    }
    if (allowed) {
      unknown.push_back(std::move(k));
    } else {
      log("client_input_hostkeys: " + std::string(k.type_name()) +
          " key not permitted by HostkeyAlgorithms");
    }
  }
  out_offered = std::move(*offered);
  return unknown;
}

bool proof_accepted(bool success, ByteView reply, const std::vector<keys::PublicKey>& to_prove,
                    ByteView session_id, const std::vector<std::string>& host_key_algorithms,
                    const std::function<void(const std::string&)>& log) {
  bool offers_rsa_sha2 = false;
  for (const auto& a : host_key_algorithms) {
    offers_rsa_sha2 |= a == "rsa-sha2-256" || a == "rsa-sha2-512";
  }
  if (!success) {
    log("Server failed to confirm ownership of private host keys");
    return false;
  }
  if (!session::verify_hostkeys_proof(to_prove, session_id, reply, !offers_rsa_sha2)) {
    log("client_global_hostkeys_prove_confirm: server gave bad signature, "
        "not updating known_hosts");
    return false;
  }
  return true;
}

}  // namespace hashi::client
