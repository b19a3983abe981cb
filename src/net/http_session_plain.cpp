// The HTTP session over a plain socket, TCP or Unix (http_session_impl.hpp has the session itself;
// the WebSocket half is in http_session_plain_ws.cpp).
#include "net/http_session_impl.hpp"

namespace corral::http {

net::awaitable<void> serve_plain(net::generic::stream_protocol::socket socket, sockets::peer who, session_config config) {
    co_await session_detail::serve(session_detail::plain_stream(std::move(socket)), std::move(who), config);
}

}  // namespace corral::http
