// The server side of host-key rotation (OpenSSH PROTOCOL section 2.5): the
// "hostkeys-00@openssh.com" announcement after authentication and the answer to
// "hostkeys-prove-00@openssh.com".
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "keys/key.h"
#include "wire/bytes.h"

namespace hashi::server {

using HostKeyList = std::vector<std::shared_ptr<const keys::PrivateKey>>;

// hostkeys_announcement returns the hostkeys-00 request data: every host key's public blob.
Bytes hostkeys_announcement(const HostKeyList& host_keys);

// prove_hostkeys answers a hostkeys-prove-00 request: for each requested blob, in order, a
// string signature over hostkeys_prove_data(session_id, blob) made with our private key for it
// (RSA with the negotiated rsa-sha2-* algorithm, else rsa-sha2-512). nullopt (the caller replies
// REQUEST_FAILURE) if the data is malformed, asks for no key, or names a key we do not hold.
std::optional<Bytes> prove_hostkeys(const HostKeyList& host_keys, ByteView request_data,
                                    ByteView session_id, std::string_view negotiated_hostkey_alg);

}  // namespace hashi::server
