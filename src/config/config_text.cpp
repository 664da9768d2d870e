#include "config/config_text.h"

#include <arpa/inet.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

namespace hashi::config {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool split_config_line(std::string_view line, ConfigLine& out, std::string& error) {
  out = ConfigLine{};
  // Trailing whitespace (and a form feed) is dropped, as OpenSSH does.
  while (!line.empty() && (is_space(line.back()) || line.back() == '\f')) {
    line.remove_suffix(1);
  }
  size_t i = 0;
  while (i < line.size() && is_space(line[i])) {
    ++i;
  }
  if (i == line.size() || line[i] == '#') {
    return true;
  }
  // Keyword: up to whitespace or '=' (misc.c strdelim). A quote in a keyword is never valid; it
  // ends up in the keyword and fails the lookup.
  size_t kw_start = i;
  while (i < line.size() && !is_space(line[i]) && line[i] != '=') {
    ++i;
  }
  out.keyword = std::string(line.substr(kw_start, i - kw_start));
  // Separator: whitespace with at most one '='.
  while (i < line.size() && is_space(line[i])) {
    ++i;
  }
  if (i < line.size() && line[i] == '=') {
    ++i;
    while (i < line.size() && is_space(line[i])) {
      ++i;
    }
  }
  if (i >= line.size()) {
    error = "no argument after keyword \"" + to_lower(out.keyword) + "\"";
    return false;
  }
  out.raw_rest = std::string(line.substr(i));

  // Arguments (misc.c argv_split with terminate_on_comment).
  std::string_view s = out.raw_rest;
  size_t p = 0;
  while (p < s.size()) {
    if (s[p] == ' ' || s[p] == '\t') {
      ++p;
      continue;
    }
    if (s[p] == '#') {
      break;
    }
    if (out.args.size() >= kMaxLineArgs) {
      error = "too many arguments";
      return false;
    }
    std::string arg;
    char quote = 0;
    for (; p < s.size(); ++p) {
      char c = s[p];
      if (c == '\\' && p + 1 < s.size() &&
          (s[p + 1] == '\'' || s[p + 1] == '"' || s[p + 1] == '\\' ||
           (quote == 0 && s[p + 1] == ' '))) {
        ++p;
        arg.push_back(s[p]);
      } else if (quote == 0 && (c == ' ' || c == '\t')) {
        break;
      } else if (quote == 0 && (c == '"' || c == '\'')) {
        quote = c;
      } else if (quote != 0 && c == quote) {
        quote = 0;
      } else {
        arg.push_back(c);
      }
    }
    if (quote != 0) {
      error = "invalid quotes";
      return false;
    }
    out.args.push_back(std::move(arg));
  }
  return true;
}





std::optional<bool> parse_yes_no(std::string_view s) {
  if (iequals(s, "yes") || iequals(s, "true")) {
    return true;
  }
  if (iequals(s, "no") || iequals(s, "false")) {
    return false;
  }
  return std::nullopt;
}

namespace {

// Adds `digit` to `acc * 10`, failing on overflow.
bool accumulate_digit(uint64_t& acc, char digit) {
  uint64_t d = static_cast<uint64_t>(digit - '0');
  if (acc > (std::numeric_limits<uint64_t>::max() - d) / 10) {
    return false;
  }
  acc = acc * 10 + d;
  return true;
}

bool checked_mul(uint64_t a, uint64_t b, uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) {
    return false;
  }
  out = a * b;
  return true;
}

}  // namespace

std::optional<uint64_t> parse_time_interval(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  uint64_t total = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] < '0' || s[i] > '9') {
      return std::nullopt;
    }
    uint64_t value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (!accumulate_digit(value, s[i])) {
        return std::nullopt;
      }
      ++i;
    }
    uint64_t multiplier = 1;
    if (i < s.size()) {
      switch (s[i]) {
        case 's': case 'S': multiplier = 1; break;
        case 'm': case 'M': multiplier = 60; break;
        case 'h': case 'H': multiplier = 3600; break;
        case 'd': case 'D': multiplier = 86400; break;
        case 'w': case 'W': multiplier = 604800; break;
        default: return std::nullopt;
      }
      ++i;
    }
    uint64_t part = 0;
    if (!checked_mul(value, multiplier, part) ||
        total > std::numeric_limits<uint64_t>::max() - part) {
      return std::nullopt;
    }
    total += part;
  }
  // OpenSSH's convtime is bounded by INT_MAX; keep the same range so values mean the same thing.
  if (total > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
    return std::nullopt;
  }
  return total;
}

std::optional<uint64_t> parse_scaled_size(std::string_view s) {
  size_t i = 0;
  uint64_t value = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (!accumulate_digit(value, s[i])) {
      return std::nullopt;
    }
    ++i;
  }
  if (i == 0) {
    return std::nullopt;
  }
  if (i == s.size()) {
    return value;
  }
  if (i + 1 != s.size()) {
    return std::nullopt;
  }
  unsigned shift = 0;
  switch (s[i]) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return std::nullopt;
  }
  uint64_t out = 0;
  if (!checked_mul(value, uint64_t{1} << shift, out)) {
    return std::nullopt;
  }
  return out;
}

std::optional<uint64_t> parse_uint(std::string_view s, uint64_t min, uint64_t max) {
  if (s.empty()) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || !accumulate_digit(value, c)) {
      return std::nullopt;
    }
  }
  if (value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

namespace {

class SystemFileSource : public ConfigFileSource {
 public:
  std::optional<std::string> read(const std::string& path, bool& missing,
                                  std::string& error) const override {
    missing = false;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      missing = (errno == ENOENT);
      error = path + ": " + std::strerror(errno);
      return std::nullopt;
    }
    // Directories and devices other than /dev/null (the documented "no file") are not config.
    if (S_ISDIR(st.st_mode)) {
      error = path + ": is a directory";
      return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = path + ": cannot open";
      return std::nullopt;
    }
    std::string data;
    char buf[8192];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      data.append(buf, static_cast<size_t>(in.gcount()));
      if (data.size() > kMaxConfigFileLen) {
        error = path + ": file too large";
        return std::nullopt;
      }
    }
    return data;
  }

  std::vector<std::string> glob(const std::string& pattern) const override {
    std::vector<std::string> out;
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc && out.size() < kMaxIncludeFiles; ++i) {
        out.emplace_back(g.gl_pathv[i]);
      }
    }
    ::globfree(&g);
    return out;
  }
};

}  // namespace

const ConfigFileSource& system_file_source() {
  static const SystemFileSource source;
  return source;
}

std::optional<std::string> MemoryFileSource::read(const std::string& path, bool& missing,
                                                  std::string& error) const {
  auto it = files.find(path);
  if (it == files.end()) {
    missing = true;
    error = path + ": No such file or directory";
    return std::nullopt;
  }
  missing = false;
  if (it->second.size() > kMaxConfigFileLen) {
    error = path + ": file too large";
    return std::nullopt;
  }
  return it->second;
}

std::vector<std::string> MemoryFileSource::glob(const std::string& pattern) const {
  std::vector<std::string> out;
  for (const auto& [path, contents] : files) {
    if (out.size() >= kMaxIncludeFiles) {
      break;
    }
    if (match_pattern(path, pattern)) {
      out.push_back(path);
    }
  }
  return out;
}

std::optional<std::string> match_choice(std::string_view value, std::string_view choices) {
  size_t start = 0;
  while (start <= choices.size()) {
    size_t bar = choices.find('|', start);
    if (bar == std::string_view::npos) {
      bar = choices.size();
    }
    std::string_view item = choices.substr(start, bar - start);
    std::string_view canon = item;
    size_t eq = item.find('=');
    if (eq != std::string_view::npos) {
      canon = item.substr(eq + 1);
      item = item.substr(0, eq);
    }
    if (iequals(value, item)) {
      return std::string(canon);
    }
    if (bar == choices.size()) {
      break;
    }
    start = bar + 1;
  }
  return std::nullopt;
}

}  // namespace hashi::config
