// ServerAuth: the server side of user authentication (RFC 4252, RFC 4253 section 10), sans-I/O.
//
// Policy decisions are asked for, not made here: when a request needs one (may this user log
// in? does an authorized key let them in with this key?) on_message returns kQuery with the
// question, and the state machine waits until answer_user / answer_key — now, or after a PAM
// conversation or a round trip to a privileged monitor. Nothing may be fed meanwhile (the caller
// holds later messages). Each status carries AuthEvents from which the caller writes
// OpenSSH-style log lines (AuthEvent::log_line).
//
// Rules followed (as OpenSSH does):
//  - SERVICE_REQUEST must be "ssh-userauth", else disconnect kServiceNotAvailable.
//  - The user and service of the first USERAUTH_REQUEST are fixed: a change disconnects.
//  - Unknown users get exactly the answers a known user without a matching key gets (the key
//    lookup and the signature check are done all the same): no user enumeration.
//  - Every FAILURE except the first "none" counts; reaching max_auth_tries disconnects with
//    "Too many authentication failures" instead of sending that FAILURE.
//  - A publickey algorithm must be in the allowed list and match the key's type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/types.h"
#include "keys/authorized_keys.h"
#include "keys/key.h"
#include "wire/bytes.h"
#include "wire/messages.h"
#include "wire/payload_sink.h"

namespace hashi::auth {

// A synchronous policy, for callers that can decide at once (answer_query() feeds it to a
// ServerAuth).
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // True if `user` may log in at all (exists, not locked, allowed by AllowUsers, ...).
  virtual bool user_exists(std::string_view user) = 0;
  // The options of the authorized_keys entry that authorizes `key` for `user`; nullopt if none.
  // Called for unknown users too (so that both cost the same); the answer is then ignored.
  virtual std::optional<keys::KeyOptions> authorize_key(std::string_view user,
                                                        const keys::PublicKey& key) = 0;
  // The MaxAuthTries in force for this connection's user (a Match block may set it), or nullopt
  // for ServerAuthLimits::max_auth_tries. Asked after user_exists.
  virtual std::optional<uint32_t> max_auth_tries() const { return std::nullopt; }
};

// Something worth a log line.
struct AuthEvent {
  enum class Kind {
    kInvalidUser,      // "Invalid user bob from ADDR port N"
    kAccepted,         // "Accepted publickey for alice from ADDR port N ssh2: ED25519 SHA256:..."
    kFailed,           // "Failed publickey for [invalid user ]alice from ADDR port N ssh2: ..."
    kMaxTriesExceeded  // "maximum authentication attempts exceeded for [invalid user ]alice ..."
  };
  Kind kind = Kind::kFailed;
  AuthMethod method = AuthMethod::kNone;
  std::string user;
  bool invalid_user = false;
  std::string key_label;    // "ED25519", "RSA", "ECDSA"; empty if no key was involved
  std::string fingerprint;  // "SHA256:..."; empty if no key was involved

  // log_line formats the event in OpenSSH's wording for a peer at `address`:`port`.
  std::string log_line(std::string_view address, uint16_t port) const;
};

struct ServerAuthLimits {
  uint32_t max_auth_tries = 6;  // MaxAuthTries
  // Methods offered in USERAUTH_FAILURE, in order; only publickey is implemented so far.
  std::vector<AuthMethod> methods = {AuthMethod::kPublickey};
  // Signature algorithms accepted for publickey (PubkeyAcceptedAlgorithms).
  std::vector<std::string> pubkey_algorithms = {
      "ssh-ed25519",         "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
      "ecdsa-sha2-nistp521", "rsa-sha2-512",        "rsa-sha2-256",
  };
};

// A decision ServerAuth waits for.
struct AuthQuery {
  enum class Kind {
    kUser,  // may `user` log in at all? answer_user
    kKey,   // which authorized_keys entry (if any) lets `user` in with `key`? answer_key
  };
  Kind kind = Kind::kUser;
  std::string user;
  std::optional<keys::PublicKey> key;  // kKey
};

struct [[nodiscard]] ServerAuthStatus {
  enum class Kind {
    kInProgress,  // keep feeding messages
    kQuery,       // answer `query` (answer_user / answer_key) before feeding anything more
    kSuccess,     // authenticated: see ServerAuth::result(); switch to the connection protocol
    kDisconnect,  // disconnect with `disconnect_reason` and `message`
  };
  Kind kind = Kind::kInProgress;
  AuthError error = AuthError::kNone;
  msg::DisconnectReason disconnect_reason = msg::DisconnectReason::kProtocolError;
  std::string message;
  std::vector<AuthEvent> events;  // in order; log them
  std::optional<AuthQuery> query;  // kQuery
};

// What the rest of the server needs after success.
struct AuthResult {
  std::string user;
  AuthMethod method = AuthMethod::kPublickey;
  keys::KeyOptions key_options;
  std::string key_label;    // "ED25519", ...
  std::string fingerprint;  // "SHA256:..."
  keys::PublicKey key;
};

class ServerAuth {
 public:
  explicit ServerAuth(PayloadSink& sink, ServerAuthLimits limits = {});

  // set_session_id records the session identifier (the first exchange hash) that publickey
  // signatures must cover. Call before feeding messages.
  void set_session_id(ByteView session_id);

  // on_message processes one payload (SERVICE_REQUEST or a message numbered 50-79). Must not be
  // called while waiting() (that disconnects with a protocol error).
  ServerAuthStatus on_message(ByteView payload);
  // The answers to a kQuery (the user is unknown / the key is not authorized when false/nullopt);
  // the request goes on from where it stopped. An answer to a question not asked disconnects.
  // `max_auth_tries`, when given, replaces the limit from then on (MaxAuthTries in a Match block,
  // known once the user is).
  ServerAuthStatus answer_user(bool may_log_in, std::optional<uint32_t> max_auth_tries = {});
  ServerAuthStatus answer_key(std::optional<keys::KeyOptions> options);
  // True while a kQuery is unanswered.
  bool waiting() const { return state_ == State::kAwaitUser || state_ == State::kAwaitKey; }

  // The outcome after kSuccess, else nullptr.
  const AuthResult* result() const { return result_ ? &*result_ : nullptr; }
  // Failures counted against max_auth_tries so far.
  uint32_t failures() const { return failures_; }

 private:
  enum class State { kAwaitService, kAwaitRequest, kAwaitUser, kAwaitKey, kDone };

  ServerAuthStatus on_service_request(ByteView payload);
  ServerAuthStatus on_request(ByteView payload);
  // The request in pending_request_, once the user is known to be valid or not.
  ServerAuthStatus handle_request(ServerAuthStatus status);
  ServerAuthStatus on_publickey(ByteView method_specific, ServerAuthStatus status);
  // The publickey request in pending_request_ with the key lookup's answer.
  ServerAuthStatus finish_publickey(std::optional<keys::KeyOptions> options,
                                    ServerAuthStatus status);
  AuthEvent key_event(const std::optional<keys::PublicKey>& key) const;
  // fail sends USERAUTH_FAILURE (or disconnects once max_auth_tries is reached).
  ServerAuthStatus fail(ServerAuthStatus status, bool counts);
  ServerAuthStatus disconnect(AuthError error, msg::DisconnectReason reason, std::string message,
                              ServerAuthStatus status = {});
  bool algorithm_allowed(std::string_view alg) const;

  PayloadSink& sink_;
  ServerAuthLimits limits_;
  Bytes session_id_;
  State state_ = State::kAwaitService;
  bool have_user_ = false;
  std::string user_;
  std::string service_;
  bool user_valid_ = false;
  uint32_t attempts_ = 0;
  uint32_t failures_ = 0;
  std::optional<AuthResult> result_;
  Bytes pending_request_;  // the USERAUTH_REQUEST a query stopped
  Bytes out_;
};

// answer_query answers a kQuery status from a synchronous Authenticator until the state machine
// needs none; returns the final status with every event in order.
ServerAuthStatus answer_query(ServerAuth& auth, Authenticator& authenticator,
                              ServerAuthStatus status);

}  // namespace hashi::auth
