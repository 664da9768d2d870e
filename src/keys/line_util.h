// Internal to keys/: splitting of text lines in OpenSSH's key-file formats.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hashi::keys::line_util {

inline bool is_space(char c) { return c == ' ' || c == '\t'; }

inline std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

inline std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Takes the next whitespace-delimited token off the front of `s` (after leading whitespace).
inline std::string_view next_token(std::string_view& s) {
  s = trim_left(s);
  size_t n = 0;
  while (n < s.size() && !is_space(s[n])) ++n;
  std::string_view tok = s.substr(0, n);
  s.remove_prefix(n);
  return tok;
}

// content_of returns `line` without surrounding whitespace, or nullopt for a blank or '#' comment
// line (`error` empty) and for a line longer than `max_len` bytes (`error` = "line too long").
inline std::optional<std::string_view> content_of(std::string_view line, size_t max_len,
                                                  std::string& error) {
  error.clear();
  if (line.size() > max_len) {
    error = "line too long";
    return std::nullopt;
  }
  line = trim_right(trim_left(line));
  if (line.empty() || line.front() == '#') return std::nullopt;
  return line;
}

// Calls fn(line, line_number) for each line of `contents` (1-based numbers, '\n' separated).
template <typename Fn>
void for_each_line(std::string_view contents, Fn&& fn) {
  size_t number = 0;
  while (!contents.empty()) {
    size_t nl = contents.find('\n');
    std::string_view line = contents.substr(0, nl);
    contents.remove_prefix(nl == std::string_view::npos ? contents.size() : nl + 1);
    if (!fn(line, ++number)) return;
  }
}

}  // namespace hashi::keys::line_util
