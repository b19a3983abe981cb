#pragma once
// One connection's HTTP/1.1 loop. The Beast templates are instantiated once per stream kind, all in
// http_session.cpp, behind these three plain functions.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>

#include "corral/net/http_listener.hpp"

namespace corral::http {

struct session_config {
    const listener_options& options;
    handler& routes;
    request_counter* counter;
};

net::awaitable<void> serve_tcp(net::ip::tcp::socket socket, peer who, session_config config);
net::awaitable<void> serve_tls(net::ip::tcp::socket socket,
                               net::ssl::context& tls,
                               peer who,
                               session_config config);
net::awaitable<void> serve_unix(net::local::stream_protocol::socket socket, peer who, session_config config);

}  // namespace corral::http
