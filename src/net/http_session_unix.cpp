// Unix socket: the session over one stream type (http_session_impl.hpp has the session itself).
#include "net/http_session_impl.hpp"

namespace corral::http {

net::awaitable<void> serve_unix(net::local::stream_protocol::socket socket, peer who, session_config config) {
    co_await session_detail::serve(beast::basic_stream<net::local::stream_protocol>(std::move(socket)), std::move(who), config);
}

}  // namespace corral::http
