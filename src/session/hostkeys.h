// Host-key rotation (OpenSSH PROTOCOL section 2.5), the wire side both roles use: the
// "hostkeys-00@openssh.com" announcement a server sends after authentication and the
// "hostkeys-prove-00@openssh.com" request and its proof. The client's known_hosts update lives in
// client/hostkeys_update.h; the Session announces and proves on the server side.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keys/key.h"
#include "wire/bytes.h"

namespace hashi::session {

inline constexpr std::string_view kHostkeysRequest = "hostkeys-00@openssh.com";
inline constexpr std::string_view kHostkeysProveRequest = "hostkeys-prove-00@openssh.com";
// A server announcing more keys than this is not believed (OpenSSH has no limit; sshd offers
// one per HostKey line).
inline constexpr size_t kMaxAnnouncedHostKeys = 64;

// encode_hostkeys returns the request data: one string per key blob.
Bytes encode_hostkeys(const std::vector<keys::PublicKey>& keys);

// parse_hostkeys parses a hostkeys-00 / hostkeys-prove-00 request's data (strings of key blobs).
// Blobs of key types we do not know are skipped and counted in `num_unsupported`. nullopt if the
// data is malformed, a known-type blob does not decode, a key repeats, or there are more than
// kMaxAnnouncedHostKeys.
std::optional<std::vector<keys::PublicKey>> parse_hostkeys(ByteView data, size_t& num_unsupported);

// hostkeys_prove_data is what each proof signs: string "hostkeys-prove-00@openssh.com",
// string session identifier, string host-key blob.
Bytes hostkeys_prove_data(ByteView session_id, ByteView blob);

// hostkeys_prove_algorithm is the signature algorithm a server signs a proof with: the key's
// own, and for RSA the negotiated host-key algorithm when that is an RSA/SHA-2 one, otherwise
// rsa-sha2-512 (sshd's server_input_hostkeys_prove).
std::string hostkeys_prove_algorithm(keys::KeyType type, std::string_view negotiated_hostkey_alg);

// verify_hostkeys_proof checks a hostkeys-prove reply (one string signature per key, in order,
// nothing after) for `keys`. RSA proofs use rsa-sha2-256 or rsa-sha2-512; ssh-rsa (SHA-1) only
// when `allow_rsa_sha1` — a client that offered no rsa-sha2-* host-key algorithm, to which
// sshd falls back to SHA-1 (OpenSSH's client accepts it whatever it offered).
bool verify_hostkeys_proof(const std::vector<keys::PublicKey>& keys, ByteView session_id,
                           ByteView reply, bool allow_rsa_sha1);

using HostKeyList = std::vector<std::shared_ptr<const keys::PrivateKey>>;

// hostkeys_announcement returns the hostkeys-00 request data: every host key's public blob.
Bytes hostkeys_announcement(const HostKeyList& host_keys);

// prove_hostkeys answers a hostkeys-prove-00 request: for each requested blob, in order, a
// string signature over hostkeys_prove_data(session_id, blob) made with our private key for it
// (RSA with the negotiated rsa-sha2-* algorithm, else rsa-sha2-512). nullopt (the caller replies
// REQUEST_FAILURE) if the data is malformed, asks for no key, or names a key we do not hold.
std::optional<Bytes> prove_hostkeys(const HostKeyList& host_keys, ByteView request_data,
                                    ByteView session_id, std::string_view negotiated_hostkey_alg);

}  // namespace hashi::session
