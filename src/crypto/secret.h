// Secrets: a byte buffer that wipes itself when released, and constant-time comparison.
#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "wire/bytes.h"

namespace hashi {

// SecretBytes holds key material; its storage is wiped (OPENSSL_cleanse) whenever it is released,
// including on reallocation, so no copy of a secret is left behind in freed memory.
template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) {}
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) {
    OPENSSL_cleanse(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const { return true; }
};
using SecretBytes = std::vector<uint8_t, WipingAllocator<uint8_t>>;

inline ByteView view(const SecretBytes& s) { return {s.data(), s.size()}; }

// Constant-time equality of two byte strings (the lengths are not secret).
inline bool equal_ct(ByteView a, ByteView b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace hashi
