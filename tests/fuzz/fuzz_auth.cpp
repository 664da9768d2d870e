// Fuzz target: arbitrary payload sequences into a ServerAuth.
//
// Input: a sequence of chunks, each a 2-byte big-endian length followed by that many bytes (one
// message payload). The Authenticator knows user "alice" and authorizes every key for her, so
// well-formed publickey requests reach signature verification. The session id is fixed (32 bytes
// of 0x5a) so seeds can carry valid signatures. Its decisions answer ServerAuth's queries at
// once (answer_query). Stops at disconnect or success.
#include <cstddef>
#include <cstdint>

#include "auth/server_auth.h"

namespace {

using namespace hashi;
using namespace hashi::auth;

struct NullSink : PayloadSink {
  void send(ByteView) override {}
  void send2(ByteView, ByteView) override {}
};

struct AliceAnyKey : Authenticator {
  bool user_exists(std::string_view user) override { return user == "alice"; }
  std::optional<keys::KeyOptions> authorize_key(std::string_view user,
                                                const keys::PublicKey&) override {
    if (user != "alice") return std::nullopt;
    return keys::KeyOptions{};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Bytes kSessionId(32, 0x5a);
  NullSink sink;
  AliceAnyKey authenticator;
  ServerAuthLimits limits;
  limits.pubkey_algorithms.push_back("ssh-rsa");
  ServerAuth server(sink, limits);
  server.set_session_id(kSessionId);
  ByteView in(data, size);
  while (in.size() >= 2) {
    size_t len = (size_t(in[0]) << 8) | in[1];
    in = in.subspan(2);
    if (len > in.size()) len = in.size();
    ServerAuthStatus s = answer_query(server, authenticator, server.on_message(in.first(len)));
    in = in.subspan(len);
    if (s.kind != ServerAuthStatus::Kind::kInProgress) break;
    for (const auto& e : s.events) (void)e.log_line("192.0.2.1", 22);
  }
  return 0;
}
