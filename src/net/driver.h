// The Asio driver: carries session::Session cores over sockets, any number of them on one
// io_context, for every program (client, server, library users).
//
// One Connection per Session. It
//   - reads the socket only while session.wants_input(), straight into prepare_read/commit_read
//     (no copy); a peer that stops reading stops the channels (Session::writable), not memory;
//   - writes pending_output() with one large write per readiness, consuming what the kernel took;
//   - drives next_deadline()/on_timeout() with one steady_timer;
//   - pulls events: questions go to session::route_query with the program's Policies, channel
//     input / writable / EOF / close of a channel bound to an Endpoint go to that endpoint, and
//     everything else (ChannelOpenRequest, ChannelRequestEvent, Authenticated, LogLine,
//     GlobalRequest, ChannelClosed, Closed, ...) to the program's ConnectionHandler.
// Every I/O step is "try the syscall, wait for readiness only on would_block", so the bulk path
// makes no epoll call per chunk and allocates nothing (Asio recycles its operation memory).
//
// Threading: one io_context thread. The handler is called from the driver's thread; it may call
// any Session method, bind endpoints and return; after touching the Session from elsewhere on
// that thread (a timer, a prompt's completion) call kick().
#pragma once

#include <asio.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <vector>

#include "net/endpoint.h"
#include "session/policy.h"
#include "session/session.h"

namespace hashi::net {

class Connection;

// A connection's socket: TCP, or a Unix socketpair in tests (both convert to it).
using Socket = asio::generic::stream_protocol::socket;

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // An event the connection does not handle itself (see the file comment). ChannelClosed comes
  // for every channel, after its endpoint (if any) was released; Closed is the last event.
  virtual void on_event(Connection& connection, session::Event& event) = 0;
  // The socket is closed, every endpoint released; nothing else follows.
  virtual void on_finished(Connection& connection) {}
};

// Socket read size: large reads, so a bulk stream costs few syscalls.
inline constexpr size_t kSocketReadSize = 256 * 1024;

class Connection final : public std::enable_shared_from_this<Connection>, private ChannelPort {
 public:
  // create takes the connected socket and the Session (not started). The handler and the
  // policies must outlive the connection's end (on_finished).
  static std::shared_ptr<Connection> create(Socket socket,
                                            std::shared_ptr<session::Session> session,
                                            session::Policies policies,
                                            ConnectionHandler& handler);
  ~Connection() override;

  // start calls Session::start and begins moving bytes. Call once.
  void start();

  session::Session& session() { return *session_; }
  const std::shared_ptr<session::Session>& shared_session() const { return session_; }
  asio::any_io_executor executor() { return socket_.get_executor(); }

  // bind hands `channel` to `endpoint` (input queued before is delivered at once). The endpoint
  // is released (Endpoint::on_closed) when the channel or the connection closes.
  void bind(uint32_t channel, std::shared_ptr<Endpoint> endpoint);
  // kick makes the connection write output and pull events after the Session was used from
  // outside the handler's callbacks.
  void kick();
  // stop closes the socket at once (no DISCONNECT); endpoints are released, on_finished follows.
  void stop();

  bool finished() const { return finished_; }
  // Bytes held for this connection beyond the Session's pending_output(): the endpoints' read
  // buffers (the driver itself reads into and writes from the Session's buffers).
  size_t driver_buffer_bytes() const;

 private:
  Connection(Socket socket, std::shared_ptr<session::Session> session,
             session::Policies policies, ConnectionHandler& handler);

  // ChannelPort, over the Session.
  size_t send_window(uint32_t channel) const override;
  size_t send(uint32_t channel, int stream, ByteView data) override;
  ByteView input(uint32_t channel, int stream) const override;
  void consume_input(uint32_t channel, int stream, size_t n) override;
  bool input_eof(uint32_t channel) const override;
  void send_eof(uint32_t channel) override;
  void send_exit(uint32_t channel, const ProcessExit& exit) override;
  void close_channel(uint32_t channel) override;

  void request_service();
  void service();
  void dispatch_events();
  void dispatch(session::Event& event);
  void flush_output();
  void read_socket();
  void arm_read();
  void arm_timer();
  void socket_lost();
  void finish();

  struct WrappedPolicies;

  Socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<session::Session> session_;
  std::unique_ptr<WrappedPolicies> policies_;
  ConnectionHandler& handler_;
  std::map<uint32_t, std::shared_ptr<Endpoint>> endpoints_;
  TimePoint armed_deadline_ = TimePoint::max();
  bool started_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool service_posted_ = false;
  bool in_service_ = false;
  bool dirty_ = false;
  bool socket_open_ = true;
  bool finished_ = false;
};

// Driver: the connections of one io_context, and the signals that end them.
class Driver {
 public:
  explicit Driver(asio::io_context& io) : io_(io), signals_(io) {}

  // add creates and starts a Connection (see Connection::create).
  std::shared_ptr<Connection> add(Socket socket, std::shared_ptr<session::Session> session,
                                  session::Policies policies, ConnectionHandler& handler);
  // stop_on_signals: on any of `signals` (e.g. SIGTERM, SIGINT), every live connection is
  // disconnected ("by application"), then `then` runs (e.g. close the listener); no more signals
  // are watched.
  void stop_on_signals(std::initializer_list<int> signals, std::function<void()> then = {});
  // Live (not finished) connections.
  size_t size();
  asio::io_context& io() { return io_; }

 private:
  asio::io_context& io_;
  asio::signal_set signals_;
  std::vector<std::weak_ptr<Connection>> connections_;
};

}  // namespace hashi::net
