#pragma once
// The non-template face of the HTTP server: what a request handler sees. Beast's message types are
// light to include; the stream and session templates stay in src/net (http_session_impl.hpp).

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "corral/core/asio.hpp"
#include "corral/core/shared_fd.hpp"
#include "corral/net/stream_listener.hpp"

namespace corral::http {

namespace beast = boost::beast;
using request = beast::http::request<beast::http::string_body>;
using response = beast::http::response<beast::http::string_body>;
using status = beast::http::status;
using verb = beast::http::verb;

/// The connection a request came on, as a handler that waits long (a long-poll) needs it.
class connection {
  public:
    virtual ~connection() = default;
    /// Runs `work` until it ends or the client closes its end of the connection, whichever comes
    /// first: false when the client left (and `work` was cancelled). A long-poll that nobody will read
    /// holds its connection, and what it waits on, no longer than that.
    virtual net::awaitable<bool> unless_gone(net::awaitable<void> work) = 0;
};

/// Who is on the other end, and the connection itself (null outside a live connection, in tests).
struct peer : sockets::peer {
    connection* link = nullptr;
};

/// An SSE response body being written: each send() writes one chunk of `text/event-stream`.
class event_stream {
  public:
    virtual ~event_stream() = default;
    /// False when the client has gone away.
    virtual net::awaitable<bool> send(std::string_view text) = 0;
};

/// WebSocket close codes (RFC 6455 §7.4.1) that corral sends.
enum class close_code : std::uint16_t {
    normal = 1000,
    going_away = 1001,
    protocol_error = 1002,
    unsupported_data = 1003,
    invalid_payload = 1007,
    policy_violation = 1008,
    too_big = 1009,
    internal_error = 1011,
    service_restart = 1012,  ///< the server is stopping (ASEXOR: "Server shutdown")
};

/// One WebSocket message: text (UTF-8, JSON) or binary (CBOR, say).
struct ws_message {
    std::string data;
    bool binary = false;
};

/// An accepted WebSocket. At most one send and one receive at a time.
class message_channel {
  public:
    virtual ~message_channel() = default;
    /// The next message, or nullopt when the client closed (closed_by_peer() says how) or the
    /// connection failed.
    virtual net::awaitable<std::optional<ws_message>> receive() = 0;
    /// False when the connection is gone.
    virtual net::awaitable<bool> send(std::string_view data, bool binary) = 0;
    net::awaitable<bool> send(std::string_view text) { return send(text, false); }
    /// Sends a close frame with `code` and `reason` (cut to the 123 bytes a close frame holds).
    virtual net::awaitable<void> close(close_code code, std::string_view reason) = 0;
    /// The subprotocol agreed in the handshake (reply::websocket_protocol), empty if none.
    virtual const std::string& subprotocol() const = 0;
    /// The code and reason of the client's close frame, once receive() has returned nullopt because
    /// of it (code 0 when the connection ended without one).
    virtual std::pair<std::uint16_t, std::string> closed_by_peer() const = 0;
};

/// The first of `supported` (in the server's order of preference) that the client offers in
/// Sec-WebSocket-Protocol; nullopt when it offers none of them.
std::optional<std::string> pick_subprotocol(const request& req, std::initializer_list<std::string_view> supported);

/// A body that is in a file: `extents` (position, length) of `file`, in order. A plain connection
/// sends it with sendfile(2), so its bytes are never copied through corrald; TLS reads and writes.
struct file_body {
    shared_fd file;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> extents;
};

/// What a handler answers: a plain response, or a response head followed by an SSE stream, or (for
/// an upgrade request) a WebSocket session.
struct reply {
    response head;
    /// More body after head's own: bytes of an open file, sent by the server from there.
    std::optional<file_body> file;
    std::function<net::awaitable<void>(event_stream&)> events;
    std::function<net::awaitable<void>(message_channel&)> websocket;
    /// The subprotocol to agree to in the WebSocket handshake (pick_subprotocol), if any.
    std::string websocket_protocol;
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
