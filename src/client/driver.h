// The client's I/O driver: a poll loop that moves bytes between the socket, the standard
// descriptors and a ClientConnection core.
#pragma once

#include <string>

#include "client/client_connection.h"

namespace hashi::client {

struct DriverResult {
  int exit_code = 255;
  std::string error;  // empty on a clean finish
};

// Runs `conn` over the connected socket until the session ends. Reads stdin (fd 0) for the
// channel unless `read_stdin` is false (then the channel gets EOF at once), writes the channel's
// data to fds 1 and 2. Without a session (-N) it runs until the server closes the connection
// (exit code 255) or SIGINT/SIGTERM arrives (a clean DISCONNECT, exit code 0). The socket is not
// closed.
DriverResult run_client(int sock, ClientConnection& conn, bool read_stdin);

}  // namespace hashi::client
