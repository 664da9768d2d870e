#include "transport/kex.h"

#include <array>

#include "crypto/secret.h"
#include "crypto/dh_groups.h"
#include "crypto/mlkem768.h"
#include "crypto/sntrup761.h"
#include "wire/messages.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::transport {

namespace {

using crypto::HashAlg;

constexpr std::array kMethods = {
    KexMethodInfo{"mlkem768x25519-sha256", KexFamily::kHybrid, HashAlg::kSha256, true,
                  crypto::Curve::kP256, 0, &crypto::mlkem768},
    KexMethodInfo{"sntrup761x25519-sha512", KexFamily::kHybrid, HashAlg::kSha512, true,
                  crypto::Curve::kP256, 0, &crypto::sntrup761},
    KexMethodInfo{"sntrup761x25519-sha512@openssh.com", KexFamily::kHybrid, HashAlg::kSha512, true,
                  crypto::Curve::kP256, 0, &crypto::sntrup761},
    KexMethodInfo{"curve25519-sha256", KexFamily::kEcdh, HashAlg::kSha256, true},
    KexMethodInfo{"curve25519-sha256@libssh.org", KexFamily::kEcdh, HashAlg::kSha256, true},
    KexMethodInfo{"ecdh-sha2-nistp256", KexFamily::kEcdh, HashAlg::kSha256, false,
                  crypto::Curve::kP256},
    KexMethodInfo{"ecdh-sha2-nistp384", KexFamily::kEcdh, HashAlg::kSha384, false,
                  crypto::Curve::kP384},
    KexMethodInfo{"ecdh-sha2-nistp521", KexFamily::kEcdh, HashAlg::kSha512, false,
                  crypto::Curve::kP521},
    KexMethodInfo{"diffie-hellman-group14-sha256", KexFamily::kDhGroup, HashAlg::kSha256, false,
                  crypto::Curve::kP256, 14},
    KexMethodInfo{"diffie-hellman-group16-sha512", KexFamily::kDhGroup, HashAlg::kSha512, false,
                  crypto::Curve::kP256, 16},
    KexMethodInfo{"diffie-hellman-group18-sha512", KexFamily::kDhGroup, HashAlg::kSha512, false,
                  crypto::Curve::kP256, 18},
    KexMethodInfo{"diffie-hellman-group-exchange-sha256", KexFamily::kDhGex, HashAlg::kSha256},
};

// Private exponent size for finite-field DH: twice the 256-bit security level of the strongest
// cipher we use, as OpenSSH sizes it.
constexpr size_t kDhExponentBits = 512;

Status kex_failed(std::string why) {
  return Status::fail(msg::DisconnectReason::kKeyExchangeFailed, std::move(why));
}

void append_mpint_secret(SecretBytes& out, ByteView magnitude) {
  Bytes tmp;
  wire::Writer(tmp).mpint(magnitude);
  out.assign(tmp.begin(), tmp.end());
  OPENSSL_cleanse(tmp.data(), tmp.size());
}

}  // namespace

std::vector<std::string_view> kex_method_names() {
  std::vector<std::string_view> out;
  for (const auto& m : kMethods) {
    out.push_back(m.name);
  }
  return out;
}

const KexMethodInfo* find_kex_method(std::string_view name) {
  for (const auto& m : kMethods) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

KeyExchange::KeyExchange(const KexMethodInfo& method, KexTranscript transcript)
    : method_(method), transcript_(std::move(transcript)) {}

KeyExchange::~KeyExchange() = default;

std::unique_ptr<KeyExchange> KeyExchange::client(const KexMethodInfo& method,
                                                 KexTranscript transcript,
                                                 std::string host_key_algorithm, GexRequest gex) {
  std::unique_ptr<KeyExchange> k(new KeyExchange(method, std::move(transcript)));
  k->host_key_algorithm_ = std::move(host_key_algorithm);
  k->gex_ = gex;
  return k;
}

std::unique_ptr<KeyExchange> KeyExchange::server(const KexMethodInfo& method,
                                                 KexTranscript transcript,
                                                 keys::PublicKey host_key,
                                                 std::string host_key_algorithm) {
  std::unique_ptr<KeyExchange> k(new KeyExchange(method, std::move(transcript)));
  k->is_server_ = true;
  k->host_key_ = std::move(host_key);
  k->host_key_algorithm_ = std::move(host_key_algorithm);
  k->step_ = method.family == KexFamily::kDhGex ? Step::kAwaitGexRequest : Step::kAwaitInit;
  return k;
}

void KeyExchange::start(std::vector<Bytes>& out) {
  if (is_server_ || step_ != Step::kStart) return;
  Bytes m;
  wire::Writer w(m);
  switch (method_.family) {
    case KexFamily::kEcdh:
      agreement_ = method_.x25519 ? crypto::make_x25519() : crypto::make_ecdh(method_.curve);
      w.u8(msg::kKexdhInit).string(agreement_->public_value());
      step_ = Step::kAwaitReply;
      break;
    case KexFamily::kDhGroup: {
      const auto& g = crypto::modp_group(method_.modp_group);
      agreement_ = crypto::make_dh(g.p, g.g, kDhExponentBits);
      w.u8(msg::kKexdhInit).mpint(agreement_->public_value());
      step_ = Step::kAwaitReply;
      break;
    }
    case KexFamily::kDhGex:
      w.u8(msg::kKexDhGexRequest).u32(gex_.min).u32(gex_.preferred).u32(gex_.max);
      step_ = Step::kAwaitGroup;
      break;
    case KexFamily::kHybrid: {
      // C_INIT: string C_PK2 || C_PK1 (the KEM public key, then our X25519 key).
      agreement_ = crypto::make_x25519();
      method_.kem().keypair(kem_public_, kem_secret_);
      Bytes c = kem_public_;
      c.insert(c.end(), agreement_->public_value().begin(), agreement_->public_value().end());
      w.u8(msg::kKexdhInit).string(c);
      step_ = Step::kAwaitReply;
      break;
    }
  }
  out.push_back(std::move(m));
}

Status KeyExchange::on_message(ByteView payload, std::vector<Bytes>& out) {
  uint8_t type = payload.empty() ? 0 : payload[0];
  if (done_) return Status::protocol_error("key exchange already finished");
  switch (step_) {
    case Step::kAwaitGroup:
      if (type == msg::kKexDhGexGroup) return client_on_group(payload, out);
      break;
    case Step::kAwaitReply:
      if ((method_.family == KexFamily::kDhGex && type == msg::kKexDhGexReply) ||
          (method_.family != KexFamily::kDhGex && type == msg::kKexdhReply)) {
        return client_on_reply(payload);
      }
      break;
    case Step::kAwaitGexRequest:
      if (type == msg::kKexDhGexRequest) return server_on_gex_request(payload, out);
      break;
    case Step::kAwaitInit:
      if ((method_.family == KexFamily::kDhGex && type == msg::kKexDhGexInit) ||
          (method_.family != KexFamily::kDhGex && type == msg::kKexdhInit)) {
        return server_on_init(payload, out);
      }
      break;
    case Step::kStart:
    case Step::kAwaitSignature:
      break;
  }
  return Status::protocol_error("unexpected key exchange message " + std::to_string(type));
}

Status KeyExchange::client_on_group(ByteView payload, std::vector<Bytes>& out) {
  // SSH_MSG_KEX_DH_GEX_GROUP, RFC 4419 section 3: mpint p, mpint g.
  wire::Reader r(payload.subspan(1));
  ByteView p, g;
  if (!r.mpint_positive(p) || !r.mpint_positive(g) || !r.empty()) {
    return Status::protocol_error("malformed KEX_DH_GEX_GROUP");
  }
  if (!crypto::gex_group_acceptable(p, g, gex_.min, gex_.max)) {
    return kex_failed("server offered an unacceptable DH group (" + std::to_string(p.size() * 8) +
                      " bits)");
  }
  gex_p_.assign(p.begin(), p.end());
  gex_g_.assign(g.begin(), g.end());
  agreement_ = crypto::make_dh(gex_p_, gex_g_, kDhExponentBits);
  Bytes m;
  wire::Writer(m).u8(msg::kKexDhGexInit).mpint(agreement_->public_value());
  out.push_back(std::move(m));
  step_ = Step::kAwaitReply;
  return Status::ok();
}

Status KeyExchange::client_on_reply(ByteView payload) {
  // KEXDH_REPLY / KEX_ECDH_REPLY / KEX_DH_GEX_REPLY: string K_S, (mpint f | string Q_S),
  // string signature of H.
  wire::Reader r(payload.subspan(1));
  ByteView ks, server_value, sig;
  bool ok = r.string(ks) &&
            (values_are_mpints() ? r.mpint_positive(server_value) : r.string(server_value)) &&
            r.string(sig) && r.empty();
  if (!ok) return Status::protocol_error("malformed key exchange reply");
  host_key_ = keys::PublicKey::from_blob(ks);
  if (!host_key_) return kex_failed("invalid server host key");
  auto want_type = keys::key_type_for_algorithm(host_key_algorithm_);
  if (!want_type || *want_type != host_key_->type()) {
    return kex_failed("server host key type " + std::string(host_key_->type_name()) +
                      " does not match negotiated " + host_key_algorithm_);
  }
  Bytes client_value;
  if (method_.family == KexFamily::kHybrid) {
    // S_REPLY's value: the KEM ciphertext, then the server's X25519 key.
    const crypto::KemInfo& info = method_.kem().info();
    if (server_value.size() != info.ciphertext_len + 32) {
      return kex_failed("invalid server hybrid key exchange value length");
    }
    SecretBytes kem_shared;
    if (!method_.kem().decapsulate(view(kem_secret_), server_value.first(info.ciphertext_len),
                                   kem_shared)) {
      return kex_failed("KEM decapsulation failed");
    }
    auto x = agreement_->agree(server_value.subspan(info.ciphertext_len));
    if (!x) return kex_failed("invalid server X25519 value");
    set_hybrid_secret(view(kem_shared), view(*x));
    client_value = kem_public_;
    client_value.insert(client_value.end(), agreement_->public_value().begin(),
                        agreement_->public_value().end());
  } else {
    auto k = agreement_->agree(server_value);
    if (!k) return kex_failed("invalid server key exchange value");
    append_mpint_secret(k_mpint_, view(*k));
    client_value = agreement_->public_value();
  }
  compute_hash(ks, client_value, server_value);
  if (!host_key_->verify(host_key_algorithm_, hash_, sig)) {
    return kex_failed("incorrect signature on the key exchange");
  }
  agreement_.reset();
  done_ = true;
  return Status::ok();
}

Status KeyExchange::server_on_gex_request(ByteView payload, std::vector<Bytes>& out) {
  // SSH_MSG_KEX_DH_GEX_REQUEST, RFC 4419 section 3: uint32 min, n, max.
  wire::Reader r(payload.subspan(1));
  if (!r.u32(gex_.min) || !r.u32(gex_.preferred) || !r.u32(gex_.max) || !r.empty()) {
    return Status::protocol_error("malformed KEX_DH_GEX_REQUEST");
  }
  if (gex_.min > gex_.preferred || gex_.preferred > gex_.max) {
    return kex_failed("invalid group exchange request sizes");
  }
  auto group = crypto::choose_gex_group(gex_.min, gex_.preferred, gex_.max);
  if (!group) return kex_failed("no DH group fits the requested sizes");
  gex_p_.assign(group->p.begin(), group->p.end());
  gex_g_.assign(group->g.begin(), group->g.end());
  Bytes m;
  wire::Writer(m).u8(msg::kKexDhGexGroup).mpint(gex_p_).mpint(gex_g_);
  out.push_back(std::move(m));
  step_ = Step::kAwaitInit;
  return Status::ok();
}

Status KeyExchange::server_on_init(ByteView payload, std::vector<Bytes>& out) {
  wire::Reader r(payload.subspan(1));
  ByteView client_value;
  bool ok = (values_are_mpints() ? r.mpint_positive(client_value) : r.string(client_value)) &&
            r.empty();
  if (!ok) return Status::protocol_error("malformed key exchange init");
  switch (method_.family) {
    case KexFamily::kEcdh:
      agreement_ = method_.x25519 ? crypto::make_x25519() : crypto::make_ecdh(method_.curve);
      break;
    case KexFamily::kDhGroup: {
      const auto& g = crypto::modp_group(method_.modp_group);
      agreement_ = crypto::make_dh(g.p, g.g, kDhExponentBits);
      break;
    }
    case KexFamily::kDhGex:
      agreement_ = crypto::make_dh(gex_p_, gex_g_, kDhExponentBits);
      break;
    case KexFamily::kHybrid:
      agreement_ = crypto::make_x25519();
      break;
  }
  Bytes server_value;
  if (method_.family == KexFamily::kHybrid) {
    const crypto::KemInfo& info = method_.kem().info();
    if (client_value.size() != info.public_key_len + 32) {
      return kex_failed("invalid client hybrid key exchange value length");
    }
    SecretBytes kem_shared;
    if (!method_.kem().encapsulate(client_value.first(info.public_key_len), server_value,
                                   kem_shared)) {
      return kex_failed("invalid client KEM public key");
    }
    auto x = agreement_->agree(client_value.subspan(info.public_key_len));
    if (!x) return kex_failed("invalid client X25519 value");
    set_hybrid_secret(view(kem_shared), view(*x));
    server_value.insert(server_value.end(), agreement_->public_value().begin(),
                        agreement_->public_value().end());
  } else {
    auto k = agreement_->agree(client_value);
    if (!k) return kex_failed("invalid client key exchange value");
    append_mpint_secret(k_mpint_, view(*k));
    server_value = agreement_->public_value();
  }
  compute_hash(host_key_->blob(), client_value, server_value);
  server_value_ = std::move(server_value);
  agreement_.reset();
  step_ = Step::kAwaitSignature;
  (void)out;
  return Status::ok();
}

Status KeyExchange::set_signature(ByteView signature, std::vector<Bytes>& out) {
  if (step_ != Step::kAwaitSignature) return kex_failed("no host key signature was asked for");
  if (signature.empty()) return kex_failed("host key signing failed");
  Bytes m;
  wire::Writer w(m);
  w.u8(method_.family == KexFamily::kDhGex ? msg::kKexDhGexReply : msg::kKexdhReply)
      .string(host_key_->blob());
  if (values_are_mpints()) {
    w.mpint(server_value_);
  } else {
    w.string(server_value_);
  }
  w.string(signature);
  out.push_back(std::move(m));
  done_ = true;
  return Status::ok();
}

void KeyExchange::set_hybrid_secret(ByteView kem_secret, ByteView x25519_secret) {
  // K = HASH(kem_secret || x25519_secret), entering H and the key derivation as a string
  // (OpenSSH kexsntrup761x25519.c / kexmlkem768x25519.c).
  crypto::Hasher h(method_.hash);
  h.update(kem_secret);
  h.update(x25519_secret);
  Bytes digest = h.finish();
  Bytes tmp;
  wire::Writer(tmp).string(digest);
  k_mpint_.assign(tmp.begin(), tmp.end());
  OPENSSL_cleanse(digest.data(), digest.size());
  OPENSSL_cleanse(tmp.data(), tmp.size());
}

void KeyExchange::compute_hash(ByteView ks, ByteView client_value, ByteView server_value) {
  Bytes in;
  wire::Writer w(in);
  w.string(transcript_.client_version).string(transcript_.server_version);
  w.string(transcript_.client_kexinit).string(transcript_.server_kexinit);
  w.string(ks);
  if (method_.family == KexFamily::kDhGex) {
    w.u32(gex_.min).u32(gex_.preferred).u32(gex_.max).mpint(gex_p_).mpint(gex_g_);
  }
  if (values_are_mpints()) {
    w.mpint(client_value).mpint(server_value);
  } else {
    w.string(client_value).string(server_value);
  }
  w.raw(view(k_mpint_));
  hash_ = crypto::hash(method_.hash, in);
  OPENSSL_cleanse(in.data(), in.size());
}

}  // namespace hashi::transport
