// Per-direction protection of the binary packet protocol: RFC 4253 section 6 (encrypt-and-MAC),
// OpenSSH's -etm@openssh.com MACs (PROTOCOL section 1.5), aes{128,256}-gcm@openssh.com (RFC 5647
// as OpenSSH implements it, PROTOCOL section 1.6) and chacha20-poly1305@openssh.com
// (PROTOCOL.chacha20poly1305).
//
// Packets are processed in place and no heap memory is allocated per packet: every OpenSSL context
// is created once, when the keys are installed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "wire/bytes.h"

namespace hashi::transport {

struct CipherInfo {
  std::string_view name;
  size_t key_len;
  size_t iv_len;
  size_t block_size;
  size_t tag_len;  // AEAD tag, 0 otherwise
  bool aead;
};
struct MacInfo {
  std::string_view name;
  size_t key_len;
  size_t tag_len;
  bool etm;
};

// find_cipher returns the table entry for `name`, or nullptr if unknown. Known: "none",
// "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
// "aes128-ctr", "aes192-ctr", "aes256-ctr".
const CipherInfo* find_cipher(std::string_view name);
// find_mac returns the table entry for `name`, or nullptr if unknown. Known: "none",
// "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1" and their "-etm@openssh.com" forms. (Whether
// hmac-sha1 is offered is the negotiation layer's policy.)
const MacInfo* find_mac(std::string_view name);
// Every name in the cipher / MAC tables, "none" included (config/algorithms.cpp's registry must
// name exactly the others).
std::vector<std::string_view> cipher_names();
std::vector<std::string_view> mac_names();

// Outbound direction. The caller formats the packet:
// [uint32 packet_length][byte padding_length][payload][random padding].
class PacketSealer {
 public:
  virtual ~PacketSealer() = default;
  // Padding multiple (8 for none/chacha, 16 for AES).
  virtual size_t block_size() const = 0;
  // True for etm/gcm/chacha: the 4 length bytes are excluded from the padding multiple, i.e.
  // packet_length % block_size() == 0; otherwise (4 + packet_length) % block_size() == 0.
  virtual bool length_excluded() const = 0;
  virtual size_t tag_len() const = 0;
  // seal encrypts `packet` (4 + packet_length bytes, correctly padded) in place and writes
  // tag_len() bytes to `tag`. `seq` is the packet's sequence number. Each call advances the
  // cipher state (CTR stream, GCM invocation counter), so packets must be sealed in order.
  virtual void seal(uint32_t seq, MutableByteView packet, MutableByteView tag) = 0;
};

// Inbound direction.
class PacketOpener {
 public:
  virtual ~PacketOpener() = default;
  virtual size_t block_size() const = 0;
  virtual size_t tag_len() const = 0;
  // Bytes needed before the packet length is known: 4 for none/etm/gcm/chacha, block_size for
  // CTR with a non-etm MAC.
  virtual size_t header_len() const = 0;
  // peek_length returns packet_length from the first header_len() bytes of the packet. For CTR
  // with a non-etm MAC it decrypts those bytes in place (open() then continues after them; calling
  // peek_length again for the same seq returns the same value without decrypting twice); for
  // chacha it decrypts a copy and leaves the ciphertext in place. It does not validate the value:
  // the caller bounds it before buffering that many bytes.
  virtual uint32_t peek_length(uint32_t seq, MutableByteView header) = 0;
  // open authenticates and decrypts the whole packet (4 + packet_length bytes, header included)
  // in place. It returns false if the tag does not verify, if the encrypted part is not a multiple
  // of block_size(), or if `packet`'s size does not match its length field; the caller must then
  // disconnect and must not use the bytes (they may be partly decrypted).
  [[nodiscard]] virtual bool open(uint32_t seq, MutableByteView packet, ByteView tag) = 0;
};

// make_sealer / make_opener build one direction's protection from the negotiated names and the
// derived keys. The MAC name and key are ignored for AEAD ciphers. Both return nullptr for unknown
// names or wrong key / IV / MAC-key lengths.
std::unique_ptr<PacketSealer> make_sealer(std::string_view cipher, std::string_view mac,
                                          ByteView key, ByteView iv, ByteView mac_key);
std::unique_ptr<PacketOpener> make_opener(std::string_view cipher, std::string_view mac,
                                          ByteView key, ByteView iv, ByteView mac_key);

}  // namespace hashi::transport
