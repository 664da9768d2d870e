#include "server/hostkeys_prove.h"

#include "client/hostkeys_update.h"
#include "wire/writer.h"

namespace hashi::server {

Bytes hostkeys_announcement(const HostKeyList& host_keys) {
  std::vector<keys::PublicKey> pubs;
  for (const auto& k : host_keys) pubs.push_back(k->public_key());
  return client::encode_hostkeys(pubs);
}

std::optional<Bytes> prove_hostkeys(const HostKeyList& host_keys, ByteView request_data,
                                    ByteView session_id, std::string_view negotiated) {
  size_t unsupported = 0;
  auto wanted = client::parse_hostkeys(request_data, unsupported);
  if (!wanted || wanted->empty() || unsupported != 0) return std::nullopt;
  Bytes out;
  wire::Writer w(out);
  for (const auto& key : *wanted) {
    const keys::PrivateKey* ours = nullptr;
    for (const auto& k : host_keys) {
      if (k->public_key() == key) ours = k.get();
    }
    if (!ours) return std::nullopt;
    std::string alg = client::hostkeys_prove_algorithm(key.type(), negotiated);
    Bytes sig = ours->sign(alg, client::hostkeys_prove_data(session_id, key.blob()));
    if (sig.empty()) return std::nullopt;
    w.string(ByteView(sig));
  }
  return out;
}

}  // namespace hashi::server
