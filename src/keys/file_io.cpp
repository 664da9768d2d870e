#include "keys/file_io.h"

#include <fstream>

namespace hashi::keys {

std::optional<std::string> read_small_file(const std::string& path, size_t max_len) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string out;
  char buf[64 * 1024];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    out.append(buf, size_t(in.gcount()));
    if (out.size() > max_len) return std::nullopt;
  }
  return out;
}

}  // namespace hashi::keys
