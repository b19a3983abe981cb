#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/generic/stream_protocol.hpp>

#include "corral/net/http_types.hpp"

namespace corral::http {

/**
 * Notices that the client of a waiting request has closed its end: its socket turns readable and
 * POLLRDHUP (or an error) says the peer will send nothing more. A client that sent more instead (a
 * pipelined request, a TLS alert) is checked once a second until the work ends.
 *
 * Watches the socket only while the session does not read it (between a request and its reply).
 * Instantiated for plain (TCP or Unix) and TLS sessions' sockets in client_watch.cpp, which alone pays for the awaitable
 * operators.
 */
template <class Socket>
class client_watch final : public connection {
  public:
    explicit client_watch(Socket& socket) : socket_(socket) {}
    net::awaitable<bool> unless_gone(net::awaitable<void> work) override;

  private:
    net::awaitable<void> gone();
    Socket& socket_;
};

extern template class client_watch<net::ip::tcp::socket>;
extern template class client_watch<net::generic::stream_protocol::socket>;

}  // namespace corral::http
