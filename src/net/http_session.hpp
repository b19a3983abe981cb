#pragma once
// One connection's HTTP/1.1 session (http_session.cpp) and, after an upgrade, its WebSocket session
// (http_session_ws.cpp), over any_stream: Beast's templates are instantiated once for every kind of
// connection.

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include "corral/net/http_listener.hpp"
#include "net/any_stream.hpp"

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

namespace session_detail {

/// Runs `write` with a deadline on the connection's socket: a client that stops reading fails the
/// write with a timeout (which ends the connection) instead of holding it, and what it pins, for ever.
template <class Stream, class Write>
auto with_deadline(Stream& stream, std::chrono::milliseconds limit, Write write) -> decltype(write()) {
    beast::get_lowest_layer(stream).expires_after(limit);
    auto result = co_await write();
    beast::get_lowest_layer(stream).expires_never();
    co_return result;
}

/// Sends a reply's file body after its head (http_file_body.cpp). False when the connection failed,
/// the client took nothing for `limit`, or the file held less than promised: the connection must end,
/// as its reply is cut short.
net::awaitable<bool> write_file_body(any_stream& stream,
                                     const file_body& body,
                                     std::chrono::milliseconds limit);

/// The WebSocket session that follows an upgrade of `stream` (http_session_ws.cpp).
net::awaitable<void> serve_websocket(any_stream stream, request& req, reply& r, const session_config& c);

}  // namespace session_detail

}  // namespace corral::http
