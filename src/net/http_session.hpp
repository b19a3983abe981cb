#pragma once
// One connection's HTTP/1.1 loop, behind two plain functions: Beast's templates are instantiated for
// two stream types only (http_session_impl.hpp), a plain socket and TLS.

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "corral/net/http_listener.hpp"

namespace corral::http {

struct session_config {
    const listener_options& options;
    handler& routes;
    request_counter* counter;
};

/// TCP and Unix sockets alike: what differs between them (the peer, TCP_NODELAY) is settled on accept.
net::awaitable<void> serve_plain(net::generic::stream_protocol::socket socket, sockets::peer who, session_config config);
net::awaitable<void> serve_tls(net::ip::tcp::socket socket,
                               net::ssl::context& tls,
                               sockets::peer who,
                               session_config config);

}  // namespace corral::http
