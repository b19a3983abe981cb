// TCP with TLS: the session over one stream type (http_session_impl.hpp has the session itself).
#include "net/http_session_impl.hpp"

#include <boost/beast/ssl.hpp>

namespace corral::http {

namespace session_detail {
using tls_stream = beast::ssl_stream<beast::tcp_stream>;
// WebSocket over TLS is instantiated in http_session_tls_ws.cpp: in this TU with the rest it took
// 105 s to compile, the longest of the build.
extern template net::awaitable<void> serve_websocket<tls_stream>(tls_stream, request&, reply&, const session_config&);
}  // namespace session_detail

net::awaitable<void> serve_tls(net::ip::tcp::socket socket,
                               net::ssl::context& tls,
                               peer who,
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
