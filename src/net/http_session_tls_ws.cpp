// WebSocket sessions over TLS, instantiated apart from the rest of the TLS session
// (http_session_tls.cpp) so that the two compile in parallel.
#include "net/http_session_impl.hpp"

#include <boost/beast/ssl.hpp>

namespace corral::http::session_detail {

using tls_stream = beast::ssl_stream<beast::tcp_stream>;
template net::awaitable<void> serve_websocket<tls_stream>(tls_stream, request&, reply&, const session_config&);

}  // namespace corral::http::session_detail
