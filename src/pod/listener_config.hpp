#pragma once
// The keys every listener section shares ([[http]], [[asexor.raw]], [[asexor.long_poll]]).

#include "corral/net/http_listener.hpp"
#include "corral/net/stream_listener.hpp"
#include "pod/config_section.hpp"

namespace corral::pod {

/// listen, tls_cert, tls_key, idle_timeout, write_timeout, max_connections, socket_mode. A problem
/// is added at `where` for a TLS pair given by half.
void read_stream_keys(section& s, sockets::stream_options& o, const toml::table& where, const std::string& path, problems& p);
/// read_stream_keys(), and the HTTP limits: max_body, max_header, max_websocket_message, websocket_ping.
void read_http_keys(section& s, http::listener_options& o, const toml::table& where, const std::string& path, problems& p);

}  // namespace corral::pod
