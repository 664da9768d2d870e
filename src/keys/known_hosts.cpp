// known_hosts parsing and lookup, following OpenSSH's hostfile.c and match.c.
#include "keys/known_hosts.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <sstream>

#include "crypto/secret.h"
#include "keys/base64.h"
#include "keys/file_io.h"
#include "keys/line_util.h"
#include "wire/pattern.h"

namespace hashi::keys {
namespace {

constexpr std::string_view kHashMagic = "|1|";
constexpr size_t kSha1Len = 20;

char lower(char c) { return char(std::tolower(static_cast<unsigned char>(c))); }

std::optional<Bytes> hmac_sha1(ByteView key, std::string_view data) {
  Bytes out(kSha1Len);
  size_t out_len = 0;
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA1", nullptr, key.data(), key.size(),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
                 out.size(), &out_len) ||
      out_len != kSha1Len) {
    return std::nullopt;
  }
  return out;
}

bool hashed_matches(std::string_view field, std::string_view host_name) {
  field.remove_prefix(kHashMagic.size());
  size_t bar = field.find('|');
  if (bar == std::string_view::npos) return false;
  std::optional<Bytes> salt = base64_decode(field.substr(0, bar));
  std::optional<Bytes> hash = base64_decode(field.substr(bar + 1));
  if (!salt || !hash || salt->size() != kSha1Len || hash->size() != kSha1Len) return false;
  std::optional<Bytes> mac = hmac_sha1(*salt, host_name);
  return mac && equal_ct(*mac, *hash);
}

}  // namespace


std::string known_host_name(std::string_view host, uint16_t port) {
  std::string name;
  for (char c : host) name += lower(c);
  if (port != 22) name = "[" + name + "]:" + std::to_string(port);
  return name;
}

bool host_matches_entry(const KnownHostEntry& entry, std::string_view host_name) {
  std::string_view field = entry.hosts;
  if (field.substr(0, kHashMagic.size()) == kHashMagic) return hashed_matches(field, host_name);
  bool found = false;
  while (!field.empty()) {
    size_t comma = field.find(',');
    std::string_view pat = field.substr(0, comma);
    field.remove_prefix(comma == std::string_view::npos ? field.size() : comma + 1);
    bool negated = !pat.empty() && pat.front() == '!';
    if (negated) pat.remove_prefix(1);
    if (pat.empty()) continue;
    if (match_pattern(host_name, pat, PatternCase::kInsensitive)) {
      if (negated) return false;  // a matching negation overrides everything (match.c)
      found = true;
    }
  }
  return found;
}

std::optional<KnownHostEntry> parse_known_host_line(std::string_view line, std::string& error) {
  std::optional<std::string_view> content =
      line_util::content_of(line, kMaxKnownHostsLineLen, error);
  if (!content) return std::nullopt;
  line = *content;
  KnownHostEntry entry;
  std::string_view rest = line;
  std::string_view tok = line_util::next_token(rest);
  if (tok.front() == '@') {
    if (tok == "@revoked") {
      entry.marker = KnownHostMarker::kRevoked;
    } else if (tok == "@cert-authority") {
      entry.marker = KnownHostMarker::kCertAuthority;
    } else {
      error = "unknown marker \"" + std::string(tok.substr(0, 64)) + "\"";
      return std::nullopt;
    }
    tok = line_util::next_token(rest);
  }
  if (tok.empty()) {
    error = "missing host patterns";
    return std::nullopt;
  }
  entry.hosts = std::string(tok);
  std::string_view type_name = line_util::next_token(rest);
  std::string_view b64 = line_util::next_token(rest);
  std::optional<KeyType> type = key_type_from_name(type_name);
  if (!type) {
    error = "unknown key type \"" + std::string(type_name.substr(0, 64)) + "\"";
    return std::nullopt;
  }
  std::optional<Bytes> blob = base64_decode(b64);
  std::optional<PublicKey> key = blob ? PublicKey::from_blob(*blob) : std::nullopt;
  if (!key || key->type() != *type) {
    error = "invalid key";
    return std::nullopt;
  }
  entry.key = std::move(*key);
  entry.comment = std::string(line_util::trim_left(rest));
  return entry;
}

HostKeyLookup check_known_host_contents(std::string_view contents, const std::string& file_name,
                                        std::string_view host, uint16_t port,
                                        const PublicKey& key) {
  const std::string name = known_host_name(host, port);
  HostKeyLookup match, mismatch;
  line_util::for_each_line(contents, [&](std::string_view line, size_t number) {
    std::string error;
    std::optional<KnownHostEntry> entry = parse_known_host_line(line, error);
    if (!entry || entry->marker == KnownHostMarker::kCertAuthority ||
        !host_matches_entry(*entry, name)) {
      return true;
    }
    if (entry->marker == KnownHostMarker::kRevoked) {
      if (entry->key == key) {
        match = {HostKeyStatus::kRevoked, file_name, number};
        return false;
      }
      return true;
    }
    if (entry->key == key) {
      if (match.status == HostKeyStatus::kNotFound)
        match = {HostKeyStatus::kMatch, file_name, number};
    } else if (entry->key.type() == key.type() && mismatch.status == HostKeyStatus::kNotFound) {
      mismatch = {HostKeyStatus::kMismatch, file_name, number};
    }
    return true;
  });
  if (match.status != HostKeyStatus::kNotFound) return match;
  return mismatch;
}

HostKeyLookup check_known_host(const std::vector<std::string>& files, std::string_view host,
                               uint16_t port, const PublicKey& key) {
  HostKeyLookup match, mismatch;
  for (const auto& file : files) {
    std::optional<std::string> contents = read_small_file(file, kMaxKnownHostsFileLen);
    if (!contents) continue;
    HostKeyLookup r = check_known_host_contents(*contents, file, host, port, key);
    if (r.status == HostKeyStatus::kRevoked) return r;  // revocation anywhere wins
    if (r.status == HostKeyStatus::kMatch && match.status == HostKeyStatus::kNotFound) match = r;
    if (r.status == HostKeyStatus::kMismatch && mismatch.status == HostKeyStatus::kNotFound) {
      mismatch = r;
    }
  }
  if (match.status != HostKeyStatus::kNotFound) return match;
  return mismatch;
}

std::string hash_known_host_name(std::string_view host_name) {
  uint8_t salt[kSha1Len];
  if (RAND_bytes(salt, sizeof(salt)) != 1) return {};
  std::optional<Bytes> mac = hmac_sha1(ByteView(salt, sizeof(salt)), host_name);
  if (!mac) return {};
  return std::string(kHashMagic) + base64_encode(ByteView(salt, sizeof(salt))) + "|" +
         base64_encode(*mac);
}

bool append_known_host(const std::string& file, std::string_view host, uint16_t port,
                       const PublicKey& key, bool hash) {
  return append_known_host_name(file, known_host_name(host, port), key, hash);
}

bool append_known_host_name(const std::string& file, std::string_view host_name,
                            const PublicKey& key, bool hash) {
  if (key.blob().empty()) return false;
  std::string name(host_name);
  if (hash) {
    name = hash_known_host_name(name);
    if (name.empty()) return false;
  }
  std::string line = name + " " + key.to_line() + "\n";
  int fd = ::open(file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    char last = 0;
    if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') line.insert(0, "\n");
  }
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    done += size_t(n);
  }
  return ::close(fd) == 0;
}

}  // namespace hashi::keys
