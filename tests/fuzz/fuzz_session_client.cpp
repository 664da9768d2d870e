// Fuzz target for a whole client-role session::Session fed the bytes a server would send: the
// transport up to the signature check over H (any host key is trusted), banners, and the routing
// of whatever follows. See session_fuzz.h for the input format. Seeds: fuzz_transport_client's.
#include "fuzz/session_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hashi;
  session::SessionConfig c;
  c.role = transport::Role::kClient;
  c.transport = fuzz::all_algorithms(transport::Role::kClient);
  c.user = "alice";
  session::Session s(std::move(c));
  return fuzz::run(s, data, size);
}
