#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "corral/core/error_info.hpp"

namespace corral::sockets {

/// A parsed listener address: TCP host:port, or a Unix socket path.
using endpoint = std::variant<boost::asio::ip::tcp::endpoint, boost::asio::local::stream_protocol::endpoint>;

/// Parses "127.0.0.1:8470", "[::1]:8470", "localhost:8470" (loopback only) or "unix:/path".
/// Errors: errc::invalid_argument with the reason.
result_info<endpoint> parse_endpoint(std::string_view text);

}  // namespace corral::sockets
