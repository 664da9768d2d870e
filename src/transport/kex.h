// Key-exchange methods: one run of the exchange that yields the shared secret K and exchange
// hash H, signed by the server's host key (RFC 4253 section 8, RFC 5656 section 4 (ECDH),
// RFC 8731 (curve25519), RFC 4419 (group exchange), RFC 8268 (more MODP groups)).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/secret.h"
#include "crypto/hash.h"
#include "crypto/kem.h"
#include "crypto/kex_primitives.h"
#include "keys/key.h"
#include "transport/status.h"
#include "wire/bytes.h"

namespace hashi::transport {

// kHybrid: a post-quantum KEM combined with X25519 (OpenSSH PROTOCOL, draft-ietf-sshm-mlkem-hybrid-kex).
enum class KexFamily { kEcdh, kDhGroup, kDhGex, kHybrid };

struct KexMethodInfo {
  std::string_view name;
  KexFamily family;
  crypto::HashAlg hash;
  bool x25519 = false;               // kEcdh: X25519 instead of a NIST curve
  crypto::Curve curve = crypto::Curve::kP256;  // kEcdh with x25519 false
  int modp_group = 0;                // kDhGroup: RFC 3526 group id
  const crypto::Kem& (*kem)() = nullptr;  // kHybrid: the KEM paired with X25519
};

// The kex method table; nullptr for unknown names.
const KexMethodInfo* find_kex_method(std::string_view name);
// Every name in that table (config/algorithms.cpp's registry must name exactly these).
std::vector<std::string_view> kex_method_names();

// What both sides hash into H besides the method's own values.
struct KexTranscript {
  std::string client_version, server_version;  // without CR LF
  Bytes client_kexinit, server_kexinit;        // whole payloads
};

// Sizes a client asks for in a group exchange (RFC 4419 section 3; OpenSSH's bounds).
struct GexRequest {
  uint32_t min = 2048;
  uint32_t preferred = 3072;
  uint32_t max = 8192;
};

// One run of a key exchange, in either role. Messages come in through on_message() and go out
// by appending payloads to `out`.
class KeyExchange {
 public:
  // Client side: `host_key_algorithm` is the negotiated one the server must sign with.
  static std::unique_ptr<KeyExchange> client(const KexMethodInfo& method, KexTranscript transcript,
                                             std::string host_key_algorithm, GexRequest gex = {});
  // Server side: H is signed with `host_key` using `host_key_algorithm` by whoever holds the
  // private key: after the client's init message, awaiting_signature() is true and the reply
  // waits for set_signature().
  static std::unique_ptr<KeyExchange> server(const KexMethodInfo& method, KexTranscript transcript,
                                             keys::PublicKey host_key,
                                             std::string host_key_algorithm);
  ~KeyExchange();

  // Client: queues the first message (KEX_ECDH_INIT / KEXDH_INIT / KEX_DH_GEX_REQUEST).
  // Server: does nothing.
  void start(std::vector<Bytes>& out);
  // Handles one method message (numbers 30-49). Errors: a message this step does not expect,
  // malformed values, an invalid peer public value, a signature that does not verify.
  Status on_message(ByteView payload, std::vector<Bytes>& out);
  bool done() const { return done_; }
  // Server: H is computed and the reply waits for its signature (exchange_hash() is valid).
  bool awaiting_signature() const { return step_ == Step::kAwaitSignature && !done_; }
  const std::string& host_key_algorithm() const { return host_key_algorithm_; }
  // Server: queues the reply carrying `signature` (of exchange_hash()) and finishes. Error if no
  // signature is awaited or it is empty.
  Status set_signature(ByteView signature, std::vector<Bytes>& out);

  const KexMethodInfo& method() const { return method_; }
  // H (valid when done()).
  const Bytes& exchange_hash() const { return hash_; }
  // K encoded as it enters H and the key derivation: an mpint for the classical methods, a
  // string holding HASH(kem_secret || x25519_secret) for the hybrid ones.
  const SecretBytes& shared_secret_mpint() const { return k_mpint_; }
  // The server's host key (client: its signature over H verified).
  const std::optional<keys::PublicKey>& host_key() const { return host_key_; }

 private:
  enum class Step { kStart, kAwaitInit, kAwaitGexRequest, kAwaitGroup, kAwaitReply, kAwaitSignature };

  KeyExchange(const KexMethodInfo& method, KexTranscript transcript);
  Status client_on_group(ByteView payload, std::vector<Bytes>& out);
  Status client_on_reply(ByteView payload);
  Status server_on_gex_request(ByteView payload, std::vector<Bytes>& out);
  Status server_on_init(ByteView payload, std::vector<Bytes>& out);
  // Hashes the transcript, K_S, the method's values and K into hash_.
  void compute_hash(ByteView host_key_blob, ByteView client_value, ByteView server_value);
  bool values_are_mpints() const {
    return method_.family != KexFamily::kEcdh && method_.family != KexFamily::kHybrid;
  }
  // Hybrid: the shared secret from the KEM part and the X25519 part, hashed and string-encoded.
  void set_hybrid_secret(ByteView kem_secret, ByteView x25519_secret);

  const KexMethodInfo& method_;
  KexTranscript transcript_;
  bool is_server_ = false;
  Step step_ = Step::kStart;
  bool done_ = false;
  std::string host_key_algorithm_;
  Bytes server_value_;  // server: our value, sent with the signature
  GexRequest gex_;
  Bytes gex_p_, gex_g_;
  std::unique_ptr<crypto::KeyAgreement> agreement_;
  Bytes kem_public_;        // hybrid client: our KEM public key (sent in the init message)
  SecretBytes kem_secret_;  // hybrid client: our KEM secret key
  Bytes hash_;
  SecretBytes k_mpint_;
  std::optional<keys::PublicKey> host_key_;
};

}  // namespace hashi::transport
