// ssh-keygen's known_hosts editing (-F, -R, -H): one walk over the lines in the manner of
// OpenSSH's hostkeys_foreach(), with the per-line actions of ssh-keygen.c.
#include "keys/known_hosts_edit.h"

#include <cctype>
#include <optional>

#include "keys/base64.h"
#include "keys/key.h"
#include "keys/known_hosts.h"

namespace hashi::keys {
namespace {

enum class Marker { kNone, kCa, kRevoke, kError };
enum class Status { kComment, kOk, kMatched, kInvalid };

struct Line {
  std::string_view text;  // the whole line without its '\n'
  size_t number = 0;
  Status status = Status::kOk;
  Marker marker = Marker::kNone;
  std::string_view hosts;
  std::string_view rawkey;  // from the key type to the end of the line
};

constexpr size_t kSha1Len = 20;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view skip_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}

// hostfile.c check_markers: at most one "@cert-authority" / "@revoked", each followed by a blank.
Marker take_marker(std::string_view& cp) {
  Marker marker = Marker::kNone;
  while (!cp.empty() && cp.front() == '@') {
    if (marker != Marker::kNone) return Marker::kError;
    auto take = [&](std::string_view name) {
      if (cp.size() > name.size() && cp.substr(0, name.size()) == name &&
          is_blank(cp[name.size()])) {
        cp.remove_prefix(name.size() + 1);
        return true;
      }
      return false;
    };
    if (take("@cert-authority")) {
      marker = Marker::kCa;
    } else if (take("@revoked")) {
      marker = Marker::kRevoke;
    } else {
      return Marker::kError;
    }
    cp = skip_blanks(cp);
  }
  return marker;
}

// match_maybe_hashed: 1 match, 0 no match, -1 a hashed field whose salt cannot be used.
int host_field_matches(std::string_view host, std::string_view field) {
  KnownHostEntry entry;
  entry.hosts = std::string(field);
  if (!field.empty() && field.front() == '|') {
    if (field.substr(0, 3) != "|1|") return -1;
    std::string_view rest = field.substr(3);
    size_t bar = rest.find('|');
    std::optional<Bytes> salt =
        bar == std::string_view::npos ? std::nullopt : base64_decode(rest.substr(0, bar));
    if (!salt || salt->size() != kSha1Len) return -1;
    return host_matches_entry(entry, host) ? 1 : 0;
  }
  std::string lower;
  for (char c : host) lower += char(std::tolower(static_cast<unsigned char>(c)));
  return host_matches_entry(entry, lower) ? 1 : 0;
}

// Calls fn(line) for each line as hostkeys_foreach() would: comments and blank lines only when
// !want_match; lines for other hosts skipped when want_match; malformed lines as kInvalid.
template <typename Fn>
void for_each_host_line(std::string_view contents, const std::string_view* host, bool want_match,
                        Fn&& fn) {
  size_t number = 0;
  while (!contents.empty()) {
    size_t nl = contents.find('\n');
    Line l;
    l.text = contents.substr(0, nl);
    l.number = ++number;
    contents.remove_prefix(nl == std::string_view::npos ? contents.size() : nl + 1);

    std::string_view cp = skip_blanks(l.text);
    if (cp.empty() || cp.front() == '#') {
      if (!want_match) {
        l.status = Status::kComment;
        fn(l);
      }
      continue;
    }
    l.marker = take_marker(cp);
    if (l.marker == Marker::kError) {
      if (!want_match) {
        l.status = Status::kInvalid;
        fn(l);
      }
      continue;
    }
    size_t end = 0;
    while (end < cp.size() && !is_blank(cp[end])) ++end;
    l.hosts = cp.substr(0, end);
    cp.remove_prefix(end);
    if (host) {
      int m = host_field_matches(*host, l.hosts);
      if (m < 0) {
        l.status = Status::kInvalid;
        fn(l);
        continue;
      }
      if (m == 1) l.status = Status::kMatched;
      if (want_match && l.status != Status::kMatched) continue;
    }
    cp = skip_blanks(cp);
    // The key type must be followed by something that is not a comment ("trivial truncation"),
    // and a short number there is an SSH1 key, which is no longer read.
    size_t type_len = 0;
    while (type_len < cp.size() && !is_blank(cp[type_len])) ++type_len;
    std::string_view type = cp.substr(0, type_len);
    std::string_view after = skip_blanks(cp.substr(type_len));
    const bool numeric = !type.empty() && type.size() < 8 &&
                         type.find_first_not_of("0123456789") == std::string_view::npos;
    if (cp.empty() || cp.front() == '#' || type_len <= 1 || type_len == cp.size() ||
        (!key_type_from_name(type) && numeric) || after.empty() || after.front() == '#') {
      l.status = Status::kInvalid;
      fn(l);
      continue;
    }
    l.rawkey = cp;
    fn(l);
  }
}

void append_line(std::string& out, std::string_view line) {
  out += line;
  out += '\n';
}

// ssh-keygen.c known_hosts_hash for one line.
void hash_line(const Line& l, std::string_view path, bool find_host, KnownHostsEdit& r,
               std::string& out) {
  if (l.status != Status::kOk && l.status != Status::kMatched) {
    if (l.status == Status::kInvalid) {
      r.invalid = true;
      r.messages.push_back(std::string(path) + ":" + std::to_string(l.number) + ": invalid line");
    }
    append_line(out, l.text);
    return;
  }
  const bool has_wild = l.hosts.find_first_of("*?!") != std::string_view::npos;
  const bool was_hashed = !l.hosts.empty() && l.hosts.front() == '|';
  if (was_hashed || has_wild || l.marker != Marker::kNone) {
    append_line(out, l.text);
    if (has_wild && !find_host) {
      r.messages.push_back(std::string(path) + ":" + std::to_string(l.number) +
                           ": ignoring host name with wildcard: " +
                           std::string(l.hosts.substr(0, 64)));
    }
    return;
  }
  std::string_view names = l.hosts;
  while (true) {
    size_t comma = names.find(',');
    std::string_view name = names.substr(0, comma);
    if (name.empty()) break;  // strsep stops at an empty name, as ssh-keygen does
    std::string lower;
    for (char c : name) lower += char(std::tolower(static_cast<unsigned char>(c)));
    out += hash_known_host_name(lower);
    out += ' ';
    append_line(out, l.rawkey);
    r.has_unhashed = true;
    if (comma == std::string_view::npos) break;
    names.remove_prefix(comma + 1);
  }
}

std::string found_line(std::string_view host, size_t number) {
  return "# Host " + std::string(host) + " found: line " + std::to_string(number);
}

}  // namespace

KnownHostsEdit known_hosts_find(std::string_view contents, std::string_view path,
                                std::string_view host, bool hash, bool quiet) {
  KnownHostsEdit r;
  for_each_host_line(contents, &host, true, [&](const Line& l) {
    if (l.status != Status::kMatched) return;
    r.found = true;
    if (!quiet) {
      r.stdout_text += found_line(host, l.number) + " " +
                       (l.marker == Marker::kCa       ? "CA"
                        : l.marker == Marker::kRevoke ? "REVOKED"
                                                      : "") +
                       "\n";
    }
    if (hash) {
      hash_line(l, path, true, r, r.stdout_text);
    } else {
      append_line(r.stdout_text, l.text);
    }
  });
  return r;
}

KnownHostsEdit known_hosts_remove(std::string_view contents, std::string_view path,
                                  std::string_view host, bool quiet) {
  KnownHostsEdit r;
  for_each_host_line(contents, &host, false, [&](const Line& l) {
    if (l.status == Status::kMatched) {
      if (l.marker != Marker::kNone) {  // CA and revocation lines are never removed
        append_line(r.file, l.text);
        return;
      }
      r.found = true;
      if (!quiet) r.stdout_text += found_line(host, l.number) + "\n";
      return;
    }
    if (l.status == Status::kInvalid) {
      r.invalid = true;
      r.messages.push_back(std::string(path) + ":" + std::to_string(l.number) + ": invalid line");
    }
    append_line(r.file, l.text);
  });
  return r;
}

KnownHostsEdit known_hosts_hash(std::string_view contents, std::string_view path) {
  KnownHostsEdit r;
  for_each_host_line(contents, nullptr, false,
                     [&](const Line& l) { hash_line(l, path, false, r, r.file); });
  return r;
}

}  // namespace hashi::keys
