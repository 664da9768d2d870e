// Tests for src/net/tcp: connecting with a timeout, socket options, listeners, formatting.
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/tcp.h"

namespace hashi::net {
namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;

struct ConnectOutcome {
  std::error_code ec;
  bool open = false;
  bool no_delay = false;
  std::vector<std::string> attempts;
  std::chrono::steady_clock::duration took{};
};

ConnectOutcome run_connect(asio::io_context& io, std::string host, std::string port,
                           std::chrono::milliseconds timeout,
                           AddressFamily family = AddressFamily::kAny) {
  ConnectOutcome out;
  auto start = std::chrono::steady_clock::now();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto observer = [&](const tcp::endpoint& ep, const std::error_code* outcome) {
          if (outcome == nullptr) out.attempts.push_back(format_endpoint(ep));
        };
        tcp::socket s = co_await connect_with_timeout(io.get_executor(), host, port, timeout,
                                                      out.ec, family, observer);
        out.open = s.is_open();
        if (out.open) {
          tcp::no_delay nd;
          s.get_option(nd);
          out.no_delay = nd.value();
        }
      },
      asio::detached);
  io.restart();
  io.run();
  out.took = std::chrono::steady_clock::now() - start;
  return out;
}

TEST(OsTcp, ListensOnLoopbackEphemeralPortAndConnects) {
  asio::io_context io;
  std::error_code ec;
  tcp::acceptor acceptor =
      open_listener(io.get_executor(), {asio::ip::make_address("127.0.0.1"), 0}, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(acceptor.is_open());
  uint16_t port = acceptor.local_endpoint().port();
  EXPECT_NE(port, 0);
  asio::socket_base::reuse_address reuse;
  acceptor.get_option(reuse);
  EXPECT_TRUE(reuse.value());

  tcp::socket accepted(io);
  acceptor.async_accept(accepted, [](std::error_code) {});
  auto out = run_connect(io, "127.0.0.1", std::to_string(port), 2000ms);
  EXPECT_FALSE(out.ec) << out.ec.message();
  EXPECT_TRUE(out.open);
  EXPECT_TRUE(out.no_delay);
  ASSERT_TRUE(accepted.is_open());
  EXPECT_FALSE(tune_socket(accepted));
  tcp::no_delay nd;
  accepted.get_option(nd);
  EXPECT_TRUE(nd.value());
  asio::socket_base::keep_alive ka;
  accepted.get_option(ka);
  EXPECT_TRUE(ka.value());
  EXPECT_FALSE(set_ip_tos(accepted, 0x48));
  ASSERT_EQ(out.attempts.size(), 1u);
  EXPECT_EQ(out.attempts[0], "127.0.0.1 " + std::to_string(port));
}

TEST(OsTcp, ClosedPortIsRefusedFast) {
  asio::io_context io;
  std::error_code ec;
  uint16_t port;
  {
    tcp::acceptor a = open_listener(io.get_executor(), {asio::ip::make_address("127.0.0.1"), 0}, ec);
    ASSERT_FALSE(ec);
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  auto out = run_connect(io, "127.0.0.1", std::to_string(port), 5000ms);
  EXPECT_EQ(out.ec, std::error_code(asio::error::connection_refused)) << out.ec.message();
  EXPECT_FALSE(out.open);
  EXPECT_LT(out.took, 1s);
}

TEST(OsTcp, TimeoutBoundsAnUnansweredConnect) {
  // No blackhole address is reliable in a sandbox; a listener whose accept queue is full drops
  // further SYNs on Linux, which leaves a connect unanswered just the same.
  asio::io_context io;
  std::error_code ec;
  tcp::acceptor full =
      open_listener(io.get_executor(), {asio::ip::make_address("127.0.0.1"), 0}, ec, 0);
  ASSERT_FALSE(ec) << ec.message();
  std::vector<tcp::socket> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.emplace_back(io);
    fillers.back().open(tcp::v4());
    fillers.back().non_blocking(true);
    tcp::endpoint target = full.local_endpoint();
    // Raw connect, left in progress or done and never accepted: asio's synchronous connect
    // would wait for completion even on a non-blocking socket.
    (void)::connect(fillers.back().native_handle(), target.data(),
                    static_cast<socklen_t>(target.size()));
  }
  auto out = run_connect(io, "127.0.0.1", std::to_string(full.local_endpoint().port()), 300ms);
  if (!out.ec) {
    GTEST_SKIP() << "the kernel accepted beyond the backlog; cannot provoke a timeout here";
  }
  EXPECT_EQ(out.ec, std::error_code(asio::error::timed_out)) << out.ec.message();
  EXPECT_FALSE(out.open);
  EXPECT_GE(out.took, 250ms);
  EXPECT_LT(out.took, 2s);
}

TEST(OsTcp, AddressFamilyFiltersResolution) {
  asio::io_context io;
  auto out = run_connect(io, "127.0.0.1", "22", 500ms, AddressFamily::kInet6);
  EXPECT_TRUE(out.ec);
  EXPECT_FALSE(out.open);
  EXPECT_TRUE(out.attempts.empty());
}

TEST(OsTcp, BindsIpv4AndIpv6WildcardsOnOnePort) {
  asio::io_context io;
  std::error_code ec;
  tcp::acceptor v4 = open_listener(io.get_executor(), {tcp::v4(), 0}, ec);
  ASSERT_FALSE(ec) << ec.message();
  uint16_t port = v4.local_endpoint().port();
  tcp::acceptor v6 = open_listener(io.get_executor(), {tcp::v6(), port}, ec);
  if (ec == asio::error::address_family_not_supported || ec == std::errc::address_not_available) {
    GTEST_SKIP() << "no IPv6 here";
  }
  ASSERT_FALSE(ec) << ec.message();  // works only because of IPV6_V6ONLY
  asio::ip::v6_only only;
  v6.get_option(only);
  EXPECT_TRUE(only.value());
  // A second bind on the same port is refused, as sshd reports it.
  tcp::acceptor again = open_listener(io.get_executor(), {tcp::v4(), port}, ec);
  EXPECT_EQ(ec, std::error_code(asio::error::address_in_use));
  EXPECT_FALSE(again.is_open());
}

TEST(OsTcp, ListenSpecs) {
  auto specs = default_listen_specs({22, 2222}, AddressFamily::kAny);
  ASSERT_EQ(specs.size(), 4u);
  EXPECT_EQ(specs[0].host, "0.0.0.0");
  EXPECT_EQ(specs[1].host, "::");
  EXPECT_EQ(specs[3].port, 2222);
  EXPECT_EQ(default_listen_specs({22}, AddressFamily::kInet).size(), 1u);

  std::string error;
  auto endpoints = resolve_listen({{"127.0.0.1", 2222}, {"127.0.0.1", 2222}, {"::1", 22}},
                                  AddressFamily::kInet, error);
  EXPECT_TRUE(error.empty()) << error;
  ASSERT_EQ(endpoints.size(), 1u);  // duplicate dropped, IPv6 filtered
  EXPECT_EQ(format_endpoint(endpoints[0]), "127.0.0.1 2222");

  endpoints = resolve_listen({{"", 22}}, AddressFamily::kAny, error);
  EXPECT_FALSE(endpoints.empty());
  for (const auto& ep : endpoints) {
    EXPECT_TRUE(ep.address().is_unspecified()) << ep.address().to_string();
  }
  EXPECT_TRUE(resolve_listen({{"999.1.1.1x", 22}}, AddressFamily::kAny, error).empty() ||
              !error.empty());
}

TEST(OsTcp, FormatsEndpointsForLogsAndEnvironment) {
  tcp::endpoint client(asio::ip::make_address("::ffff:192.0.2.1"), 50000);
  tcp::endpoint server(asio::ip::make_address("192.0.2.2"), 22);
  EXPECT_EQ(format_endpoint(client), "192.0.2.1 50000");
  EXPECT_EQ(ssh_connection_value(client, server), "192.0.2.1 50000 192.0.2.2 22");
  EXPECT_EQ(ssh_client_value(client, server), "192.0.2.1 50000 22");
  EXPECT_EQ(format_endpoint({asio::ip::make_address("2001:db8::1"), 2222}), "2001:db8::1 2222");
}

}  // namespace
}  // namespace hashi::net
