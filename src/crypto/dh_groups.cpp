#include "crypto/dh_groups.h"

#include <openssl/bn.h>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace hashi::crypto {
namespace {

// The RFC 3526 primes are taken from OpenSSL's own copies (BN_get_rfc3526_prime_*) rather than
// transcribed by hand; tests check their well-known leading and trailing words and sizes.
struct StoredGroup {
  int id;
  Bytes p;
  DhGroup group;
};

const uint8_t kGenerator2[] = {2};

Bytes prime_bytes(BIGNUM* (*get)(BIGNUM*)) {
  BIGNUM* bn = get(nullptr);
  if (bn == nullptr) {
    std::abort();
  }
  Bytes out(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_free(bn);
  return out;
}

struct Table {
  std::array<StoredGroup, 5> groups;
  Table()
      : groups{{{14, prime_bytes(BN_get_rfc3526_prime_2048), {}},
                {15, prime_bytes(BN_get_rfc3526_prime_3072), {}},
                {16, prime_bytes(BN_get_rfc3526_prime_4096), {}},
                {17, prime_bytes(BN_get_rfc3526_prime_6144), {}},
                {18, prime_bytes(BN_get_rfc3526_prime_8192), {}}}} {
    for (auto& s : groups) {
      s.group = DhGroup{ByteView(s.p), ByteView(kGenerator2, 1), s.p.size() * 8};
    }
  }
};

const Table& table() {
  static const Table t;  // Initialized once, thread-safe; immutable afterwards.
  return t;
}

size_t bit_len(ByteView magnitude) {
  size_t i = 0;
  while (i < magnitude.size() && magnitude[i] == 0) {
    ++i;
  }
  if (i == magnitude.size()) {
    return 0;
  }
  size_t bits = (magnitude.size() - i) * 8;
  for (uint8_t top = magnitude[i]; (top & 0x80) == 0; top = uint8_t(top << 1)) {
    --bits;
  }
  return bits;
}

}  // namespace

const DhGroup* find_modp_group(int rfc3526_id) {
  for (const auto& s : table().groups) {
    if (s.id == rfc3526_id) {
      return &s.group;
    }
  }
  return nullptr;
}

const DhGroup& modp_group(int rfc3526_id) {
  const DhGroup* g = find_modp_group(rfc3526_id);
  if (g == nullptr) {
    std::abort();
  }
  return *g;
}

std::optional<DhGroup> choose_gex_group(uint32_t min, uint32_t n, uint32_t max) {
  if (min > n || n > max) {
    return std::nullopt;
  }
  const uint64_t lo = std::max<uint64_t>(min, kMinGexBits);
  const uint64_t hi = max;
  const DhGroup* best = nullptr;
  // Groups are stored in increasing size: the first one >= n in range wins.
  for (const auto& s : table().groups) {
    if (s.group.bits >= lo && s.group.bits <= hi && s.group.bits >= n) {
      return s.group;
    }
  }
  for (const auto& s : table().groups) {
    if (s.group.bits >= lo && s.group.bits <= hi) {
      best = &s.group;  // Largest that fits.
    }
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  return *best;
}

bool gex_group_acceptable(ByteView p, ByteView g, uint32_t min, uint32_t max) {
  const size_t p_bits = bit_len(p);
  if (p_bits < min || p_bits > max || p_bits < 2 || (p.back() & 1) == 0) {
    return false;
  }
  BIGNUM* bp = BN_bin2bn(p.data(), static_cast<int>(p.size()), nullptr);
  BIGNUM* bg = BN_bin2bn(g.data(), static_cast<int>(g.size()), nullptr);
  bool ok = false;
  if (bp != nullptr && bg != nullptr && BN_sub_word(bp, 1) == 1) {
    // g in [2, p-2]  <=>  g > 1 and g < p-1.
    ok = BN_cmp(bg, BN_value_one()) > 0 && BN_cmp(bg, bp) < 0;
  }
  BN_free(bp);
  BN_free(bg);
  return ok;
}

}  // namespace hashi::crypto
