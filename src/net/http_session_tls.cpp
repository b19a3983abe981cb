// The HTTP session over TLS (http_session_impl.hpp has the session itself; the WebSocket half is in
// http_session_tls_ws.cpp).
#include "net/http_session_impl.hpp"
#include "net/http_session_tls_stream.hpp"

namespace corral::http {

net::awaitable<void> serve_tls(net::ip::tcp::socket socket,
                               net::ssl::context& tls,
                               sockets::peer who,
                               session_config config) {
    session_detail::tls_stream stream(std::move(socket), tls);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::server, use_nothrow);
    if (ec) {
        co_return;  // not TLS, or a failed handshake: nothing to answer
    }
    who.tls = true;
    co_await session_detail::serve(std::move(stream), std::move(who), config);
}

}  // namespace corral::http
