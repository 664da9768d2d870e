// Lexical pieces shared by the ssh_config and sshd_config parsers: splitting a line into keyword
// and arguments as OpenSSH does (misc.c strdelim + argv_split), OpenSSH's pattern matching
// (match.c), and the value forms (yes/no, time intervals, scaled sizes).
//
// Nothing here does I/O. Files are reached through ConfigFileSource, so the parsers can be fed from
// memory (tests, fuzzing) or from the real file system.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// match_pattern reports whether `s` matches the shell-style `pattern` (`*` any run, `?` one
// character), case-sensitively, as OpenSSH's match_pattern.
bool match_pattern(std::string_view s, std::string_view pattern);

// match_pattern_list matches `s` against a comma-separated list of patterns, each optionally
// negated with a leading '!'. Returns 1 on a positive match, -1 if a negated pattern matched
// (which overrides everything), 0 on no match. With `lowercase`, `s` is lower-cased first (host
// names), as OpenSSH's match_hostname.
int match_pattern_list(std::string_view s, std::string_view pattern_list, bool lowercase);

// match_address_list matches an IP address against a comma-separated list of address patterns
// (wildcards or CIDR blocks such as 10.0.0.0/8 and 2001:db8::/32), each optionally negated with
// '!', as OpenSSH's addr_match_list: 1 positive match, -1 a negated pattern matched, 0 none.
int match_address_list(std::string_view address, std::string_view list);

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

}  // namespace hashi::config
