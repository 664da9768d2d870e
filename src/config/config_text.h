// Lexical pieces shared by the ssh_config and sshd_config parsers: splitting a line into keyword
// and arguments as OpenSSH does (misc.c strdelim + argv_split), OpenSSH's pattern matching
// (match.c), and the value forms (yes/no, time intervals, scaled sizes).
//
// Nothing here does I/O. Files are reached through ConfigFileSource, so the parsers can be fed from
// memory (tests, fuzzing) or from the real file system.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/pattern.h"

namespace hashi::config {

// A config file larger than this is refused: real ones are a few KiB, and a bound keeps a mistaken
// Include of a huge or endless file (/dev/zero) from costing memory or time.
inline constexpr size_t kMaxConfigFileLen = 1024 * 1024;
// Include nesting limit (OpenSSH READCONF_MAX_DEPTH / SERVCONF_MAX_DEPTH).
inline constexpr int kMaxIncludeDepth = 16;
// Upper bound on the files one Include may pull in, so a glob over a huge directory stays cheap.
inline constexpr size_t kMaxIncludeFiles = 256;
// Upper bound on the lines one parse reads across all its files: Include may name the same file
// twice per level, so without a total the work could grow as 2^kMaxIncludeDepth.
inline constexpr size_t kMaxTotalLines = 20000;
// Upper bound on the arguments of one line (OpenSSH's argv_split is unbounded; a long line of
// single-character words would otherwise cost a vector entry per byte for no real config).
inline constexpr size_t kMaxLineArgs = 4096;

// One configuration line split into its keyword and arguments.
struct ConfigLine {
  std::string keyword;            // as written (callers compare case-insensitively)
  std::vector<std::string> args;  // quotes and escapes removed; stops at an unquoted '#' word
  std::string raw_rest;           // the text after the keyword and its separator, untouched
};

// split_config_line splits `line` as OpenSSH does. Returns true and fills `out` for a line with a
// keyword; returns true with an empty `out.keyword` for a blank or comment line; returns false and
// sets `error` ("invalid quotes", "no argument after keyword \"k\"") otherwise.
[[nodiscard]] bool split_config_line(std::string_view line, ConfigLine& out, std::string& error);

// ASCII lower-casing (config keywords and host names are ASCII).
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

// The OpenSSH pattern matchers (match_pattern, match_pattern_list, match_address_list) live in
// wire/pattern.h, shared with keys/ and server/.
using hashi::match_address_list;
using hashi::match_pattern;
using hashi::match_pattern_list;

// parse_yes_no: "yes"/"true" -> true, "no"/"false" -> false (case-insensitive), else nullopt.
std::optional<bool> parse_yes_no(std::string_view s);

// parse_time_interval parses OpenSSH's time format (misc.c convtime): a sum of numbers each with an
// optional s/m/h/d/w suffix ("90", "1h30m"). Returns seconds, nullopt on bad syntax or overflow.
std::optional<uint64_t> parse_time_interval(std::string_view s);

// parse_scaled_size parses a byte count with an optional K/M/G/T suffix (powers of 1024,
// case-insensitive). Returns nullopt on bad syntax or overflow.
std::optional<uint64_t> parse_scaled_size(std::string_view s);

// parse_uint parses a decimal number in [min, max].
std::optional<uint64_t> parse_uint(std::string_view s, uint64_t min, uint64_t max);

// Where the parsers get files from. The real implementation reads the file system; tests and the
// fuzzer use MemoryFileSource.
class ConfigFileSource {
 public:
  virtual ~ConfigFileSource() = default;
  // Returns the contents of `path`, or nullopt if it cannot be read (then `missing` tells whether
  // it simply does not exist, and `error` says why otherwise).
  virtual std::optional<std::string> read(const std::string& path, bool& missing,
                                          std::string& error) const = 0;
  // Returns the paths matching the glob `pattern`, sorted, at most kMaxIncludeFiles of them.
  virtual std::vector<std::string> glob(const std::string& pattern) const = 0;
};

// The process-wide real file system source (stateless).
const ConfigFileSource& system_file_source();

// An in-memory file system: a map from absolute path to contents. glob() matches each stored path
// against the pattern with match_pattern (so '*' may also cross '/', unlike glob(3)).
class MemoryFileSource : public ConfigFileSource {
 public:
  std::map<std::string, std::string> files;
  std::optional<std::string> read(const std::string& path, bool& missing,
                                  std::string& error) const override;
  std::vector<std::string> glob(const std::string& pattern) const override;
};

// Splits file contents into lines (LF or CRLF).
std::vector<std::string_view> split_lines(std::string_view text);

// find_keyword returns the entry of `table` (any range of structs with a `name`) whose name equals
// `name` case-insensitively, or nullptr. Shared by the ssh_config and sshd_config tables.
template <typename Table>
auto find_keyword(const Table& table, std::string_view name) -> decltype(&*std::begin(table)) {
  for (const auto& entry : table) {
    if (iequals(name, entry.name)) {
      return &entry;
    }
  }
  return nullptr;
}

// match_choice matches `value` against "a|b=canon|c" (case-insensitive) and returns the canonical
// spelling of the matching item (the part after '=', else the item itself); nullopt if none.
std::optional<std::string> match_choice(std::string_view value, std::string_view choices);

}  // namespace hashi::config
