// The program's policy behind narrow asynchronous interfaces. Each call starts a request and
// returns at once; `done` is called exactly once — before the call returns, or later on the
// driver's thread (after a PAM conversation, a round trip to a privileged monitor, a prompt).
// route_query() connects them to a Session's question events; a completion that arrives after
// its Session is gone is dropped.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "keys/authorized_keys.h"
#include "keys/key.h"
#include "session/session.h"

namespace hashi::session {

// Server: who may log in, and with which key.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual void check_user(const std::string& user, std::function<void(bool)> done) = 0;
  virtual void check_key(const std::string& user, const keys::PublicKey& key,
                         std::function<void(std::optional<keys::KeyOptions>)> done) = 0;
  // The MaxAuthTries in force once check_user has answered (a Match block may set it); nullopt
  // keeps SessionConfig::max_auth_tries.
  virtual std::optional<uint32_t> max_auth_tries() const { return std::nullopt; }
};

// Server: signs the exchange hash with a host key (the private key may live in another process).
class HostKeySigner {
 public:
  virtual ~HostKeySigner() = default;
  virtual void sign(const keys::PublicKey& key, const std::string& algorithm, const Bytes& data,
                    std::function<void(std::optional<Bytes>)> done) = 0;
};

// Client: is this the right server's key (known_hosts, a prompt)?
class HostKeyVerifier {
 public:
  virtual ~HostKeyVerifier() = default;
  virtual void check(const keys::PublicKey& key, std::function<void(Status)> done) = 0;
};

struct Policies {
  Authenticator* authenticator = nullptr;
  HostKeySigner* signer = nullptr;
  HostKeyVerifier* verifier = nullptr;
};

// route_query hands a question event (UserQuery, KeyQuery, SignQuery, HostKeyQuery) to the
// matching policy and answers `session` when the policy completes. Returns false for every other
// event (the caller handles it). A question whose policy is missing is answered "no".
bool route_query(const std::shared_ptr<Session>& session, const Event& event,
                 const Policies& policies);

}  // namespace hashi::session
