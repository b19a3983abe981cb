// Writing to a WebSocket over TLS (see http_session_tls_ws.cpp).
#include "net/http_session_tls_stream.hpp"
#include "net/http_session_ws_ops.hpp"

namespace corral::http::session_detail {

template net::awaitable<bool> ws_send<tls_stream>(ws_stream<tls_stream>&, std::string_view, bool, std::chrono::milliseconds);
template net::awaitable<void> ws_close<tls_stream>(ws_stream<tls_stream>&, close_code, std::string_view, std::chrono::milliseconds);

}  // namespace corral::http::session_detail
