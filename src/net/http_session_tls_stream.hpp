#pragma once
// The TLS stream the session is instantiated for (http_session_tls*.cpp).

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl.hpp>

namespace corral::http::session_detail {

using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

}  // namespace corral::http::session_detail
