// Reading a WebSocket over TLS (see http_session_tls_ws.cpp).
#include "net/http_session_tls_stream.hpp"
#include "net/http_session_ws_ops.hpp"

namespace corral::http::session_detail {

template net::awaitable<std::optional<ws_message>> ws_receive<tls_stream>(ws_stream<tls_stream>&, beast::flat_buffer&);

}  // namespace corral::http::session_detail
