// Randomart: a port of fingerprint_randomart() from OpenSSH's sshkey.c. The walk and the frame
// must match ssh-keygen byte for byte, since users compare the pictures by eye.
#include "keys/randomart.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "keys/base64.h"

namespace hashi::keys {
namespace {

// The field is (2 * kFieldBase + 1) x (kFieldBase + 1): 17 x 9, as OpenSSH's FLDBASE 8.
constexpr int kFieldBase = 8;
constexpr int kFieldX = kFieldBase * 2 + 1;
constexpr int kFieldY = kFieldBase + 1;
// Symbols by visit count; the last two mark the start and end of the walk.
constexpr std::string_view kAugmentation = " .o+=*BOX@%&#/^SE";

// Writes '+', `label` centred in dashes as OpenSSH centres it, '+'. OpenSSH formats the label into
// a kFieldX-byte buffer with snprintf, so a label longer than kFieldX - 1 is cut there.
void border(std::string& out, std::string_view label) {
  if (label.size() > size_t(kFieldX - 1)) label = label.substr(0, kFieldX - 1);
  out += '+';
  size_t left = (size_t(kFieldX) - label.size()) / 2;
  out.append(left, '-');
  out += label;
  out.append(size_t(kFieldX) - left - label.size(), '-');
  out += '+';
}

}  // namespace

std::optional<FingerprintHash> fingerprint_hash_from_name(std::string_view name) {
  std::string lower;
  for (char c : name) lower += char(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "sha256") return FingerprintHash::kSha256;
  if (lower == "md5") return FingerprintHash::kMd5;
  return std::nullopt;
}

Bytes fingerprint_digest(const PublicKey& key, FingerprintHash hash) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  const EVP_MD* md = hash == FingerprintHash::kSha256 ? EVP_sha256() : EVP_md5();
  if (EVP_Digest(key.blob().data(), key.blob().size(), out.data(), &len, md, nullptr) != 1) {
    return {};
  }
  out.resize(len);
  return out;
}

std::string fingerprint(const PublicKey& key, FingerprintHash hash) {
  Bytes digest = fingerprint_digest(key, hash);
  if (hash == FingerprintHash::kSha256) return "SHA256:" + base64_encode(digest, false);
  std::string out = "MD5";
  char hex[4];
  for (uint8_t b : digest) {
    std::snprintf(hex, sizeof(hex), ":%02x", b);
    out += hex;
  }
  return out;
}

std::string_view key_type_label(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return "ED25519";
    case KeyType::kRsa:
      return "RSA";
    default:
      return "ECDSA";
  }
}

std::string randomart(ByteView digest, std::string_view hash_label, std::string_view type_label,
                      size_t bits) {
  const int len = int(kAugmentation.size()) - 1;
  std::array<std::array<int, kFieldY>, kFieldX> field{};
  int x = kFieldX / 2, y = kFieldY / 2;
  for (uint8_t byte : digest) {
    unsigned input = byte;
    // Each byte is four 2-bit moves, low bits first: bit 0 is x, bit 1 is y.
    for (int step = 0; step < 4; ++step) {
      x += (input & 0x1) ? 1 : -1;
      y += (input & 0x2) ? 1 : -1;
      x = std::clamp(x, 0, kFieldX - 1);
      y = std::clamp(y, 0, kFieldY - 1);
      if (field[size_t(x)][size_t(y)] < len - 2) ++field[size_t(x)][size_t(y)];
      input >>= 2;
    }
  }
  field[kFieldX / 2][kFieldY / 2] = len - 1;
  field[size_t(x)][size_t(y)] = len;

  std::string title = "[" + std::string(type_label) + " " + std::to_string(bits) + "]";
  // OpenSSH falls back to "[TYPE]" only when the full title would not fit even truncated.
  if (title.size() > size_t(kFieldX)) title = "[" + std::string(type_label) + "]";
  std::string out;
  border(out, title);
  out += '\n';
  for (int row = 0; row < kFieldY; ++row) {
    out += '|';
    for (int col = 0; col < kFieldX; ++col) {
      out += kAugmentation[size_t(std::min(field[size_t(col)][size_t(row)], len))];
    }
    out += "|\n";
  }
  border(out, "[" + std::string(hash_label) + "]");
  return out;
}

std::string randomart_for_key(const PublicKey& key, FingerprintHash hash) {
  return randomart(fingerprint_digest(key, hash), hash == FingerprintHash::kSha256 ? "SHA256" : "MD5",
                   key_type_label(key.type()), key.bits());
}

}  // namespace hashi::keys
