#include "auth/types.h"

#include <algorithm>

namespace hashi::auth {

std::string_view method_name(AuthMethod method) {
  switch (method) {
    case AuthMethod::kNone:
      return "none";
    case AuthMethod::kPublickey:
      return "publickey";
    case AuthMethod::kPassword:
      return "password";
    case AuthMethod::kKeyboardInteractive:
      return "keyboard-interactive";
  }
  return "none";
}

std::optional<AuthMethod> method_from_name(std::string_view name) {
  for (AuthMethod m : {AuthMethod::kNone, AuthMethod::kPublickey, AuthMethod::kPassword,
                       AuthMethod::kKeyboardInteractive}) {
    if (method_name(m) == name) return m;
  }
  return std::nullopt;
}

std::string_view key_log_label(keys::KeyType type) {
  switch (type) {
    case keys::KeyType::kEd25519:
      return "ED25519";
    case keys::KeyType::kRsa:
      return "RSA";
    case keys::KeyType::kEcdsaP256:
    case keys::KeyType::kEcdsaP384:
    case keys::KeyType::kEcdsaP521:
      return "ECDSA";
  }
  return "UNKNOWN";
}

std::string_view choose_signature_algorithm(keys::KeyType type,
                                            const std::vector<std::string>& server_sig_algs) {
  std::vector<std::string_view> ours = keys::signature_algorithms(type);
  for (std::string_view alg : ours) {
    if (std::find(server_sig_algs.begin(), server_sig_algs.end(), alg) != server_sig_algs.end()) {
      return alg;
    }
  }
  return ours.front();
}

}  // namespace hashi::auth
