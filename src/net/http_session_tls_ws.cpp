// WebSocket sessions over TLS: the upgrade. Reading and writing are instantiated in
// http_session_tls_ws_read.cpp and http_session_tls_ws_write.cpp: together with this they took 57 s to
// compile (release), the longest of the build; apart, the three build in parallel.
#include "net/http_session_tls_stream.hpp"
#include "net/http_session_ws.hpp"

namespace corral::http::session_detail {

template net::awaitable<void> serve_websocket<tls_stream>(tls_stream, request&, reply&, const session_config&);

}  // namespace corral::http::session_detail
