// WebSocket sessions over a plain socket, TCP or Unix, instantiated apart from the HTTP session
// (http_session_plain.cpp) so that the two compile in parallel.
#include "net/http_session_ws_ops.hpp"

namespace corral::http::session_detail {

template net::awaitable<void> serve_websocket<plain_stream>(plain_stream, request&, reply&, const session_config&);
template net::awaitable<std::optional<ws_message>> ws_receive<plain_stream>(ws_stream<plain_stream>&, beast::flat_buffer&);
template net::awaitable<bool> ws_send<plain_stream>(ws_stream<plain_stream>&, std::string_view, bool, std::chrono::milliseconds);
template net::awaitable<void> ws_close<plain_stream>(ws_stream<plain_stream>&, close_code, std::string_view, std::chrono::milliseconds);

}  // namespace corral::http::session_detail
