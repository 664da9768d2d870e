// Algorithm negotiation: the KEXINIT message (RFC 4253 section 7.1) and the choice it leads to.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "transport/status.h"
#include "wire/bytes.h"

namespace hashi::transport {

// Pseudo-algorithms signalled in the kex list (never negotiated as a method).
inline constexpr std::string_view kExtInfoClient = "ext-info-c";   // RFC 8308
inline constexpr std::string_view kExtInfoServer = "ext-info-s";
inline constexpr std::string_view kStrictKexClient = "kex-strict-c-v00@openssh.com";
inline constexpr std::string_view kStrictKexServer = "kex-strict-s-v00@openssh.com";

// SSH_MSG_KEXINIT, RFC 4253 section 7.1.
struct KexInit {
  static constexpr uint8_t kType = 20;
  std::array<uint8_t, 16> cookie{};
  std::vector<std::string> kex;
  std::vector<std::string> host_key;
  std::vector<std::string> cipher_c2s, cipher_s2c;
  std::vector<std::string> mac_c2s, mac_s2c;
  std::vector<std::string> compression_c2s, compression_s2c;
  std::vector<std::string> language_c2s, language_s2c;
  bool first_kex_packet_follows = false;
  uint32_t reserved = 0;

  void encode(Bytes& out) const;
  // Decodes a whole KEXINIT payload (message number included); false on malformed input or
  // trailing bytes.
  [[nodiscard]] static bool decode(ByteView payload, KexInit& out);

  bool offers(std::string_view kex_name) const;
};

// The algorithms chosen for one key exchange, per direction.
struct Negotiated {
  std::string kex;
  std::string host_key;
  std::string cipher_c2s, cipher_s2c;
  std::string mac_c2s, mac_s2c;  // empty for AEAD ciphers (their MAC is implicit)
  std::string compression_c2s, compression_s2c;
};

// Chooses, for each list, the first client algorithm the server also offers (RFC 4253 section
// 7.1). `is_aead(cipher)` tells when the MAC is implicit. Pseudo-algorithms (ext-info, strict
// kex) never win the kex choice. On failure the error names the list with no common algorithm.
std::optional<Negotiated> negotiate(const KexInit& client, const KexInit& server,
                                    bool (*is_aead)(std::string_view), std::string& error);

// True when the peer's guessed key-exchange packet (first_kex_packet_follows, RFC 4253 section
// 7) must be ignored: the two sides' preferred (first) kex or host-key algorithms differ. Both
// sides apply this same rule (OpenSSH's proposals_match, Dropbear's "goodguess"), so the peer
// knows to send its packet again.
bool guess_was_wrong(const KexInit& peer, const KexInit& ours);

}  // namespace hashi::transport
