#include "transport/kexinit.h"

#include <algorithm>

#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::transport {

void KexInit::encode(Bytes& out) const {
  wire::Writer w(out);
  w.u8(kType).raw(ByteView(cookie));
  w.name_list(kex).name_list(host_key);
  w.name_list(cipher_c2s).name_list(cipher_s2c);
  w.name_list(mac_c2s).name_list(mac_s2c);
  w.name_list(compression_c2s).name_list(compression_s2c);
  w.name_list(language_c2s).name_list(language_s2c);
  w.boolean(first_kex_packet_follows).u32(reserved);
}

bool KexInit::decode(ByteView payload, KexInit& out) {
  wire::Reader r(payload);
  uint8_t type;
  ByteView cookie;
  KexInit k;
  if (!r.u8(type) || type != kType || !r.bytes(16, cookie)) return false;
  std::copy(cookie.begin(), cookie.end(), k.cookie.begin());
  if (!r.name_list(k.kex) || !r.name_list(k.host_key) || !r.name_list(k.cipher_c2s) ||
      !r.name_list(k.cipher_s2c) || !r.name_list(k.mac_c2s) || !r.name_list(k.mac_s2c) ||
      !r.name_list(k.compression_c2s) || !r.name_list(k.compression_s2c) ||
      !r.name_list(k.language_c2s) || !r.name_list(k.language_s2c) ||
      !r.boolean(k.first_kex_packet_follows) || !r.u32(k.reserved) || !r.empty()) {
    return false;
  }
  out = std::move(k);
  return true;
}

bool KexInit::offers(std::string_view name) const {
  return std::find(kex.begin(), kex.end(), name) != kex.end();
}

namespace {

bool is_pseudo_kex(std::string_view name) {
  return name == kExtInfoClient || name == kExtInfoServer || name == kStrictKexClient ||
         name == kStrictKexServer;
}

std::optional<std::string> first_common(const std::vector<std::string>& client,
                                        const std::vector<std::string>& server,
                                        bool skip_pseudo = false) {
  for (const auto& c : client) {
    if (skip_pseudo && is_pseudo_kex(c)) continue;
    if (std::find(server.begin(), server.end(), c) != server.end()) return c;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Negotiated> negotiate(const KexInit& c, const KexInit& s,
                                    bool (*is_aead)(std::string_view), std::string& error) {
  Negotiated n;
  auto pick = [&](const std::vector<std::string>& cl, const std::vector<std::string>& sl,
                  const char* what, std::string& out, bool skip_pseudo = false) {
    auto v = first_common(cl, sl, skip_pseudo);
    if (!v) {
      error = std::string("no matching ") + what + " found. Their offer: " + [&] {
        std::string list;
        for (size_t i = 0; i < sl.size(); ++i) list += (i ? "," : "") + sl[i];
        return list;
      }();
      return false;
    }
    out = *v;
    return true;
  };
  // The offers are always seen as "client list first": `sl` is the server's list in messages.
  if (!pick(c.kex, s.kex, "key exchange method", n.kex, true)) return std::nullopt;
  if (!pick(c.host_key, s.host_key, "host key type", n.host_key)) return std::nullopt;
  if (!pick(c.cipher_c2s, s.cipher_c2s, "cipher (client to server)", n.cipher_c2s))
    return std::nullopt;
  if (!pick(c.cipher_s2c, s.cipher_s2c, "cipher (server to client)", n.cipher_s2c))
    return std::nullopt;
  if (!is_aead(n.cipher_c2s) && !pick(c.mac_c2s, s.mac_c2s, "MAC (client to server)", n.mac_c2s))
    return std::nullopt;
  if (!is_aead(n.cipher_s2c) && !pick(c.mac_s2c, s.mac_s2c, "MAC (server to client)", n.mac_s2c))
    return std::nullopt;
  if (!pick(c.compression_c2s, s.compression_c2s, "compression (client to server)",
            n.compression_c2s) ||
      !pick(c.compression_s2c, s.compression_s2c, "compression (server to client)",
            n.compression_s2c)) {
    return std::nullopt;
  }
  return n;
}

bool guess_was_wrong(const KexInit& peer, const KexInit& ours) {
  if (!peer.first_kex_packet_follows) return false;
  auto first_differs = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return a.empty() || b.empty() || a.front() != b.front();
  };
  return first_differs(peer.kex, ours.kex) || first_differs(peer.host_key, ours.host_key);
}

}  // namespace hashi::transport
