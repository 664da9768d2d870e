// Finite-field Diffie-Hellman groups: the RFC 3526 MODP groups used by diffie-hellman-group14/16/18
// (RFC 8268), and group choice / checks for diffie-hellman-group-exchange-sha256 (RFC 4419).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "wire/bytes.h"

namespace hashi::crypto {

// A group as unsigned big-endian magnitudes; views into static storage that lives for the whole
// program.
struct DhGroup {
  ByteView p;
  ByteView g;
  size_t bits;
};

// Smallest group we ever offer or accept in group exchange (RFC 8270).
inline constexpr uint32_t kMinGexBits = 2048;
// Largest group size a gex request may name (RFC 4419 section 3 suggests 8192).
inline constexpr uint32_t kMaxGexBits = 8192;

// modp_group returns RFC 3526 group `rfc3526_id` (14 = 2048, 15 = 3072, 16 = 4096, 17 = 6144,
// 18 = 8192 bits; generator 2). Any other id is a programming error and aborts; use
// find_modp_group for a checked lookup.
const DhGroup& modp_group(int rfc3526_id);
// find_modp_group returns the group or nullptr for an unknown id.
const DhGroup* find_modp_group(int rfc3526_id);

// choose_gex_group is the server side of RFC 4419 section 3: for a request (min, n, max) it returns
// the smallest built-in group with bits >= n inside [max(min, 2048), max]; failing that, the
// largest group inside that range. Returns std::nullopt (the server then disconnects) when the
// request is inconsistent (min > n or n > max) or no group fits.
std::optional<DhGroup> choose_gex_group(uint32_t min, uint32_t n, uint32_t max);

// gex_group_acceptable is the client-side check of a KEX_DH_GEX_GROUP: p's bit size within
// [min, max], p odd, g in [2, p-2]. Cheap checks only; no primality test. `p` and `g` are the
// magnitudes from Reader::mpint_positive (no leading zero).
bool gex_group_acceptable(ByteView p, ByteView g, uint32_t min, uint32_t max);

}  // namespace hashi::crypto
