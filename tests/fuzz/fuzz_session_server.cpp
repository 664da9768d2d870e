// Fuzz target for a whole server-role session::Session fed the bytes a client would send: the
// transport, the routing, asynchronous authentication (answered yes at once), the channel mux
// and hostkeys-prove. See session_fuzz.h for the input format. Seeds: fuzz_transport_server's.
#include <memory>

#include "fuzz/session_fuzz.h"
#include "keys/key.h"

namespace {

using namespace hashi;

const std::shared_ptr<const keys::PrivateKey>& host_key() {
  static const auto key =
      std::make_shared<const keys::PrivateKey>(keys::PrivateKey::generate(keys::KeyType::kEd25519));
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  session::SessionConfig c;
  c.role = transport::Role::kServer;
  c.transport = fuzz::all_algorithms(transport::Role::kServer);
  c.transport.host_keys = {host_key()};
  session::Session s(std::move(c));
  return fuzz::run(s, data, size);
}
