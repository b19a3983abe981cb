#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "corral/core/error_info.hpp"
#include "corral/core/task_group.hpp"
#include "corral/net/http_types.hpp"

namespace corral::http {

struct listener_options {
    /// "127.0.0.1:8470", "[::1]:8470", "0.0.0.0:80" or "unix:/path/to/socket".
    std::string endpoint = "127.0.0.1:8470";
    /// PEM files; both set means TLS on this (TCP) listener.
    std::string tls_cert;
    std::string tls_key;
    /// Mode of a Unix socket file.
    unsigned socket_mode = 0600;
    std::uint64_t max_body = 1 << 20;
    std::uint32_t max_header = 16 * 1024;
    std::size_t max_websocket_message = 64 * 1024;
    /// A connection with no complete request in this time is closed.
    std::chrono::seconds idle_timeout{120};
    /// A reply, or one message of a stream (SSE, WebSocket), that the client does not take within
    /// this time ends its connection: a client that stops reading holds nothing for longer.
    std::chrono::milliseconds write_timeout{30'000};
    std::size_t max_connections = 4096;
};

/**
 * One listening socket (TCP, TCP+TLS or Unix) serving HTTP/1.1 with keep-alive, SSE and WebSocket
 * upgrades, each connection a coroutine in the listener's task group. Malformed requests get a 400,
 * oversized bodies a 413, oversized headers a 431, each with a JSON error, and end only their own
 * connection.
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
};

}  // namespace corral::http
