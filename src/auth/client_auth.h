// ClientAuth: the client side of user authentication (RFC 4252), sans-I/O.
//
// start() pipelines SERVICE_REQUEST "ssh-userauth" and USERAUTH_REQUEST "none" (as OpenSSH does:
// the "none" failure tells us the methods the server accepts). Then, for each method in the
// preferred order that the server allows, it tries what it has: for publickey, each identity in
// turn, signing the request directly (one round trip per key) or, with probe_keys, asking first
// and signing after USERAUTH_PK_OK. Password and keyboard-interactive are named in AuthMethod so
// a PreferredAuthentications list can hold them; they are skipped until implemented.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/types.h"
#include "keys/key.h"
#include "wire/bytes.h"
#include "wire/payload_sink.h"

namespace hashi::auth {

struct ClientAuthOptions {
  // Methods to try, in order (PreferredAuthentications); only those the server allows are tried.
  std::vector<AuthMethod> preferred = {AuthMethod::kPublickey, AuthMethod::kKeyboardInteractive,
                                       AuthMethod::kPassword};
  // Ask whether a key is acceptable before signing (costs a round trip per key; useful for keys
  // whose signing is expensive or needs confirmation, e.g. agent keys).
  bool probe_keys = false;
};

struct [[nodiscard]] ClientAuthStatus {
  enum class Kind {
    kInProgress,     // keep feeding messages
    kSuccess,        // authenticated: switch to the connection protocol
    kFailed,         // nothing left to try: `message` is "Permission denied (publickey,...)."
    kProtocolError,  // disconnect with kProtocolError and `message`
  };
  Kind kind = Kind::kInProgress;
  AuthError error = AuthError::kNone;
  std::string message;
  // A USERAUTH_BANNER carried by this message, for the client to print (sanitized by the caller).
  std::optional<std::string> banner;
};

class ClientAuth {
 public:
  ClientAuth(PayloadSink& sink, std::string user,
             std::vector<std::shared_ptr<const keys::PrivateKey>> identities,
             std::string service = "ssh-connection", ClientAuthOptions options = {});

  // start records the session identifier (the first exchange hash) and sends SERVICE_REQUEST and
  // USERAUTH_REQUEST "none" without waiting in between.
  void start(ByteView session_id);
  // set_server_sig_algs records the server-sig-algs of the server's EXT_INFO (RFC 8308); it
  // decides which RSA signature algorithm is used.
  void set_server_sig_algs(std::vector<std::string> algorithms);

  // on_message processes one payload (SERVICE_ACCEPT or a message numbered 50-79).
  ClientAuthStatus on_message(ByteView payload);

  // The identity the server accepted (after kSuccess with publickey), else nullptr.
  const keys::PrivateKey* accepted_identity() const { return accepted_.get(); }
  // The methods named by the server's last USERAUTH_FAILURE.
  const std::vector<std::string>& server_methods() const { return server_methods_; }
  // Whether the last failure carried partial success (more methods required).
  bool partial_success() const { return partial_success_; }

 private:
  enum class State { kInit, kAwaitServiceAccept, kAwaitReply, kDone };

  // Sends the next attempt; kFailed if nothing is left.
  ClientAuthStatus try_next();
  // Sends a publickey request for identities_[next_identity_ - 1].
  void send_publickey(const keys::PrivateKey& key, bool with_signature);
  bool server_allows(AuthMethod method) const;
  ClientAuthStatus protocol_error(AuthError error, std::string message);

  PayloadSink& sink_;
  std::string user_;
  std::vector<std::shared_ptr<const keys::PrivateKey>> identities_;
  std::string service_;
  ClientAuthOptions options_;
  Bytes session_id_;
  std::vector<std::string> server_sig_algs_;
  State state_ = State::kInit;
  std::vector<std::string> server_methods_;
  bool partial_success_ = false;
  size_t method_index_ = 0;    // into options_.preferred
  size_t next_identity_ = 0;   // into identities_
  std::shared_ptr<const keys::PrivateKey> probing_;   // key awaiting PK_OK
  std::shared_ptr<const keys::PrivateKey> pending_;   // key whose signed request is outstanding
  std::shared_ptr<const keys::PrivateKey> accepted_;
  std::string pending_alg_;
  Bytes out_;
};

}  // namespace hashi::auth
