#include "net/tcp.h"

#include <netinet/in.h>
#include <netinet/ip.h>

#include <algorithm>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

namespace hashi::net {

using asio::ip::tcp;

namespace {

bool family_allows(AddressFamily family, const tcp::endpoint& endpoint) {
  switch (family) {
    case AddressFamily::kInet:
      return endpoint.address().is_v4();
    case AddressFamily::kInet6:
      return endpoint.address().is_v6();
    case AddressFamily::kAny:
      return true;
  }
  return true;
}

// One attempt on a fresh socket, bounded by `timeout` when it is positive.
asio::awaitable<std::error_code> attempt_connect(tcp::socket& socket,
                                                 const tcp::endpoint& endpoint,
                                                 std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  auto token = asio::experimental::as_tuple(asio::use_awaitable);
  if (timeout.count() <= 0) {
    auto [ec] = co_await socket.async_connect(endpoint, token);
    co_return ec;
  }
  asio::steady_timer timer(socket.get_executor());
  timer.expires_after(timeout);
  // as_tuple keeps a failed connect from throwing, so whichever finishes first wins the race
  // and the other is cancelled.
  auto winner = co_await (socket.async_connect(endpoint, token) || timer.async_wait(token));
  if (winner.index() == 1) {
    co_return std::error_code(asio::error::timed_out);
  }
  co_return std::get<0>(std::get<0>(winner));
}

}  // namespace

asio::awaitable<tcp::socket> connect_with_timeout(asio::any_io_executor executor,
                                                  std::string host, std::string port,
                                                  std::chrono::milliseconds timeout,
                                                  std::error_code& ec, AddressFamily family,
                                                  ConnectObserver observer) {
  ec.clear();
  auto token = asio::experimental::as_tuple(asio::use_awaitable);
  tcp::resolver resolver(executor);
  // No AI_ADDRCONFIG (asio's default): ssh does not filter by configured addresses, and it
  // would hide ::1 on hosts whose only IPv6 address is loopback.
  auto flags = tcp::resolver::flags();
  std::error_code resolve_ec;
  tcp::resolver::results_type results;
  if (family == AddressFamily::kInet) {
    std::tie(resolve_ec, results) =
        co_await resolver.async_resolve(tcp::v4(), host, port, flags, token);
  } else if (family == AddressFamily::kInet6) {
    std::tie(resolve_ec, results) =
        co_await resolver.async_resolve(tcp::v6(), host, port, flags, token);
  } else {
    std::tie(resolve_ec, results) = co_await resolver.async_resolve(host, port, flags, token);
  }
  if (resolve_ec) {
    ec = resolve_ec;
    co_return tcp::socket(executor);
  }

  ec = asio::error::host_not_found;  // stays if every result was filtered out
  for (const auto& entry : results) {
    tcp::endpoint endpoint = entry.endpoint();
    if (!family_allows(family, endpoint)) {
      continue;
    }
    if (observer) {
      observer(endpoint, nullptr);
    }
    tcp::socket socket(executor);
    std::error_code attempt = co_await attempt_connect(socket, endpoint, timeout);
    if (observer) {
      observer(endpoint, &attempt);
    }
    if (!attempt) {
      ec.clear();
      tune_socket(socket);  // best effort: a failed option does not fail the connection
      co_return socket;
    }
    ec = attempt;
    std::error_code ignored;
    socket.close(ignored);
  }
  co_return tcp::socket(executor);
}

std::error_code tune_socket(tcp::socket& socket, const SocketOptions& options) {
  std::error_code first;
  auto note = [&](const std::error_code& ec) {
    if (ec && !first) {
      first = ec;
    }
  };
  std::error_code ec;
  if (options.no_delay) {
    socket.set_option(tcp::no_delay(true), ec);
    note(ec);
  }
  if (options.keep_alive) {
    socket.set_option(asio::socket_base::keep_alive(true), ec);
    note(ec);
  }
  if (options.send_buffer > 0) {
    socket.set_option(asio::socket_base::send_buffer_size(options.send_buffer), ec);
    note(ec);
  }
  if (options.receive_buffer > 0) {
    socket.set_option(asio::socket_base::receive_buffer_size(options.receive_buffer), ec);
    note(ec);
  }
  return first;
}

std::error_code set_ip_tos(tcp::socket& socket, int tos) {
  std::error_code ec;
  tcp::endpoint local = socket.local_endpoint(ec);
  if (ec) {
    return ec;
  }
  if (local.address().is_v6()) {
    socket.set_option(asio::detail::socket_option::integer<IPPROTO_IPV6, IPV6_TCLASS>(tos), ec);
    // A v6 socket may carry v4-mapped traffic; IP_TOS then applies too (failure is harmless).
    std::error_code ignored;
    socket.set_option(asio::detail::socket_option::integer<IPPROTO_IP, IP_TOS>(tos), ignored);
  } else {
    socket.set_option(asio::detail::socket_option::integer<IPPROTO_IP, IP_TOS>(tos), ec);
  }
  return ec;
}

std::vector<ListenSpec> default_listen_specs(const std::vector<uint16_t>& ports,
                                             AddressFamily family) {
  std::vector<ListenSpec> specs;
  for (uint16_t port : ports) {
    if (family != AddressFamily::kInet6) {
      specs.push_back({"0.0.0.0", port});
    }
    if (family != AddressFamily::kInet) {
      specs.push_back({"::", port});
    }
  }
  return specs;
}

std::vector<tcp::endpoint> resolve_listen(const std::vector<ListenSpec>& specs,
                                          AddressFamily family, std::string& error) {
  asio::io_context io;
  tcp::resolver resolver(io);
  std::vector<tcp::endpoint> endpoints;
  for (const auto& spec : specs) {
    std::error_code ec;
    auto flags = tcp::resolver::passive | tcp::resolver::numeric_service;
    auto results = resolver.resolve(spec.host, std::to_string(spec.port), flags, ec);
    if (ec) {
      error = "bad addr or host: " + spec.host + " (" + ec.message() + ")";
      return {};
    }
    for (const auto& entry : results) {
      tcp::endpoint endpoint = entry.endpoint();
      if (family_allows(family, endpoint) &&
          std::find(endpoints.begin(), endpoints.end(), endpoint) == endpoints.end()) {
        endpoints.push_back(endpoint);
      }
    }
  }
  return endpoints;
}

tcp::acceptor open_listener(asio::any_io_executor executor, const tcp::endpoint& endpoint,
                            std::error_code& ec, int backlog) {
  tcp::acceptor acceptor(executor);
  auto fail = [&] {
    std::error_code ignored;
    acceptor.close(ignored);
    return std::move(acceptor);
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) {
    return fail();
  }
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) {
    return fail();
  }
  if (endpoint.address().is_v6()) {
    acceptor.set_option(asio::ip::v6_only(true), ec);
    if (ec) {
      return fail();
    }
  }
  acceptor.bind(endpoint, ec);
  if (ec) {
    return fail();
  }
  acceptor.listen(backlog, ec);
  if (ec) {
    return fail();
  }
  return acceptor;
}

std::string address_string(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
  return address_string(endpoint.address()) + " " + std::to_string(endpoint.port());
}

std::string ssh_connection_value(const tcp::endpoint& client, const tcp::endpoint& server) {
  return format_endpoint(client) + " " + format_endpoint(server);
}

std::string ssh_client_value(const tcp::endpoint& client, const tcp::endpoint& server) {
  return format_endpoint(client) + " " + std::to_string(server.port());
}

}  // namespace hashi::net
