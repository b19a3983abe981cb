// TCP: the session over one stream type (http_session_impl.hpp has the session itself).
#include "net/http_session_impl.hpp"

namespace corral::http {

net::awaitable<void> serve_tcp(net::ip::tcp::socket socket, peer who, session_config config) {
    co_await session_detail::serve(beast::tcp_stream(std::move(socket)), std::move(who), config);
}

}  // namespace corral::http
