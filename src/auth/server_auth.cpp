#include "auth/server_auth.h"

#include <algorithm>

#include "auth/messages.h"
#include "wire/reader.h"

namespace hashi::auth {

std::string AuthEvent::log_line(std::string_view address, uint16_t port) const {
  std::string from = " from " + std::string(address) + " port " + std::to_string(port);
  std::string who = (invalid_user ? "invalid user " : "") + user;
  std::string key = key_label.empty() ? "" : ": " + key_label + " " + fingerprint;
  switch (kind) {
    case Kind::kInvalidUser:
      return "Invalid user " + user + from;
    case Kind::kAccepted:
      return "Accepted " + std::string(method_name(method)) + " for " + user + from + " ssh2" + key;
    case Kind::kFailed:
      return "Failed " + std::string(method_name(method)) + " for " + who + from + " ssh2" + key;
    case Kind::kMaxTriesExceeded:
      return "maximum authentication attempts exceeded for " + who + from + " ssh2";
  }
  return {};
}

ServerAuth::ServerAuth(PayloadSink& sink, ServerAuthLimits limits)
    : sink_(sink), limits_(std::move(limits)) {}

void ServerAuth::set_session_id(ByteView session_id) {
  session_id_.assign(session_id.begin(), session_id.end());
}

bool ServerAuth::algorithm_allowed(std::string_view alg) const {
  return std::find(limits_.pubkey_algorithms.begin(), limits_.pubkey_algorithms.end(), alg) !=
         limits_.pubkey_algorithms.end();
}

ServerAuthStatus ServerAuth::disconnect(AuthError error, msg::DisconnectReason reason,
                                        std::string message, ServerAuthStatus status) {
  state_ = State::kDone;
  status.kind = ServerAuthStatus::Kind::kDisconnect;
  status.error = error;
  status.disconnect_reason = reason;
  status.message = std::move(message);
  status.query.reset();
  return status;
}

ServerAuthStatus ServerAuth::on_message(ByteView payload) {
  wire::Reader r(payload);
  uint8_t type;
  if (!r.u8(type)) {
    return disconnect(AuthError::kMalformed, msg::DisconnectReason::kProtocolError,
                      "empty message");
  }
  if (state_ == State::kAwaitService && type == msg::kServiceRequest) {
    return on_service_request(payload);
  }
  if (state_ == State::kAwaitRequest && type == msg::kUserauthRequest) return on_request(payload);
  return disconnect(AuthError::kUnexpectedMessage, msg::DisconnectReason::kProtocolError,
                    "unexpected message type " + std::to_string(type) +
                        " during user authentication");
}

ServerAuthStatus ServerAuth::on_service_request(ByteView payload) {
  auto m = ServiceRequestMsg::decode(payload);
  if (!m) {
    return disconnect(AuthError::kMalformed, msg::DisconnectReason::kProtocolError,
                      "malformed SSH_MSG_SERVICE_REQUEST");
  }
  if (m->service != kUserauthService) {
    return disconnect(AuthError::kServiceNotAvailable, msg::DisconnectReason::kServiceNotAvailable,
                      "service not available: " + std::string(m->service));
  }
  out_.clear();
  ServiceAcceptMsg{kUserauthService}.encode(out_);
  sink_.send(out_);
  state_ = State::kAwaitRequest;
  return {};
}

ServerAuthStatus ServerAuth::on_request(ByteView payload) {
  auto m = UserauthRequestMsg::decode(payload);
  if (!m) {
    return disconnect(AuthError::kMalformed, msg::DisconnectReason::kProtocolError,
                      "malformed SSH_MSG_USERAUTH_REQUEST");
  }
  if (have_user_ && (m->user != user_ || m->service != service_)) {
    return disconnect(AuthError::kChangedUserOrService, msg::DisconnectReason::kProtocolError,
                      "Change of username or service not allowed: (" + user_ + "," + service_ +
                          ") -> (" + std::string(m->user) + "," + std::string(m->service) + ")");
  }
  if (!have_user_ && m->service != kConnectionService) {
    return disconnect(AuthError::kServiceNotAvailable, msg::DisconnectReason::kServiceNotAvailable,
                      "service not available: " + std::string(m->service));
  }
  pending_request_.assign(payload.begin(), payload.end());
  if (have_user_) return handle_request({});
  have_user_ = true;
  user_.assign(m->user);
  service_.assign(m->service);
  state_ = State::kAwaitUser;
  ServerAuthStatus status;
  status.kind = ServerAuthStatus::Kind::kQuery;
  status.query = AuthQuery{AuthQuery::Kind::kUser, user_, std::nullopt};
  return status;
}

ServerAuthStatus ServerAuth::answer_user(bool may_log_in, std::optional<uint32_t> max_auth_tries) {
  if (state_ != State::kAwaitUser) {
    return disconnect(AuthError::kUnexpectedMessage, msg::DisconnectReason::kProtocolError,
                      "user decision nobody asked for");
  }
  if (max_auth_tries) {
    limits_.max_auth_tries = *max_auth_tries;
  }
  state_ = State::kAwaitRequest;
  user_valid_ = may_log_in;
  ServerAuthStatus status;
  if (!user_valid_) {
    AuthEvent e;
    e.kind = AuthEvent::Kind::kInvalidUser;
    e.user = user_;
    e.invalid_user = true;
    status.events.push_back(std::move(e));
  }
  return handle_request(std::move(status));
}

ServerAuthStatus ServerAuth::handle_request(ServerAuthStatus status) {
  auto m = UserauthRequestMsg::decode(pending_request_);  // decoded once already: cannot fail
  ++attempts_;
  std::optional<AuthMethod> method = method_from_name(m->method);
  bool offered = method && std::find(limits_.methods.begin(), limits_.methods.end(), *method) !=
                               limits_.methods.end();
  if (method == AuthMethod::kPublickey && offered) {
    return on_publickey(m->method_specific, std::move(status));
  }
  // "none", methods we do not offer or do not know: FAILURE. Only the first "none" is free.
  bool counts = !(method == AuthMethod::kNone && attempts_ == 1);
  return fail(std::move(status), counts);
}

AuthEvent ServerAuth::key_event(const std::optional<keys::PublicKey>& key) const {
  AuthEvent event;
  event.kind = AuthEvent::Kind::kFailed;
  event.method = AuthMethod::kPublickey;
  event.user = user_;
  event.invalid_user = !user_valid_;
  if (key) {
    event.key_label = std::string(key_log_label(key->type()));
    event.fingerprint = key->fingerprint_sha256();
  }
  return event;
}

ServerAuthStatus ServerAuth::on_publickey(ByteView method_specific, ServerAuthStatus status) {
  auto f = PublickeyFields::decode(method_specific);
  if (!f) {
    return disconnect(AuthError::kMalformed, msg::DisconnectReason::kProtocolError,
                      "malformed publickey request", std::move(status));
  }
  std::optional<keys::PublicKey> key = keys::PublicKey::from_blob(f->key_blob);
  if (!key) {
    // An unparseable or unsupported key: a failure, not a protocol error (OpenSSH does the same).
    status.events.push_back(key_event(std::nullopt));
    return fail(std::move(status), true);
  }
  std::optional<keys::KeyType> alg_type = keys::key_type_for_algorithm(f->algorithm);
  if (!algorithm_allowed(f->algorithm) || alg_type != key->type()) {
    return finish_publickey(std::nullopt, std::move(status));
  }
  // The key lookup happens for unknown users too, so that both take the same path.
  state_ = State::kAwaitKey;
  status.kind = ServerAuthStatus::Kind::kQuery;
  status.query = AuthQuery{AuthQuery::Kind::kKey, user_, std::move(*key)};
  return status;
}

ServerAuthStatus ServerAuth::answer_key(std::optional<keys::KeyOptions> options) {
  if (state_ != State::kAwaitKey) {
    return disconnect(AuthError::kUnexpectedMessage, msg::DisconnectReason::kProtocolError,
                      "key decision nobody asked for");
  }
  state_ = State::kAwaitRequest;
  return finish_publickey(std::move(options), {});
}

ServerAuthStatus ServerAuth::finish_publickey(std::optional<keys::KeyOptions> options,
                                              ServerAuthStatus status) {
  // Decoded once already: cannot fail.
  auto m = UserauthRequestMsg::decode(pending_request_);
  auto f = PublickeyFields::decode(m->method_specific);
  std::optional<keys::PublicKey> key = keys::PublicKey::from_blob(f->key_blob);
  AuthEvent event = key_event(key);
  bool alg_ok = algorithm_allowed(f->algorithm) &&
                keys::key_type_for_algorithm(f->algorithm) == key->type();
  bool authorized = alg_ok && options.has_value() && user_valid_;

  if (!f->has_signature) {
    if (authorized) {
      // RFC 4252 section 7: the key is acceptable; the client will sign. Not a failure.
      out_.clear();
      UserauthPkOkMsg{f->algorithm, f->key_blob}.encode(out_);
      sink_.send(out_);
      return status;
    }
    status.events.push_back(std::move(event));
    return fail(std::move(status), true);
  }

  bool verified = false;
  if (alg_ok) {
    Bytes data = publickey_signed_data(session_id_, user_, service_, f->algorithm, key->blob());
    verified = key->verify(f->algorithm, data, f->signature);
  }
  if (!authorized || !verified) {
    status.events.push_back(std::move(event));
    return fail(std::move(status), true);
  }

  out_.clear();
  UserauthSuccessMsg{}.encode(out_);
  sink_.send(out_);
  state_ = State::kDone;
  event.kind = AuthEvent::Kind::kAccepted;
  result_ = AuthResult{user_, AuthMethod::kPublickey, std::move(*options), event.key_label,
                       event.fingerprint, std::move(*key)};
  status.events.push_back(std::move(event));
  status.kind = ServerAuthStatus::Kind::kSuccess;
  return status;
}

ServerAuthStatus ServerAuth::fail(ServerAuthStatus status, bool counts) {
  if (counts) ++failures_;
  if (failures_ >= limits_.max_auth_tries) {
    AuthEvent e;
    e.kind = AuthEvent::Kind::kMaxTriesExceeded;
    e.user = user_;
    e.invalid_user = !user_valid_;
    status.events.push_back(std::move(e));
    return disconnect(AuthError::kTooManyFailures, msg::DisconnectReason::kProtocolError,
                      "Too many authentication failures", std::move(status));
  }
  std::vector<std::string> names;
  for (AuthMethod m : limits_.methods) names.emplace_back(method_name(m));
  out_.clear();
  UserauthFailureMsg{std::move(names), false}.encode(out_);
  sink_.send(out_);
  return status;
}

ServerAuthStatus answer_query(ServerAuth& auth, Authenticator& authenticator,
                              ServerAuthStatus status) {
  std::vector<AuthEvent> events = std::move(status.events);
  while (status.kind == ServerAuthStatus::Kind::kQuery) {
    const AuthQuery& q = *status.query;
    if (q.kind == AuthQuery::Kind::kUser) {
      bool may_log_in = authenticator.user_exists(q.user);
      status = auth.answer_user(may_log_in, authenticator.max_auth_tries());
    } else {
      status = auth.answer_key(authenticator.authorize_key(q.user, *q.key));
    }
    for (auto& e : status.events) events.push_back(std::move(e));
  }
  status.events = std::move(events);
  return status;
}

}  // namespace hashi::auth
