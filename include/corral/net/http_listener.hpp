#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "corral/core/error_info.hpp"
#include "corral/net/http_types.hpp"
#include "corral/net/stream_listener.hpp"

namespace corral::http {

struct listener_options : sockets::stream_options {
    std::uint64_t max_body = 1 << 20;
    std::uint32_t max_header = 16 * 1024;
    std::size_t max_websocket_message = 64 * 1024;
    /// A WebSocket from which nothing has come for this long gets a ping; one that sends nothing
    /// (not even the pong) for twice as long is closed. Zero: no pings, no idle limit.
    std::chrono::seconds websocket_ping{30};
};

/**
 * A stream_listener serving HTTP/1.1 with keep-alive, SSE and WebSocket upgrades on each connection,
 * requests going to `h` (and their statuses to `counter`). Malformed requests get a 400, oversized
 * bodies a 413, oversized headers a 431, each with a JSON error, and end only their own connection.
 * Binds at once, so a port in use or a bad certificate is reported at start-up (errors as
 * stream_listener::create). `h` and `counter` must outlive the listener.
 */
result_info<std::unique_ptr<sockets::stream_listener>> listen_http(net::any_io_executor executor,
                                                                   listener_options options,
                                                                   handler& h,
                                                                   request_counter* counter = nullptr);

}  // namespace corral::http
