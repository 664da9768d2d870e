// authorized_keys parsing, following OpenSSH's auth-options.c (sshauthopt_parse).
#include "keys/authorized_keys.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "keys/base64.h"
#include "keys/line_util.h"

namespace hashi::keys {
namespace {

using line_util::is_space;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Reads a double-quoted value from the front of `s` ("\"" inside stands for a quote), as
// OpenSSH's opt_dequote.
bool dequote(std::string_view& s, std::string& out, std::string& error) {
  if (s.empty() || s.front() != '"') {
    error = "missing start quote";
    return false;
  }
  size_t i = 1;
  out.clear();
  for (;; ++i) {
    if (i >= s.size()) {
      error = "missing end quote";
      return false;
    }
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '"') {
      ++i;
    } else if (s[i] == '"') {
      break;
    }
    out += s[i];
  }
  s.remove_prefix(i + 1);
  return true;
}

bool valid_port(std::string_view port, bool allow_wildcard) {
  if (allow_wildcard && port == "*") return true;
  if (port.empty() || port.size() > 5) return false;
  unsigned v = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + unsigned(c - '0');
  }
  return v >= 1 && v <= 65535;
}

// "host:port" (host may be [v6]); for permitlisten the host is optional.
bool valid_host_port(std::string_view v, bool host_optional) {
  size_t colon = v.rfind(':');
  if (colon == std::string_view::npos) return host_optional && valid_port(v, true);
  std::string_view host = v.substr(0, colon);
  if (host.empty()) return false;
  if (host.front() == '[' && (host.size() < 3 || host.back() != ']')) return false;
  return valid_port(v.substr(colon + 1), true);
}

bool valid_env(std::string_view v) {
  size_t eq = v.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  return std::all_of(v.begin(), v.begin() + long(eq), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool valid_expiry(std::string_view v) {
  if (v.size() != 8 && v.size() != 12 && v.size() != 14) return false;
  return std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Boolean options: name, and the permit_* flag it sets (to `value`), or a plain flag.
struct FlagOption {
  std::string_view name;
  bool KeyOptions::*field;
  bool value;
};
constexpr std::array<FlagOption, 13> kFlags = {{
    {"pty", &KeyOptions::permit_pty, true},
    {"no-pty", &KeyOptions::permit_pty, false},
    {"port-forwarding", &KeyOptions::permit_port_forwarding, true},
    {"no-port-forwarding", &KeyOptions::permit_port_forwarding, false},
    {"agent-forwarding", &KeyOptions::permit_agent_forwarding, true},
    {"no-agent-forwarding", &KeyOptions::permit_agent_forwarding, false},
    {"x11-forwarding", &KeyOptions::permit_x11_forwarding, true},
    {"no-x11-forwarding", &KeyOptions::permit_x11_forwarding, false},
    {"user-rc", &KeyOptions::permit_user_rc, true},
    {"no-user-rc", &KeyOptions::permit_user_rc, false},
    {"cert-authority", &KeyOptions::cert_authority, true},
    {"no-touch-required", &KeyOptions::no_touch_required, true},
    {"verify-required", &KeyOptions::verify_required, true},
}};

bool set_once(std::optional<std::string>& field, std::string value, std::string_view name,
              std::string& error) {
  if (field) {
    error = "multiple \"" + std::string(name) + "\" clauses";
    return false;
  }
  field = std::move(value);
  return true;
}

// Parses the comma-separated options at the front of `s`, up to the first unquoted whitespace.
bool parse_options(std::string_view& s, KeyOptions& opts, std::string& error) {
  while (!s.empty() && !is_space(s.front())) {
    size_t n = 0;
    while (n < s.size() && s[n] != '=' && s[n] != ',' && !is_space(s[n])) ++n;
    std::string_view name = s.substr(0, n);
    s.remove_prefix(n);
    bool has_value = !s.empty() && s.front() == '=';
    std::string value;
    if (has_value) {
      s.remove_prefix(1);
      if (!dequote(s, value, error)) return false;
    }
    bool ok = true;
    bool known = false;
    for (const auto& f : kFlags) {
      if (iequals(name, f.name)) {
        known = true;
        if (has_value) {
          error = "option \"" + std::string(f.name) + "\" takes no value";
          return false;
        }
        opts.*(f.field) = f.value;
      }
    }
    if (known) {
      // handled above
    } else if (iequals(name, "restrict")) {
      if (has_value) {
        error = "option \"restrict\" takes no value";
        return false;
      }
      opts.restricted = true;
      opts.permit_pty = opts.permit_port_forwarding = opts.permit_agent_forwarding =
          opts.permit_x11_forwarding = opts.permit_user_rc = false;
    } else {
      static constexpr std::array<std::string_view, 7> kValued = {
          "command",      "from",        "environment", "permitopen",
          "permitlisten", "expiry-time", "principals"};
      auto it = std::find_if(kValued.begin(), kValued.end(),
                             [&](std::string_view v) { return iequals(name, v); });
      if (it == kValued.end()) {
        error = "unsupported option \"" + std::string(name.substr(0, 64)) + "\"";
        return false;
      }
      std::string_view canon = *it;
      if (!has_value) {
        error = "option \"" + std::string(canon) + "\" requires a value";
        return false;
      }
      if (canon == "command") {
        ok = set_once(opts.command, std::move(value), canon, error);
      } else if (canon == "from") {
        ok = set_once(opts.from, std::move(value), canon, error);
      } else if (canon == "principals") {
        ok = set_once(opts.principals, std::move(value), canon, error);
      } else if (canon == "expiry-time") {
        if (!valid_expiry(value)) {
          error = "invalid expiry time";
          return false;
        }
        ok = set_once(opts.expiry_time, std::move(value), canon, error);
      } else if (canon == "environment") {
        if (!valid_env(value)) {
          error = "invalid environment string";
          return false;
        }
        opts.environment.push_back(std::move(value));
      } else if (canon == "permitopen") {
        if (!valid_host_port(value, false)) {
          error = "invalid permission hostname";
          return false;
        }
        opts.permitopen.push_back(std::move(value));
      } else {  // permitlisten
        if (!valid_host_port(value, true)) {
          error = "invalid permission hostname";
          return false;
        }
        opts.permitlisten.push_back(std::move(value));
      }
    }
    if (!ok) return false;
    if (!s.empty() && s.front() == ',') {
      s.remove_prefix(1);
      if (s.empty() || is_space(s.front())) {
        error = "trailing comma in options";
        return false;
      }
    } else if (!s.empty() && !is_space(s.front())) {
      error = "unexpected character after option";
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<AuthorizedKey> parse_authorized_key_line(std::string_view line, std::string& error) {
  std::optional<std::string_view> content =
      line_util::content_of(line, kMaxAuthorizedKeyLineLen, error);
  if (!content) return std::nullopt;
  line = *content;

  AuthorizedKey out;
  std::string_view rest = line;
  std::string_view first = line.substr(0, std::min(line.find_first_of(" \t"), line.size()));
  if (!key_type_from_name(first)) {
    if (!parse_options(rest, out.options, error)) {
      error = "bad options: " + error;
      return std::nullopt;
    }
  }
  std::string_view type_name = line_util::next_token(rest);
  std::string_view b64 = line_util::next_token(rest);
  std::optional<KeyType> type = key_type_from_name(type_name);
  if (!type) {
    error = "unknown key type \"" + std::string(type_name.substr(0, 64)) + "\"";
    return std::nullopt;
  }
  std::optional<Bytes> blob = base64_decode(b64);
  if (!blob || blob->empty()) {
    error = "invalid base64 key data";
    return std::nullopt;
  }
  std::optional<PublicKey> key = PublicKey::from_blob(*blob);
  if (!key) {
    error = "invalid key";
    return std::nullopt;
  }
  if (key->type() != *type) {
    error = "key type does not match key data";
    return std::nullopt;
  }
  out.key = std::move(*key);
  out.comment = std::string(line_util::trim_left(rest));
  return out;
}

std::vector<AuthorizedKey> load_authorized_keys(std::string_view contents,
                                                const std::string& file_name_for_messages,
                                                std::vector<std::string>& warnings) {
  std::vector<AuthorizedKey> out;
  line_util::for_each_line(contents, [&](std::string_view line, size_t number) {
    std::string error;
    std::optional<AuthorizedKey> entry = parse_authorized_key_line(line, error);
    if (entry) {
      out.push_back(std::move(*entry));
    } else if (!error.empty()) {
      warnings.push_back(file_name_for_messages + ":" + std::to_string(number) + ": " + error);
    }
    return true;
  });
  return out;
}

const AuthorizedKey* find_authorized(const std::vector<AuthorizedKey>& keys, const PublicKey& key) {
  for (const auto& entry : keys) {
    if (!entry.options.cert_authority && entry.key == key) return &entry;
  }
  return nullptr;
}

}  // namespace hashi::keys
