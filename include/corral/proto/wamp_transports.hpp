#pragma once
// The two ways WAMP clients reach the built-in router: a WebSocket (subprotocol wamp.2.json or
// wamp.2.cbor) and RawSocket over TCP or a Unix socket (its 4-byte handshake, then framed messages).

#include <cstddef>
#include <string>

#include "corral/net/byte_stream.hpp"
#include "corral/proto/http_front.hpp"
#include "corral/proto/wamp_session.hpp"

namespace corral::proto::wamp {

/// WAMP over WebSocket at `path` of a listener of its own. Open to anyone the request guard lets
/// through: a WAMP client authenticates inside the session (ticket), not with HTTP headers.
class websocket_route final : public http_route {
  public:
    /// `s` must outlive the route.
    websocket_route(const services_for_wamp& s, std::string path) : s_(s), path_(std::move(path)) {}
    void add_to(http_front& front) { front.add(path_, *this, route_access::open); }
    net::awaitable<http::reply> serve(http::request& req,
                                      const http::peer& who,
                                      const auth::identity& me,
                                      const target& t) override;

  private:
    const services_for_wamp& s_;
    std::string path_;
};

/// RawSocket's handshake answer codes (the high nibble of the second byte).
enum class rawsocket_error : std::uint8_t {
    serializer_unsupported = 1,
    max_length_unacceptable = 2,
    reserved_bits_used = 3,
};

/// WAMP over RawSocket. The client's handshake names its serializer (1 JSON, 3 CBOR; others are
/// refused with error 1) and the longest message it takes; the answer names the same serializer
/// and the longest this side takes (`max_message`, at most 16 MiB). Then each message is a frame
/// as ASEXOR's raw socket frames them (the same 4-byte header); pings are answered.
class rawsocket_handler final : public sockets::byte_stream_handler {
  public:
    rawsocket_handler(const services_for_wamp& s, const sockets::stream_options& stream, std::size_t max_message)
        : byte_stream_handler(stream), s_(s), max_message_(max_message) {}
    net::awaitable<void> serve(sockets::byte_stream& stream, const sockets::peer& who) override;

  private:
    const services_for_wamp& s_;
    std::size_t max_message_;
};

}  // namespace corral::proto::wamp
