// Base64 (RFC 4648 section 4) as used in public-key lines, known_hosts and fingerprints.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "wire/bytes.h"

namespace hashi::keys {

// base64_encode returns the standard-alphabet encoding of `data`, with '=' padding when `pad`.
std::string base64_encode(ByteView data, bool pad = true);

// base64_decode decodes standard-alphabet base64. Padding is optional, but if present it must be
// correct and final. Whitespace or any other character outside the alphabet gives nullopt.
std::optional<Bytes> base64_decode(std::string_view text);

}  // namespace hashi::keys
