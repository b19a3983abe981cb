#pragma once
// Accepting connections, whatever speaks on them: HTTP (listen_http) and byte protocols
// (byte_stream.hpp) share one accept loop with its limits, peer credentials, TLS and graceful stop.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "corral/core/asio.hpp"
#include "corral/core/error_info.hpp"

namespace boost::asio::ssl {
class context;
}

namespace corral::sockets {

/// Who is on the other end of a connection.
struct peer {
    bool local_socket = false;  ///< a Unix socket: `uid` is the peer's user
    std::optional<uid_t> uid;
    std::string address;  ///< "127.0.0.1:53412" or "unix"
    /// The IP the connection came in on ("127.0.0.1", "::1"; empty for a Unix socket): a `Host`
    /// header that names it names this listener.
    std::string local_ip;
    bool tls = false;
};

struct stream_options {
    /// "127.0.0.1:8470", "[::1]:8470", "0.0.0.0:80" or "unix:/path/to/socket".
    std::string endpoint = "127.0.0.1:8470";
    /// PEM files; both set means TLS on this (TCP) listener.
    std::string tls_cert;
    std::string tls_key;
    /// Mode of a Unix socket file.
    unsigned socket_mode = 0600;
    /// A connection that sends nothing for this long is closed (HTTP: no complete request).
    std::chrono::seconds idle_timeout{120};
    /// A reply, or one message of a stream, that the client does not take within this time ends its
    /// connection: a client that stops reading holds nothing for longer.
    std::chrono::milliseconds write_timeout{30'000};
    /// Connections beyond it are closed as soon as they are accepted.
    std::size_t max_connections = 4096;
};

/// What a listener hands each accepted connection to. Each call is one connection's whole life: it
/// runs in the listener's task group, which cancels it on close_connections().
class connection_handler {
  public:
    virtual ~connection_handler() = default;
    virtual net::awaitable<void> serve_tcp(net::ip::tcp::socket socket, peer who) = 0;
    /// TCP whose TLS handshake, with `tls`, is still to be done.
    virtual net::awaitable<void> serve_tls(net::ip::tcp::socket socket, net::ssl::context& tls, peer who) = 0;
    virtual net::awaitable<void> serve_unix(net::local::stream_protocol::socket socket, peer who) = 0;
};

/**
 * One listening socket (TCP, TCP+TLS or Unix): accepts until stopped, refuses connections beyond
 * `max_connections`, backs off when out of descriptors, reads the peer's credentials (a Unix socket's
 * uid, a TCP peer's address) and gives each connection to the handler as a coroutine of its own.
 *
 * @par Thread safety
 * Not thread-safe: the executor it was made with.
 */
class stream_listener {
  public:
    /// Binds at once, so a port in use or a bad certificate is reported at start-up. A stale Unix
    /// socket file (its server gone) is replaced; a live one is an error. `handler` must outlive it.
    /// Errors: errc::invalid_argument (endpoint syntax, TLS files), errc::invalid_state (a live
    /// server on the socket), system errors from bind/listen.
    static result_info<std::unique_ptr<stream_listener>> create(net::any_io_executor executor,
                                                                stream_options options,
                                                                connection_handler& handler);
    /// The same, the listener owning its handler.
    static result_info<std::unique_ptr<stream_listener>> create(net::any_io_executor executor,
                                                                stream_options options,
                                                                std::unique_ptr<connection_handler> handler);
    virtual ~stream_listener() = default;

    /// Accepts connections until stop_accepting(). Should accepting break for good (an exception out
    /// of the accept loop), `on_crash` is told why; one connection's failure is not a crash.
    virtual void start(std::function<void(std::string)> on_crash = {}) = 0;
    /// Closes the listening socket (a Unix socket file is removed); open connections go on.
    virtual void stop_accepting() = 0;
    /// Stops accepting, cancels every open connection and returns once all have ended.
    virtual net::awaitable<void> close_connections() = 0;
    /// "127.0.0.1:8470", "unix:/run/corral.sock", with " (TLS)" when it is.
    virtual std::string describe() const = 0;
    /// The bound TCP port (0 for Unix sockets): useful when the config asked for port 0.
    virtual unsigned short port() const = 0;
    virtual std::size_t connections() const = 0;
    /// Connections closed at once because `max_connections` were open.
    virtual std::uint64_t refused() const = 0;
};

}  // namespace corral::sockets
