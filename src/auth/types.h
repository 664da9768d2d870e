// Types shared by the client and server user-authentication state machines (RFC 4252).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keys/key.h"

namespace hashi::auth {

// Authentication methods, in the order a PreferredAuthentications list names them.
enum class AuthMethod { kNone, kPublickey, kPassword, kKeyboardInteractive };

// The method's name on the wire ("none", "publickey", "password", "keyboard-interactive").
std::string_view method_name(AuthMethod method);
// The method for a wire name; nullopt if unknown.
std::optional<AuthMethod> method_from_name(std::string_view name);

enum class AuthError {
  kNone = 0,
  kMalformed,            // a message that does not decode
  kUnexpectedMessage,    // a message not valid in the current state
  kServiceNotAvailable,  // SERVICE_REQUEST / USERAUTH_REQUEST for a service we do not offer
  kChangedUserOrService, // user or service changed between requests (OpenSSH disconnects too)
  kTooManyFailures,      // MaxAuthTries reached
};

// OpenSSH's key-type label in log lines: "ED25519", "ECDSA", "RSA".
std::string_view key_log_label(keys::KeyType type);

// The signature algorithm a client uses with a key of `type`. For RSA: the first of
// rsa-sha2-512, rsa-sha2-256, ssh-rsa that `server_sig_algs` lists (RFC 8308 server-sig-algs);
// rsa-sha2-512 when the list is empty or names none of them.
std::string_view choose_signature_algorithm(keys::KeyType type,
                                            const std::vector<std::string>& server_sig_algs);

}  // namespace hashi::auth
