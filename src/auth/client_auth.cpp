#include "auth/client_auth.h"

#include <algorithm>

#include "auth/messages.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::auth {

ClientAuth::ClientAuth(PayloadSink& sink, std::string user,
                       std::vector<std::shared_ptr<const keys::PrivateKey>> identities,
                       std::string service, ClientAuthOptions options)
    : sink_(sink),
      user_(std::move(user)),
      identities_(std::move(identities)),
      service_(std::move(service)),
      options_(std::move(options)) {}

void ClientAuth::start(ByteView session_id) {
  session_id_.assign(session_id.begin(), session_id.end());
  out_.clear();
  ServiceRequestMsg{kUserauthService}.encode(out_);
  sink_.send(out_);
  out_.clear();
  UserauthRequestMsg{user_, service_, "none", {}}.encode(out_);
  sink_.send(out_);
  state_ = State::kAwaitServiceAccept;
}

void ClientAuth::set_server_sig_algs(std::vector<std::string> algorithms) {
  server_sig_algs_ = std::move(algorithms);
}

ClientAuthStatus ClientAuth::protocol_error(AuthError error, std::string message) {
  state_ = State::kDone;
  return {ClientAuthStatus::Kind::kProtocolError, error, std::move(message), std::nullopt};
}

bool ClientAuth::server_allows(AuthMethod method) const {
  return std::find(server_methods_.begin(), server_methods_.end(), method_name(method)) !=
         server_methods_.end();
}

void ClientAuth::send_publickey(const keys::PrivateKey& key, bool with_signature) {
  const keys::PublicKey& pub = key.public_key();
  pending_alg_ = std::string(choose_signature_algorithm(pub.type(), server_sig_algs_));
  Bytes signature;
  if (with_signature) {
    Bytes data = publickey_signed_data(session_id_, user_, service_, pending_alg_, pub.blob());
    signature = key.sign(pending_alg_, data);
  }
  Bytes fields;
  PublickeyFields{with_signature, pending_alg_, pub.blob(), signature}.encode(fields);
  out_.clear();
  UserauthRequestMsg{user_, service_, "publickey", fields}.encode(out_);
  sink_.send(out_);
}

ClientAuthStatus ClientAuth::try_next() {
  probing_.reset();
  pending_.reset();
  while (method_index_ < options_.preferred.size()) {
    AuthMethod method = options_.preferred[method_index_];
    if (method == AuthMethod::kPublickey && server_allows(method)) {
      while (next_identity_ < identities_.size()) {
        std::shared_ptr<const keys::PrivateKey> key = identities_[next_identity_++];
        if (key == nullptr) continue;
        if (options_.probe_keys) {
          probing_ = key;
        } else {
          pending_ = key;
        }
        send_publickey(*key, !options_.probe_keys);
        return {};
      }
    }
    // Password and keyboard-interactive plug in here.
    ++method_index_;
  }
  state_ = State::kDone;
  std::string list = server_methods_.empty() ? "none" : "";
  for (size_t i = 0; i < server_methods_.size(); ++i) {
    if (i > 0) list += ',';
    list += server_methods_[i];
  }
  return {ClientAuthStatus::Kind::kFailed, AuthError::kNone, "Permission denied (" + list + ").",
          std::nullopt};
}

ClientAuthStatus ClientAuth::on_message(ByteView payload) {
  wire::Reader r(payload);
  uint8_t type;
  if (!r.u8(type)) return protocol_error(AuthError::kMalformed, "empty message");
  if (state_ == State::kInit || state_ == State::kDone) {
    return protocol_error(AuthError::kUnexpectedMessage,
                          "unexpected message type " + std::to_string(type) +
                              " outside user authentication");
  }
  if (state_ == State::kAwaitServiceAccept) {
    if (type != msg::kServiceAccept) {
      return protocol_error(AuthError::kUnexpectedMessage,
                            "expected SERVICE_ACCEPT, got message type " + std::to_string(type));
    }
    auto m = ServiceAcceptMsg::decode(payload);
    if (!m) return protocol_error(AuthError::kMalformed, "malformed SSH_MSG_SERVICE_ACCEPT");
    if (m->service != kUserauthService) {
      return protocol_error(AuthError::kServiceNotAvailable, "server accepted the wrong service");
    }
    state_ = State::kAwaitReply;  // the "none" request is already on its way
    return {};
  }

  switch (type) {
    case msg::kUserauthBanner: {
      auto m = UserauthBannerMsg::decode(payload);
      if (!m) return protocol_error(AuthError::kMalformed, "malformed SSH_MSG_USERAUTH_BANNER");
      return {ClientAuthStatus::Kind::kInProgress, AuthError::kNone, {}, std::string(m->message)};
    }
    case msg::kUserauthSuccess: {
      if (!UserauthSuccessMsg::decode(payload)) {
        return protocol_error(AuthError::kMalformed, "malformed SSH_MSG_USERAUTH_SUCCESS");
      }
      accepted_ = pending_;
      state_ = State::kDone;
      return {ClientAuthStatus::Kind::kSuccess, AuthError::kNone, {}, std::nullopt};
    }
    case msg::kUserauthFailure: {
      auto m = UserauthFailureMsg::decode(payload);
      if (!m) return protocol_error(AuthError::kMalformed, "malformed SSH_MSG_USERAUTH_FAILURE");
      server_methods_ = std::move(m->methods);
      partial_success_ = m->partial_success;
      return try_next();
    }
    case msg::kUserauthPkOk: {
      // Message 60 means PK_OK only while a publickey probe is outstanding (RFC 4252 section 7).
      if (probing_ == nullptr) {
        return protocol_error(AuthError::kUnexpectedMessage, "unexpected message type 60");
      }
      auto m = UserauthPkOkMsg::decode(payload);
      if (!m) return protocol_error(AuthError::kMalformed, "malformed SSH_MSG_USERAUTH_PK_OK");
      const Bytes& blob = probing_->public_key().blob();
      if (m->algorithm != pending_alg_ || !std::equal(m->key_blob.begin(), m->key_blob.end(),
                                                      blob.begin(), blob.end())) {
        return protocol_error(AuthError::kUnexpectedMessage, "PK_OK for a key we did not offer");
      }
      pending_ = std::move(probing_);
      probing_.reset();
      send_publickey(*pending_, true);
      return {};
    }
    default:
      return protocol_error(AuthError::kUnexpectedMessage,
                            "unexpected message type " + std::to_string(type) +
                                " during user authentication");
  }
}

}  // namespace hashi::auth
