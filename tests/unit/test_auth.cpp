// ClientAuth and ServerAuth wired back to back, with a fake Authenticator and real keys.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auth/client_auth.h"
#include "auth/messages.h"
#include "auth/server_auth.h"
#include "keys/key.h"

namespace hashi::auth {
namespace {

using keys::KeyType;
using keys::PrivateKey;
using keys::PublicKey;

struct QueueSink : PayloadSink {
  std::deque<Bytes> queue;
  void send(ByteView p) override { queue.emplace_back(p.begin(), p.end()); }
  void send2(ByteView head, ByteView body) override {
    Bytes b(head.begin(), head.end());
    b.insert(b.end(), body.begin(), body.end());
    queue.push_back(std::move(b));
  }
};

struct FakeAuthenticator : Authenticator {
  std::map<std::string, std::vector<PublicKey>> users;
  std::vector<std::string> lookups;  // "user fingerprint" for every authorize_key call
  bool user_exists(std::string_view user) override { return users.count(std::string(user)) > 0; }
  std::optional<keys::KeyOptions> authorize_key(std::string_view user,
                                                const PublicKey& key) override {
    lookups.push_back(std::string(user) + " " + key.fingerprint_sha256());
    auto it = users.find(std::string(user));
    if (it == users.end()) return std::nullopt;
    for (const auto& k : it->second) {
      if (k == key) {
        keys::KeyOptions o;
        o.command = "echo forced";
        return o;
      }
    }
    return std::nullopt;
  }
};

std::shared_ptr<const PrivateKey> make_key(KeyType type, size_t bits = 0) {
  return std::make_shared<const PrivateKey>(PrivateKey::generate(type, bits));
}

const Bytes kSessionId(32, 0x5a);

struct Harness {
  QueueSink to_server, to_client;
  FakeAuthenticator authenticator;
  ServerAuth server;
  ClientAuth client;
  std::vector<ServerAuthStatus> server_statuses;
  std::vector<Bytes> server_messages;  // everything the server sent, in order
  std::vector<AuthEvent> events;
  ClientAuthStatus last_client;
  bool server_disconnected = false;

  Harness(std::string user, std::vector<std::shared_ptr<const PrivateKey>> ids,
          ServerAuthLimits limits = {}, ClientAuthOptions options = {})
      : server(to_client, std::move(limits)),
        client(to_server, std::move(user), std::move(ids), "ssh-connection",
               std::move(options)) {
    server.set_session_id(kSessionId);
  }

  // Runs the exchange until nobody has anything to say.
  void run() {
    client.start(kSessionId);
    while (!to_server.queue.empty() || !to_client.queue.empty()) {
      while (!to_server.queue.empty() && !server_disconnected) {
        Bytes p = std::move(to_server.queue.front());
        to_server.queue.pop_front();
        ServerAuthStatus s = answer_query(server, authenticator, server.on_message(p));
        for (const auto& e : s.events) events.push_back(e);
        if (s.kind == ServerAuthStatus::Kind::kDisconnect) server_disconnected = true;
        server_statuses.push_back(std::move(s));
      }
      if (server_disconnected) to_server.queue.clear();
      while (!to_client.queue.empty()) {
        Bytes p = std::move(to_client.queue.front());
        to_client.queue.pop_front();
        server_messages.push_back(p);
        last_client = client.on_message(p);
        ASSERT_NE(last_client.kind, ClientAuthStatus::Kind::kProtocolError)
            << last_client.message;
      }
    }
  }

  std::vector<std::string> log_lines() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.log_line("192.0.2.7", 50022));
    return out;
  }
};

TEST(AuthMessages, RoundTripAndRejectTrailing) {
  Bytes b;
  UserauthFailureMsg{{"publickey", "password"}, true}.encode(b);
  auto f = UserauthFailureMsg::decode(b);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->methods, (std::vector<std::string>{"publickey", "password"}));
  EXPECT_TRUE(f->partial_success);
  for (size_t n = 0; n < b.size(); ++n) EXPECT_FALSE(UserauthFailureMsg::decode(ByteView(b).first(n)));
  b.push_back(0);
  EXPECT_FALSE(UserauthFailureMsg::decode(b));

  Bytes fields;
  PublickeyFields{true, "ssh-ed25519", Bytes{1, 2}, Bytes{3}}.encode(fields);
  auto pk = PublickeyFields::decode(fields);
  ASSERT_TRUE(pk);
  EXPECT_EQ(pk->algorithm, "ssh-ed25519");
  fields.push_back(9);
  EXPECT_FALSE(PublickeyFields::decode(fields));
}

TEST(AuthAlgorithms, RsaSignatureChoiceFollowsServerSigAlgs) {
  EXPECT_EQ(choose_signature_algorithm(KeyType::kRsa, {}), "rsa-sha2-512");
  EXPECT_EQ(choose_signature_algorithm(KeyType::kRsa, {"ssh-ed25519", "rsa-sha2-256"}),
            "rsa-sha2-256");
  EXPECT_EQ(choose_signature_algorithm(KeyType::kRsa, {"ssh-rsa"}), "ssh-rsa");
  EXPECT_EQ(choose_signature_algorithm(KeyType::kRsa, {"ssh-ed25519"}), "rsa-sha2-512");
  EXPECT_EQ(choose_signature_algorithm(KeyType::kEd25519, {}), "ssh-ed25519");
}

TEST(Auth, PublickeySuccessAfterWrongKey) {
  auto wrong = make_key(KeyType::kEd25519);
  auto right = make_key(KeyType::kEcdsaP256);
  Harness h("alice", {wrong, right});
  h.authenticator.users["alice"] = {right->public_key()};
  h.run();
  EXPECT_EQ(h.last_client.kind, ClientAuthStatus::Kind::kSuccess);
  EXPECT_EQ(h.client.accepted_identity(), right.get());
  ASSERT_NE(h.server.result(), nullptr);
  EXPECT_EQ(h.server.result()->user, "alice");
  EXPECT_EQ(h.server.result()->key_options.command, "echo forced");
  EXPECT_EQ(h.server.result()->key, right->public_key());
  EXPECT_EQ(h.server_statuses.back().kind, ServerAuthStatus::Kind::kSuccess);
  // Failures: the wrong key counts, the first "none" does not.
  EXPECT_EQ(h.server.failures(), 1u);
  auto lines = h.log_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "Failed publickey for alice from 192.0.2.7 port 50022 ssh2: ED25519 " +
                          wrong->public_key().fingerprint_sha256());
  EXPECT_EQ(lines[1], "Accepted publickey for alice from 192.0.2.7 port 50022 ssh2: ECDSA " +
                          right->public_key().fingerprint_sha256());
}

TEST(Auth, RsaUsesServerSigAlgs) {
  auto key = make_key(KeyType::kRsa, 2048);
  ServerAuthLimits limits;
  limits.pubkey_algorithms = {"rsa-sha2-256"};
  Harness h("bob", {key}, limits);
  h.authenticator.users["bob"] = {key->public_key()};
  h.client.set_server_sig_algs({"ssh-ed25519", "rsa-sha2-256"});
  h.run();
  EXPECT_EQ(h.last_client.kind, ClientAuthStatus::Kind::kSuccess);
}

TEST(Auth, WrongKeyIsPermissionDenied) {
  Harness h("alice", {make_key(KeyType::kEd25519)});
  h.authenticator.users["alice"] = {make_key(KeyType::kEd25519)->public_key()};
  h.run();
  EXPECT_EQ(h.last_client.kind, ClientAuthStatus::Kind::kFailed);
  EXPECT_EQ(h.last_client.message, "Permission denied (publickey).");
  EXPECT_EQ(h.server.result(), nullptr);
}

TEST(Auth, UnknownUserIsIndistinguishable) {
  auto key = make_key(KeyType::kEd25519);
  auto other = make_key(KeyType::kEd25519);
  ClientAuthOptions probe;
  probe.probe_keys = true;
  for (const ClientAuthOptions& opts : {ClientAuthOptions{}, probe}) {
    Harness known("alice", {key}, {}, opts);
    known.authenticator.users["alice"] = {other->public_key()};
    known.run();
    Harness unknown("mallory", {key}, {}, opts);
    unknown.authenticator.users["alice"] = {other->public_key()};
    unknown.run();
    // Byte for byte the same answers, and the same key lookups were made.
    EXPECT_EQ(known.server_messages, unknown.server_messages);
    EXPECT_EQ(known.authenticator.lookups.size(), unknown.authenticator.lookups.size());
    EXPECT_EQ(unknown.last_client.kind, ClientAuthStatus::Kind::kFailed);
    auto lines = unknown.log_lines();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "Invalid user mallory from 192.0.2.7 port 50022");
    EXPECT_EQ(lines[1].rfind("Failed publickey for invalid user mallory from 192.0.2.7 port 50022 "
                             "ssh2: ED25519 SHA256:",
                             0),
              0u)
        << lines[1];
  }
  // An unknown user whose name happens to have the key is still refused.
  Harness h("ghost", {key});
  h.run();
  EXPECT_EQ(h.last_client.kind, ClientAuthStatus::Kind::kFailed);
}

TEST(Auth, ProbeThenSign) {
  auto key = make_key(KeyType::kEd25519);
  ClientAuthOptions opts;
  opts.probe_keys = true;
  Harness h("alice", {make_key(KeyType::kEd25519), key}, {}, opts);
  h.authenticator.users["alice"] = {key->public_key()};
  h.run();
  EXPECT_EQ(h.last_client.kind, ClientAuthStatus::Kind::kSuccess);
  EXPECT_EQ(h.client.accepted_identity(), key.get());
  // The server answered: ACCEPT, FAILURE(none), FAILURE(probe 1), PK_OK, SUCCESS.
  ASSERT_EQ(h.server_messages.size(), 5u);
  EXPECT_EQ(h.server_messages[3][0], msg::kUserauthPkOk);
}

TEST(Auth, MaxTriesDisconnects) {
  std::vector<std::shared_ptr<const PrivateKey>> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(make_key(KeyType::kEd25519));
  ServerAuthLimits limits;
  limits.max_auth_tries = 6;
  Harness h("alice", ids, limits);
  h.authenticator.users["alice"] = {};
  h.run();
  ASSERT_TRUE(h.server_disconnected);
  const ServerAuthStatus& last = h.server_statuses.back();
  EXPECT_EQ(last.error, AuthError::kTooManyFailures);
  EXPECT_EQ(last.message, "Too many authentication failures");
  EXPECT_EQ(h.server.failures(), 6u);
  // ACCEPT + FAILURE(none) + 5 key FAILUREs; the 6th failure is the disconnect.
  EXPECT_EQ(h.server_messages.size(), 7u);
  EXPECT_EQ(h.log_lines().back(),
            "maximum authentication attempts exceeded for alice from 192.0.2.7 port 50022 ssh2");
}

// Hand-built requests straight into a ServerAuth.
struct ServerOnly {
  QueueSink sink;
  FakeAuthenticator authenticator;
  ServerAuth server{sink};
  ServerOnly() {
    server.set_session_id(kSessionId);
    Bytes b;
    ServiceRequestMsg{kUserauthService}.encode(b);
    ServerAuthStatus s = server.on_message(b);
    EXPECT_EQ(s.kind, ServerAuthStatus::Kind::kInProgress);
    sink.queue.clear();
  }
  ServerAuthStatus request(std::string_view user, std::string_view service, std::string_view method,
                           ByteView fields = {}) {
    Bytes b;
    UserauthRequestMsg{user, service, method, fields}.encode(b);
    return answer_query(server, authenticator, server.on_message(b));
  }
  ServerAuthStatus publickey(std::string_view user, const PrivateKey& key, std::string_view alg,
                             ByteView session_id, std::string_view signed_user = {}) {
    const Bytes& blob = key.public_key().blob();
    Bytes sig = key.sign(alg, publickey_signed_data(
                                  session_id, signed_user.empty() ? user : signed_user,
                                  "ssh-connection", alg, blob));
    Bytes fields;
    PublickeyFields{true, alg, blob, sig}.encode(fields);
    return request(user, "ssh-connection", "publickey", fields);
  }
  uint8_t last_sent() const { return sink.queue.empty() ? 0 : sink.queue.back()[0]; }
};

TEST(AuthServer, BadSignatureFails) {
  auto key = make_key(KeyType::kEd25519);
  ServerOnly s;
  s.authenticator.users["alice"] = {key->public_key()};
  Bytes wrong_session(32, 0x11);
  EXPECT_EQ(s.publickey("alice", *key, "ssh-ed25519", wrong_session).kind,
            ServerAuthStatus::Kind::kInProgress);
  EXPECT_EQ(s.last_sent(), msg::kUserauthFailure);
  // Signed for another user name.
  EXPECT_EQ(s.publickey("alice", *key, "ssh-ed25519", kSessionId, "root").kind,
            ServerAuthStatus::Kind::kInProgress);
  EXPECT_EQ(s.last_sent(), msg::kUserauthFailure);
  // Algorithm that does not match the key type.
  auto rsa = make_key(KeyType::kRsa, 2048);
  s.authenticator.users["alice"].push_back(rsa->public_key());
  EXPECT_EQ(s.publickey("alice", *rsa, "ssh-rsa", kSessionId).kind,
            ServerAuthStatus::Kind::kInProgress);  // SHA-1 not in the default list
  EXPECT_EQ(s.last_sent(), msg::kUserauthFailure);
  EXPECT_EQ(s.server.failures(), 3u);
  // And the right one works.
  EXPECT_EQ(s.publickey("alice", *key, "ssh-ed25519", kSessionId).kind,
            ServerAuthStatus::Kind::kSuccess);
  EXPECT_EQ(s.last_sent(), msg::kUserauthSuccess);
  // Nothing is accepted after success.
  EXPECT_EQ(s.request("alice", "ssh-connection", "none").kind,
            ServerAuthStatus::Kind::kDisconnect);
}

TEST(AuthServer, ChangedUserOrServiceDisconnects) {
  ServerOnly s;
  s.authenticator.users["alice"] = {};
  EXPECT_EQ(s.request("alice", "ssh-connection", "none").kind, ServerAuthStatus::Kind::kInProgress);
  ServerAuthStatus st = s.request("root", "ssh-connection", "none");
  EXPECT_EQ(st.kind, ServerAuthStatus::Kind::kDisconnect);
  EXPECT_EQ(st.error, AuthError::kChangedUserOrService);
  EXPECT_EQ(st.message,
            "Change of username or service not allowed: (alice,ssh-connection) -> "
            "(root,ssh-connection)");
}

TEST(AuthServer, ServiceChecks) {
  QueueSink sink;
  ServerAuth server(sink);
  Bytes b;
  ServiceRequestMsg{"ssh-frobnicate"}.encode(b);
  ServerAuthStatus st = server.on_message(b);
  EXPECT_EQ(st.kind, ServerAuthStatus::Kind::kDisconnect);
  EXPECT_EQ(st.disconnect_reason, msg::DisconnectReason::kServiceNotAvailable);

  // A USERAUTH_REQUEST before SERVICE_REQUEST is a protocol error.
  ServerAuth server2(sink);
  b.clear();
  UserauthRequestMsg{"alice", "ssh-connection", "none", {}}.encode(b);
  EXPECT_EQ(server2.on_message(b).error, AuthError::kUnexpectedMessage);

  ServerOnly s;
  EXPECT_EQ(s.request("alice", "ssh-frob", "none").disconnect_reason,
            msg::DisconnectReason::kServiceNotAvailable);
}

TEST(AuthServer, MalformedAndUnknownMethods) {
  ServerOnly s;
  s.authenticator.users["alice"] = {};
  // Unknown method: FAILURE listing what we offer.
  EXPECT_EQ(s.request("alice", "ssh-connection", "hostbased").kind,
            ServerAuthStatus::Kind::kInProgress);
  auto f = UserauthFailureMsg::decode(s.sink.queue.back());
  ASSERT_TRUE(f);
  EXPECT_EQ(f->methods, (std::vector<std::string>{"publickey"}));
  // A garbage key blob is a failure, not a disconnect.
  Bytes fields;
  PublickeyFields{false, "ssh-ed25519", Bytes{0, 0, 0, 1, 'x'}, {}}.encode(fields);
  EXPECT_EQ(s.request("alice", "ssh-connection", "publickey", fields).kind,
            ServerAuthStatus::Kind::kInProgress);
  EXPECT_EQ(s.last_sent(), msg::kUserauthFailure);
  // Truncated publickey fields and trailing bytes are protocol errors.
  fields.push_back(0);
  EXPECT_EQ(s.request("alice", "ssh-connection", "publickey", fields).error, AuthError::kMalformed);
  ServerOnly s2;
  EXPECT_EQ(s2.server.on_message(Bytes{msg::kUserauthRequest, 0, 0}).error, AuthError::kMalformed);
  ServerOnly s3;
  EXPECT_EQ(s3.server.on_message(Bytes{msg::kUserauthSuccess}).error,
            AuthError::kUnexpectedMessage);
}

TEST(AuthClient, BannerAndProtocolErrors) {
  QueueSink sink;
  ClientAuth c(sink, "alice", {});
  // Nothing before start().
  Bytes accept;
  ServiceAcceptMsg{kUserauthService}.encode(accept);
  EXPECT_EQ(c.on_message(accept).kind, ClientAuthStatus::Kind::kProtocolError);

  ClientAuth c2(sink, "alice", {});
  c2.start(kSessionId);
  ASSERT_EQ(sink.queue.size(), 2u);  // SERVICE_REQUEST and USERAUTH_REQUEST "none", pipelined
  EXPECT_EQ(sink.queue[0][0], msg::kServiceRequest);
  EXPECT_EQ(sink.queue[1][0], msg::kUserauthRequest);
  EXPECT_EQ(c2.on_message(accept).kind, ClientAuthStatus::Kind::kInProgress);
  Bytes banner;
  UserauthBannerMsg{"Welcome\n", ""}.encode(banner);
  ClientAuthStatus st = c2.on_message(banner);
  EXPECT_EQ(st.kind, ClientAuthStatus::Kind::kInProgress);
  EXPECT_EQ(st.banner, "Welcome\n");
  // PK_OK with no probe outstanding.
  Bytes pkok;
  UserauthPkOkMsg{"ssh-ed25519", Bytes{1}}.encode(pkok);
  EXPECT_EQ(c2.on_message(pkok).kind, ClientAuthStatus::Kind::kProtocolError);

  ClientAuth c3(sink, "alice", {});
  c3.start(kSessionId);
  EXPECT_EQ(c3.on_message(accept).kind, ClientAuthStatus::Kind::kInProgress);
  Bytes failure;
  UserauthFailureMsg{{"password"}, false}.encode(failure);
  st = c3.on_message(failure);
  EXPECT_EQ(st.kind, ClientAuthStatus::Kind::kFailed);
  EXPECT_EQ(st.message, "Permission denied (password).");
  failure.push_back(0);
  ClientAuth c4(sink, "alice", {});
  c4.start(kSessionId);
  EXPECT_EQ(c4.on_message(accept).kind, ClientAuthStatus::Kind::kInProgress);
  EXPECT_EQ(c4.on_message(failure).error, AuthError::kMalformed);
}


// The decisions are asked for and waited on: the user first, then the key (for an unknown user
// too), and the request goes on only when each is answered.
TEST(AuthServer, DecisionsAreQueriesAnsweredLater) {
  QueueSink sink;
  ServerAuth server(sink);
  server.set_session_id(kSessionId);
  Bytes b;
  ServiceRequestMsg{kUserauthService}.encode(b);
  EXPECT_EQ(server.on_message(b).kind, ServerAuthStatus::Kind::kInProgress);
  sink.queue.clear();

  auto key = make_key(KeyType::kEd25519);
  const Bytes& blob = key->public_key().blob();
  Bytes sig = key->sign("ssh-ed25519", publickey_signed_data(kSessionId, "nobody",
                                                             "ssh-connection", "ssh-ed25519", blob));
  Bytes fields;
  PublickeyFields{true, "ssh-ed25519", blob, sig}.encode(fields);
  b.clear();
  UserauthRequestMsg{"nobody", "ssh-connection", "publickey", fields}.encode(b);
  ServerAuthStatus st = server.on_message(b);
  ASSERT_EQ(st.kind, ServerAuthStatus::Kind::kQuery);
  EXPECT_EQ(st.query->kind, AuthQuery::Kind::kUser);
  EXPECT_EQ(st.query->user, "nobody");
  EXPECT_TRUE(server.waiting());
  EXPECT_TRUE(sink.queue.empty());  // nothing answered yet

  st = server.answer_user(false);
  ASSERT_EQ(st.kind, ServerAuthStatus::Kind::kQuery);
  EXPECT_EQ(st.query->kind, AuthQuery::Kind::kKey);  // the unknown user's key is looked up too
  EXPECT_EQ(*st.query->key, key->public_key());
  ASSERT_EQ(st.events.size(), 1u);
  EXPECT_EQ(st.events[0].kind, AuthEvent::Kind::kInvalidUser);

  // The wrong answer kind, or feeding while waiting, is a caller error: disconnect.
  {
    QueueSink other_sink;
    ServerAuth other(other_sink);
    EXPECT_EQ(other.answer_key(keys::KeyOptions{}).kind, ServerAuthStatus::Kind::kDisconnect);
  }

  // An authorized answer for an unknown user still fails.
  st = server.answer_key(keys::KeyOptions{});
  EXPECT_EQ(st.kind, ServerAuthStatus::Kind::kInProgress);
  ASSERT_EQ(sink.queue.size(), 1u);
  EXPECT_EQ(sink.queue.back()[0], msg::kUserauthFailure);
  EXPECT_FALSE(server.waiting());
  EXPECT_EQ(server.on_message(b).kind, ServerAuthStatus::Kind::kQuery);  // the key again
  EXPECT_EQ(server.on_message(b).kind, ServerAuthStatus::Kind::kDisconnect);  // fed while waiting
}

}  // namespace
}  // namespace hashi::auth
