// The per-connection server driver: a poll loop that moves bytes between the client's socket,
// the ServerConnection core and the processes its session channels run. One process runs one
// connection (hashi-server forks per connection, as sshd).
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "config/server_config.h"
#include "server/server_connection.h"

namespace hashi::server {

struct PeerInfo {
  std::string remote_ip;
  uint16_t remote_port = 0;
  std::string local_ip;
  uint16_t local_port = 0;
};

// Serves one accepted connection until it ends. Logs in sshd's words.
void serve_connection(int sock, const PeerInfo& peer, const config::ServerOptions& options,
                      transport::TransportConfig transport_config);

}  // namespace hashi::server
