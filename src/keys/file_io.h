// Reading the small text files OpenSSH keeps keys in (known_hosts, key files), whole.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace hashi::keys {

// read_small_file returns the contents of `path`. Returns nullopt if it cannot be opened or is
// longer than `max_len` bytes; errno is then as the failed open left it (a file that is too long
// leaves it unchanged).
std::optional<std::string> read_small_file(const std::string& path, size_t max_len);

}  // namespace hashi::keys
