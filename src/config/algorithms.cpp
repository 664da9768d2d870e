#include "config/algorithms.h"

#include <algorithm>

#include "config/config_text.h"

namespace hashi::config {
namespace {

// Lookup tables: the single place where a name becomes "supported". Keep each list in preference
// order; the transport's negotiation uses the same names.
const std::vector<std::string> kSupportedKex = {
    // Hybrid post-quantum methods first, in OpenSSH 10's order (OpenSSH 9.x knows only the
    // @openssh.com name of sntrup761x25519).
    "mlkem768x25519-sha256",
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256",
};
const std::vector<std::string>& kDefaultKex = kSupportedKex;

const std::vector<std::string> kSupportedCiphers = {
    "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
    "aes128-ctr",                    "aes192-ctr",             "aes256-ctr",
};
// OpenSSH's KEX_SERVER_ENCRYPT / KEX_CLIENT_ENCRYPT order.
const std::vector<std::string> kDefaultCiphers = {
    "chacha20-poly1305@openssh.com", "aes128-ctr",
    "aes192-ctr",                    "aes256-ctr",
    "aes128-gcm@openssh.com",        "aes256-gcm@openssh.com",
};

const std::vector<std::string> kSupportedMacs = {
    "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256",
    "hmac-sha2-512",                 "hmac-sha1-etm@openssh.com",     "hmac-sha1",
};
// SHA-1 MACs stay available for old peers but are not offered unless asked for.
const std::vector<std::string> kDefaultMacs = {
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
};

const std::vector<std::string> kSupportedHostKeys = {
    "ssh-ed25519",  "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-512", "rsa-sha2-256",        "ssh-rsa",
};
// ssh-rsa (RSA with SHA-1 signatures) is supported only on request, as in OpenSSH >= 8.8.
const std::vector<std::string> kDefaultHostKeys = {
    "ssh-ed25519",  "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256",
};

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
}

void append_unique(std::vector<std::string>& list, std::string_view name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) {
    list.emplace_back(name);
  }
}

}  // namespace

const std::vector<std::string>& supported_algorithms(AlgorithmKind kind) {
  switch (kind) {
    case AlgorithmKind::kKex:
      return kSupportedKex;
    case AlgorithmKind::kCipher:
      return kSupportedCiphers;
    case AlgorithmKind::kMac:
      return kSupportedMacs;
    case AlgorithmKind::kHostKey:
      return kSupportedHostKeys;
  }
  return kSupportedKex;
}

const std::vector<std::string>& default_algorithms(AlgorithmKind kind) {
  switch (kind) {
    case AlgorithmKind::kKex:
      return kDefaultKex;
    case AlgorithmKind::kCipher:
      return kDefaultCiphers;
    case AlgorithmKind::kMac:
      return kDefaultMacs;
    case AlgorithmKind::kHostKey:
      return kDefaultHostKeys;
  }
  return kDefaultKex;
}

std::string_view algorithm_keyword(AlgorithmKind kind) {
  switch (kind) {
    case AlgorithmKind::kKex:
      return "KexAlgorithms";
    case AlgorithmKind::kCipher:
      return "Ciphers";
    case AlgorithmKind::kMac:
      return "MACs";
    case AlgorithmKind::kHostKey:
      return "HostKeyAlgorithms";
  }
  return "";
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) {
      out.push_back(',');
    }
    out += n;
  }
  return out;
}

std::optional<std::vector<std::string>> apply_algorithm_spec(AlgorithmKind kind,
                                                             std::string_view spec,
                                                             std::string& error) {
  const auto& supported = supported_algorithms(kind);
  const auto& defaults = default_algorithms(kind);
  char op = spec.empty() ? '\0' : spec[0];
  std::string_view names = (op == '+' || op == '-' || op == '^') ? spec.substr(1) : spec;
  if (names.empty()) {
    error = "empty algorithm list";
    return std::nullopt;
  }

  if (op == '-') {
    // Denylist: patterns, unknown names simply match nothing (OpenSSH accepts them too).
    std::vector<std::string> out;
    for (const auto& name : defaults) {
      if (match_pattern_list(name, names, false) != 1) {
        out.push_back(name);
      }
    }
    if (out.empty()) {
      error = "no algorithms left";
      return std::nullopt;
    }
    return out;
  }

  std::vector<std::string> listed;
  for (std::string_view name : split_commas(names)) {
    if (std::find(supported.begin(), supported.end(), name) == supported.end()) {
      error = "Unsupported algorithm '" + std::string(name) + "'";
      return std::nullopt;
    }
    append_unique(listed, name);
  }

  std::vector<std::string> out;
  if (op == '+') {
    for (const auto& n : defaults) {
      append_unique(out, n);
    }
    for (const auto& n : listed) {
      append_unique(out, n);
    }
  } else if (op == '^') {
    for (const auto& n : listed) {
      append_unique(out, n);
    }
    for (const auto& n : defaults) {
      append_unique(out, n);
    }
  } else {
    out = std::move(listed);
  }
  return out;
}

std::optional<std::pair<uint64_t, uint64_t>> parse_rekey_limit(std::string_view value) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < value.size()) {
    if (value[i] == ' ' || value[i] == '\t') {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < value.size() && value[i] != ' ' && value[i] != '\t') {
      ++i;
    }
    words.push_back(value.substr(start, i - start));
  }
  if (words.empty() || words.size() > 2) {
    return std::nullopt;
  }
  uint64_t bytes = 0;
  if (words[0] != "default") {
    auto parsed = parse_scaled_size(words[0]);
    // Below 16 bytes a rekey would happen on every packet (OpenSSH: "RekeyLimit too small").
    if (!parsed || (*parsed != 0 && *parsed < 16)) {
      return std::nullopt;
    }
    bytes = *parsed;
  }
  uint64_t seconds = 0;
  if (words.size() == 2 && words[1] != "none" && words[1] != "default") {
    auto parsed = parse_time_interval(words[1]);
    if (!parsed) {
      return std::nullopt;
    }
    seconds = *parsed;
  }
  return std::make_pair(bytes, seconds);
}

}  // namespace hashi::config
