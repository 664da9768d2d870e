#include "session/policy.h"

namespace hashi::session {

namespace {

// Each completion holds the Session weakly: an answer that comes after the connection is gone
// is dropped.
struct Router {
  std::weak_ptr<Session> weak;
  const Policies& policies;

  bool operator()(const UserQuery& q) const {
    if (policies.authenticator == nullptr) return answer([&](Session& s) { s.answer_user(q.id, false); });
    Authenticator* authenticator = policies.authenticator;
    authenticator->check_user(q.user, [w = weak, id = q.id, authenticator](bool ok) {
      if (auto s = w.lock()) s->answer_user(id, ok, authenticator->max_auth_tries());
    });
    return true;
  }

  bool operator()(const KeyQuery& q) const {
    if (policies.authenticator == nullptr) {
      return answer([&](Session& s) { s.answer_key(q.id, std::nullopt); });
    }
    policies.authenticator->check_key(
        q.user, q.key, [w = weak, id = q.id](std::optional<keys::KeyOptions> options) {
          if (auto s = w.lock()) s->answer_key(id, std::move(options));
        });
    return true;
  }

  bool operator()(const SignQuery& q) const {
    if (policies.signer == nullptr) return answer([&](Session& s) { s.fail_signature(q.id); });
    policies.signer->sign(q.key, q.algorithm, q.data,
                          [w = weak, id = q.id](std::optional<Bytes> signature) {
                            auto s = w.lock();
                            if (!s) return;
                            if (signature) {
                              s->answer_signature(id, std::move(*signature));
                            } else {
                              s->fail_signature(id);
                            }
                          });
    return true;
  }

  bool operator()(const HostKeyQuery& q) const {
    if (policies.verifier == nullptr) {
      return answer([&](Session& s) {
        s.answer_host_key(q.id, Status::fail(msg::DisconnectReason::kHostKeyNotVerifiable,
                                             "no host key verifier"));
      });
    }
    policies.verifier->check(q.key, [w = weak, id = q.id](Status verdict) {
      if (auto s = w.lock()) s->answer_host_key(id, std::move(verdict));
    });
    return true;
  }

  template <typename E>
  bool operator()(const E&) const {
    return false;
  }

  template <typename F>
  bool answer(F f) const {
    if (auto s = weak.lock()) f(*s);
    return true;
  }
};

}  // namespace

bool route_query(const std::shared_ptr<Session>& session, const Event& event,
                 const Policies& policies) {
  return std::visit(Router{session, policies}, event);
}

}  // namespace hashi::session
