// TCP helpers for the Asio drivers (client and server): connecting with ConnectTimeout across
// every resolved address, socket options for low latency, listening sockets for
// ListenAddress/Port, and the "ip port" strings used in logs and SSH_CONNECTION.
#pragma once

#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

namespace hashi::net {

// AddressFamily (ssh_config / sshd_config): which address families to resolve and use.
enum class AddressFamily { kAny, kInet, kInet6 };

// Called before each connection attempt with the address being tried, and after it with the
// outcome (ec empty on success) — for "debug1: Connecting to ..." style logs.
using ConnectObserver =
    std::function<void(const asio::ip::tcp::endpoint& endpoint, const std::error_code* outcome)>;

// connect_with_timeout resolves host/port (port may be a number or a service name) and tries each
// address in resolver order (IPv6 and IPv4 alike, filtered by `family`) until one connects, as
// ssh does. `timeout` bounds each connection attempt (ConnectTimeout; zero = only the kernel's
// own timeout); name resolution is not bounded (getaddrinfo cannot be cancelled).
// On success returns the connected socket with tune_socket's defaults applied and clears `ec`.
// On failure returns a closed socket and sets `ec`: the resolver's error (e.g.
// asio::error::host_not_found) when nothing resolved, else the last attempt's error
// (connection_refused, timed_out, network_unreachable, ...). `ec` must stay alive until the
// coroutine completes (co_await it directly).
asio::awaitable<asio::ip::tcp::socket> connect_with_timeout(
    asio::any_io_executor executor, std::string host, std::string port,
    std::chrono::milliseconds timeout, std::error_code& ec,
    AddressFamily family = AddressFamily::kAny, ConnectObserver observer = nullptr);

// Socket options applied to every connection, client and server side.
struct SocketOptions {
  // TCP_NODELAY: SSH packets are written whole, so Nagle only delays keystrokes and the last
  // packet of a burst (DESIGN.md: no Nagle/delayed-ACK stalls).
  bool no_delay = true;
  // SO_KEEPALIVE (TCPKeepAlive yes, the OpenSSH default).
  bool keep_alive = true;
  // SO_SNDBUF / SO_RCVBUF in bytes; 0 leaves the kernel's choice. Leave them at 0 on Linux: an
  // explicit size turns off the kernel's buffer autotuning, which already grows buffers to
  // tcp_rmem/tcp_wmem's maximum (several MiB) on long fat paths — a fixed size would cap
  // throughput at size/RTT instead of raising it.
  int send_buffer = 0;
  int receive_buffer = 0;
};

// tune_socket applies `options` to an open socket. Returns the first failure (the remaining
// options are still attempted), or an empty error_code.
std::error_code tune_socket(asio::ip::tcp::socket& socket, const SocketOptions& options = {});

// set_ip_tos sets the IPv4 TOS byte or IPv6 traffic class (IPQoS; e.g. 0x48 for af21,
// 0x20 for cs1), according to the socket's family.
std::error_code set_ip_tos(asio::ip::tcp::socket& socket, int tos);

// One ListenAddress entry: a host name or address literal ("" = wildcard) and a port.
struct ListenSpec {
  std::string host;
  uint16_t port = 22;
};

// default_listen_specs returns sshd's defaults for `ports`: 0.0.0.0 and :: (per `family`) on each.
std::vector<ListenSpec> default_listen_specs(const std::vector<uint16_t>& ports,
                                             AddressFamily family);

// resolve_listen resolves every spec (AI_PASSIVE, numeric port) into endpoints, keeping only
// `family`'s addresses and dropping duplicates. Blocking (meant for start-up). On failure returns
// an empty vector with `error` set ("bad addr or host: <host> (<reason>)", sshd's wording).
std::vector<asio::ip::tcp::endpoint> resolve_listen(const std::vector<ListenSpec>& specs,
                                                    AddressFamily family, std::string& error);

// Listen queue length asked of the kernel (it caps it at net.core.somaxconn). Larger than sshd's
// 128 so a burst of connection attempts queues instead of being dropped; MaxStartups, not the
// queue, is the policy limit.
inline constexpr int kListenBacklog = SOMAXCONN;

// open_listener opens, configures (SO_REUSEADDR; IPV6_V6ONLY on IPv6, so "::" and "0.0.0.0" can
// both be bound), binds and listens on `endpoint`. On failure returns a closed acceptor and sets
// `ec` (e.g. address_in_use); log it as sshd does: "Bind to port P on A failed: <reason>.".
asio::ip::tcp::acceptor open_listener(asio::any_io_executor executor,
                                      const asio::ip::tcp::endpoint& endpoint,
                                      std::error_code& ec, int backlog = kListenBacklog);

// address_string formats an address for logs, showing an IPv4-mapped IPv6 address as plain IPv4
// (as sshd's ipv64_normalise_mapped), so "::ffff:192.0.2.1" reads "192.0.2.1".
std::string address_string(const asio::ip::address& address);

// format_endpoint returns "ip port" (e.g. "192.0.2.1 50000"), the form used by SSH_CONNECTION.
std::string format_endpoint(const asio::ip::tcp::endpoint& endpoint);

// ssh_connection_value returns SSH_CONNECTION: "client_ip client_port server_ip server_port".
std::string ssh_connection_value(const asio::ip::tcp::endpoint& client,
                                 const asio::ip::tcp::endpoint& server);

// ssh_client_value returns SSH_CLIENT: "client_ip client_port server_port".
std::string ssh_client_value(const asio::ip::tcp::endpoint& client,
                             const asio::ip::tcp::endpoint& server);

}  // namespace hashi::net
