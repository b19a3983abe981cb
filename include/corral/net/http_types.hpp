#pragma once
// The non-template face of the HTTP server: what a request handler sees. Beast's message types are
// light to include; the stream and session templates stay inside src/net/http_session.cpp.

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "corral/core/asio.hpp"

namespace corral::http {

namespace beast = boost::beast;
using request = beast::http::request<beast::http::string_body>;
using response = beast::http::response<beast::http::string_body>;
using status = beast::http::status;
using verb = beast::http::verb;

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

/// An SSE response body being written: each send() writes one chunk of `text/event-stream`.
class event_stream {
  public:
    virtual ~event_stream() = default;
    /// False when the client has gone away.
    virtual net::awaitable<bool> send(std::string_view text) = 0;
};

/// An accepted WebSocket: text messages in and out. At most one send and one receive at a time.
class message_channel {
  public:
    virtual ~message_channel() = default;
    /// The next text message, or nullopt when the client closed or the connection failed.
    virtual net::awaitable<std::optional<std::string>> receive() = 0;
    /// False when the connection is gone.
    virtual net::awaitable<bool> send(std::string_view text) = 0;
    /// Sends a close frame with `reason` (normal closure, or policy violation when `policy`).
    virtual net::awaitable<void> close(std::string_view reason, bool policy = false) = 0;
};

/// What a handler answers: a plain response, or a response head followed by an SSE stream, or (for
/// an upgrade request) a WebSocket session.
struct reply {
    response head;
    std::function<net::awaitable<void>(event_stream&)> events;
    std::function<net::awaitable<void>(message_channel&)> websocket;
};

/// Routes requests; implemented by proto::api_router.
class handler {
  public:
    virtual ~handler() = default;
    virtual net::awaitable<reply> handle(request& req, const peer& who) = 0;
};

/// Counts answered requests by status, for /metrics.
class request_counter {
  public:
    virtual ~request_counter() = default;
    virtual void count(unsigned status) = 0;
};

}  // namespace corral::http
