#include "session/hostkeys.h"

#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::session {

Bytes encode_hostkeys(const std::vector<keys::PublicKey>& keys) {
  Bytes out;
  wire::Writer w(out);
  for (const auto& k : keys) w.string(ByteView(k.blob()));
  return out;
}

std::optional<std::vector<keys::PublicKey>> parse_hostkeys(ByteView data,
                                                           size_t& num_unsupported) {
  num_unsupported = 0;
  std::vector<keys::PublicKey> out;
  wire::Reader r(data);
  while (!r.empty()) {
    ByteView blob;
    if (!r.string(blob)) return std::nullopt;
    if (out.size() + num_unsupported >= kMaxAnnouncedHostKeys) return std::nullopt;
    wire::Reader br(blob);
    std::string_view type;
    if (!br.string(type)) return std::nullopt;
    if (!keys::key_type_from_name(type)) {
      ++num_unsupported;  // a type we do not know (certificates, sk keys, ...)
      continue;
    }
    auto key = keys::PublicKey::from_blob(blob);
    if (!key) return std::nullopt;
    for (const auto& k : out) {
      if (k == *key) return std::nullopt;
    }
    out.push_back(std::move(*key));
  }
  return out;
}

Bytes hostkeys_prove_data(ByteView session_id, ByteView blob) {
  Bytes out;
  wire::Writer w(out);
  w.string(kHostkeysProveRequest).string(session_id).string(blob);
  return out;
}

std::string hostkeys_prove_algorithm(keys::KeyType type, std::string_view negotiated) {
  if (type == keys::KeyType::kRsa) {
    if (negotiated == "rsa-sha2-256" || negotiated == "rsa-sha2-512") return std::string(negotiated);
    return "rsa-sha2-512";
  }
  return std::string(keys::signature_algorithms(type).front());
}

bool verify_hostkeys_proof(const std::vector<keys::PublicKey>& keys, ByteView session_id,
                           ByteView reply, bool allow_rsa_sha1) {
  wire::Reader r(reply);
  for (const auto& key : keys) {
    ByteView sig;
    if (!r.string(sig)) return false;
    wire::Reader sr(sig);
    std::string_view alg;
    if (!sr.string(alg)) return false;
    if (key.type() == keys::KeyType::kRsa) {
      bool sha1_ok = allow_rsa_sha1 && alg == "ssh-rsa";
      if (alg != "rsa-sha2-256" && alg != "rsa-sha2-512" && !sha1_ok) return false;
    } else if (alg != keys::signature_algorithms(key.type()).front()) {
      return false;
    }
    if (!key.verify(alg, hostkeys_prove_data(session_id, key.blob()), sig)) return false;
  }
  return r.empty();
}

Bytes hostkeys_announcement(const HostKeyList& host_keys) {
  std::vector<keys::PublicKey> pubs;
  for (const auto& k : host_keys) pubs.push_back(k->public_key());
  return encode_hostkeys(pubs);
}

std::optional<Bytes> prove_hostkeys(const HostKeyList& host_keys, ByteView request_data,
                                    ByteView session_id, std::string_view negotiated) {
  size_t unsupported = 0;
  auto wanted = parse_hostkeys(request_data, unsupported);
  if (!wanted || wanted->empty() || unsupported != 0) return std::nullopt;
  Bytes out;
  wire::Writer w(out);
  for (const auto& key : *wanted) {
    const keys::PrivateKey* ours = nullptr;
    for (const auto& k : host_keys) {
      if (k->public_key() == key) ours = k.get();
    }
    if (!ours) return std::nullopt;
    std::string alg = hostkeys_prove_algorithm(key.type(), negotiated);
    Bytes sig = ours->sign(alg, hostkeys_prove_data(session_id, key.blob()));
    if (sig.empty()) return std::nullopt;
    w.string(ByteView(sig));
  }
  return out;
}

}  // namespace hashi::session
