// Fuzz target for the identification-string exchange (RFC 4253 section 4.2): the input goes to a
// transport::VersionReader in both roles, cut into pieces whose sizes come from the first bytes.
// Must never crash, must consume only what it was given, and must keep to its limits (line
// length, lines before the version); the same input cut differently must give the same outcome.
#include <cstddef>
#include <cstdint>
#include <string>

#include "transport/version.h"

namespace {

using hashi::ByteView;
using namespace hashi::transport;

// Number of leading bytes that choose the split points.
constexpr size_t kSplitBytes = 4;

struct Outcome {
  bool ok = true;
  bool done = false;
  size_t consumed = 0;  // bytes used up to the version line's end (or the error)
  std::string version;
};

// Feeds `in` in pieces: piece i has length 1 + splits[i % n] (0 for "the rest at once").
Outcome run(Role role, ByteView in, ByteView splits) {
  VersionReader reader(role);
  Outcome o;
  size_t pos = 0;
  size_t i = 0;
  while (pos < in.size()) {
    size_t piece = in.size() - pos;
    if (!splits.empty()) {
      const uint8_t s = splits[i++ % splits.size()];
      if (s != 0) piece = std::min(piece, size_t{s});
    }
    size_t used = 0;
    Status st = reader.feed(in.subspan(pos, piece), used);
    if (used > piece) __builtin_trap();
    pos += used;
    if (!st) {
      o.ok = false;
      break;
    }
    if (reader.done()) {
      break;
    }
    // Not done and no error: the reader must have taken the whole piece.
    if (used != piece) __builtin_trap();
  }
  o.done = reader.done();
  o.consumed = pos;
  o.version = reader.version();
  if (o.done) {
    if (o.version.size() > kMaxIdentLineLen) __builtin_trap();
    if (o.version.rfind("SSH-2.0-", 0) != 0 && o.version.rfind("SSH-1.99-", 0) != 0) {
      __builtin_trap();
    }
    if (o.version.find('\n') != std::string::npos) __builtin_trap();
  } else if (!o.version.empty()) {
    __builtin_trap();
  }
  // The version line can be no longer than the limit, and a client gives up after
  // kMaxPreVersionLines lines; neither can consume more than these bounds allow.
  const size_t max_consumed =
      (role == Role::kClient ? kMaxPreVersionLines + 1 : 1) * (kMaxIdentLineLen + 1) + 1;
  if (o.consumed > max_consumed) __builtin_trap();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kSplitBytes) {
    return 0;
  }
  const ByteView splits(data, kSplitBytes);
  const ByteView in(data + kSplitBytes, size - kSplitBytes);
  for (Role role : {Role::kClient, Role::kServer}) {
    const Outcome whole = run(role, in, {});
    const Outcome pieces = run(role, in, splits);
    // Where the input is cut must not change what the reader decides.
    if (whole.ok != pieces.ok || whole.done != pieces.done || whole.version != pieces.version) {
      __builtin_trap();
    }
    if (whole.done && whole.consumed != pieces.consumed) __builtin_trap();
  }
  return 0;
}

#ifdef HASHI_FUZZ_GENERATE_SEEDS
#include <cstdio>
#include <utility>
#include <vector>
// Writes seeds: 4 split bytes followed by identification exchanges seen in the wild.
int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
    return 2;
  }
  using namespace std::string_literals;  // the seeds hold NUL bytes
  const std::vector<std::pair<const char*, std::string>> seeds = {
      {"openssh", "\x01\x03\x07\x00SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"s},
      {"putty", "\x05\x00\x02\x09SSH-2.0-PuTTY_Release_0.78\r\n\x00\x00\x01\x14\x0a\x14"s},
      {"banner",
       "\x02\x02\x02\x02Welcome to the lab\r\nAuthorized use only\r\n\r\n"
       "SSH-2.0-dropbear_2022.83\r\n"s},
      {"ssh199", "\x10\x01\x00\x03SSH-1.99-Cisco-1.25\n"s},
      {"ssh1", "\x00\x00\x00\x00SSH-1.5-OldServer\r\n"s},
  };
  for (const auto& [name, bytes] : seeds) {
    const std::string path = std::string(argv[1]) + "/" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
      return 1;
    }
    std::fclose(f);
  }
  return 0;
}
#endif
