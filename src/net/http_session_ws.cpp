// The WebSocket session after an upgrade, over any_stream: text and binary messages, the subprotocol
// the route agreed to, close codes with reasons, and pings (listener_options::websocket_ping).
#include "net/http_session.hpp"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

namespace corral::http::session_detail {
namespace {

namespace websocket = beast::websocket;

/// Without permessage-deflate, which corral does not offer: its code was a large part of what these
/// templates cost to compile.
using ws_stream = websocket::stream<any_stream, false>;

class ws_channel final : public message_channel {
  public:
    ws_channel(ws_stream& ws, std::chrono::milliseconds write_timeout, std::string subprotocol)
        : ws_(ws), write_timeout_(write_timeout), subprotocol_(std::move(subprotocol)) {}

    net::awaitable<std::optional<ws_message>> receive() override {
        buffer_.clear();
        auto [ec, n] = co_await ws_.async_read(buffer_, use_nothrow);
        if (ec) {
            co_return std::nullopt;
        }
        co_return ws_message{beast::buffers_to_string(buffer_.data()), ws_.got_binary()};
    }

    net::awaitable<bool> send(std::string_view data, bool binary) override {
        ws_.binary(binary);
        // The socket's write timer, not one of our own per message (that cost every message a turn of
        // the event loop): a read is always pending here, so only the write side gets the deadline.
        auto [ec, n] = co_await with_deadline(ws_, write_timeout_, [&] {
            return ws_.async_write(net::buffer(data.data(), data.size()), use_nothrow);
        });
        co_return !ec;
    }

    net::awaitable<void> close(close_code code, std::string_view reason) override {
        // A close frame's payload is at most 125 bytes: the code's two and the reason.
        websocket::close_reason why(static_cast<websocket::close_code>(code), reason.substr(0, 123));
        co_await with_deadline(ws_, write_timeout_, [&] { return ws_.async_close(why, use_nothrow); });
    }

    const std::string& subprotocol() const override { return subprotocol_; }

    std::pair<std::uint16_t, std::string> closed_by_peer() const override {
        const auto& why = ws_.reason();
        return {why.code, std::string(why.reason.data(), why.reason.size())};
    }

  private:
    ws_stream& ws_;
    std::chrono::milliseconds write_timeout_;
    std::string subprotocol_;
    beast::flat_buffer buffer_;
};

/// Beast's server timeouts, with keep-alive pings every `websocket_ping` of silence when set.
websocket::stream_base::timeout websocket_timeouts(const listener_options& o) {
    auto t = websocket::stream_base::timeout::suggested(beast::role_type::server);
    if (o.websocket_ping.count() > 0) {
        // Beast pings after half its idle timeout without a frame, and gives up after the whole.
        t.idle_timeout = 2 * o.websocket_ping;
        t.keep_alive_pings = true;
    }
    return t;
}

}  // namespace

net::awaitable<void> serve_websocket(any_stream stream, request& req, reply& r, const session_config& c) {
    ws_stream ws(std::move(stream));
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket_timeouts(c.options));
    if (!r.websocket_protocol.empty()) {
        ws.set_option(websocket::stream_base::decorator([p = r.websocket_protocol](websocket::response_type& res) {
            res.set(beast::http::field::sec_websocket_protocol, p);
        }));
    }
    ws.read_message_max(c.options.max_websocket_message);
    auto [ec] = co_await ws.async_accept(req, use_nothrow);
    if (ec) {
        co_return;
    }
    ws_channel channel(ws, c.options.write_timeout, r.websocket_protocol);
    co_await r.websocket(channel);
}

}  // namespace corral::http::session_detail
