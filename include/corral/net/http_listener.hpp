#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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
 * A stream_listener serving HTTP/1.1 with keep-alive, SSE and WebSocket upgrades on each connection.
 * Malformed requests get a 400, oversized bodies a 413, oversized headers a 431, each with a JSON
 * error, and end only their own connection.
 *
 * @par Thread safety
 * Not thread-safe: the executor it was made with.
 */
class http_listener {
  public:
    /// Binds at once, so a port in use or a bad certificate is reported at start-up.
    /// Errors: errc::invalid_argument (endpoint syntax, TLS files), system errors from bind/listen.
    static result_info<std::unique_ptr<http_listener>> create(net::any_io_executor executor,
                                                              listener_options options,
                                                              handler& h,
                                                              request_counter* counter = nullptr);
    virtual ~http_listener() = default;

    /// Accepts connections until stop_accepting(). Should accepting break for good (an exception out
    /// of the accept loop), `on_crash` is told why; one connection's failure is not a crash.
    virtual void start(std::function<void(std::string)> on_crash = {}) = 0;
    /// Closes the listening socket (a Unix socket file is removed); open connections go on.
    virtual void stop_accepting() = 0;
    /// Ends every open connection (WebSockets get a "going away" close).
    virtual net::awaitable<void> close_connections() = 0;
    /// "127.0.0.1:8470", "unix:/run/corral.sock", with " (TLS)" when it is.
    virtual std::string describe() const = 0;
    /// The bound TCP port (0 for Unix sockets): useful when the config asked for port 0.
    virtual unsigned short port() const = 0;
    virtual std::size_t connections() const = 0;
    virtual std::uint64_t refused() const = 0;
};

}  // namespace corral::http
