#pragma once
// The WebSocket session after an upgrade, as templates over the stream; instantiated in
// http_session_plain_ws.cpp and http_session_tls_ws*.cpp, apart from the HTTP session, so that they
// compile in parallel.

#include "net/http_session_impl.hpp"

#include <boost/beast/websocket.hpp>

namespace corral::http::session_detail {

namespace websocket = beast::websocket;

/// Beast's WebSocket without permessage-deflate, which corral does not offer: its code was a large
/// part of what these templates cost to compile.
template <class Stream>
using ws_stream = websocket::stream<Stream, false>;

// The channel's operations, one template each, so that over TLS (the costliest stream to compile)
// reading and writing are instantiated in translation units of their own (http_session_ws_ops.hpp).
template <class Stream>
net::awaitable<std::optional<ws_message>> ws_receive(ws_stream<Stream>& ws, beast::flat_buffer& buffer);
template <class Stream>
net::awaitable<bool> ws_send(ws_stream<Stream>& ws, std::string_view data, bool binary, std::chrono::milliseconds limit);
template <class Stream>
net::awaitable<void> ws_close(ws_stream<Stream>& ws,
                              close_code code,
                              std::string_view reason,
                              std::chrono::milliseconds limit);

template <class Stream>
class ws_channel final : public message_channel {
  public:
    ws_channel(ws_stream<Stream>& ws, std::chrono::milliseconds write_timeout, std::string subprotocol)
        : ws_(ws), write_timeout_(write_timeout), subprotocol_(std::move(subprotocol)) {}

    net::awaitable<std::optional<ws_message>> receive() override { return ws_receive<Stream>(ws_, buffer_); }
    net::awaitable<bool> send(std::string_view data, bool binary) override {
        return ws_send<Stream>(ws_, data, binary, write_timeout_);
    }
    net::awaitable<void> close(close_code code, std::string_view reason) override {
        return ws_close<Stream>(ws_, code, reason, write_timeout_);
    }
    const std::string& subprotocol() const override { return subprotocol_; }
    std::pair<std::uint16_t, std::string> closed_by_peer() const override {
        const auto& why = ws_.reason();
        return {why.code, std::string(why.reason.data(), why.reason.size())};
    }

  private:
    ws_stream<Stream>& ws_;
    std::chrono::milliseconds write_timeout_;
    std::string subprotocol_;
    beast::flat_buffer buffer_;
};

/// Beast's server timeouts, with keep-alive pings every `websocket_ping` of silence when set.
inline websocket::stream_base::timeout websocket_timeouts(const listener_options& o) {
    auto t = websocket::stream_base::timeout::suggested(beast::role_type::server);
    if (o.websocket_ping.count() > 0) {
        // Beast pings after half its idle timeout without a frame, and gives up after the whole.
        t.idle_timeout = 2 * o.websocket_ping;
        t.keep_alive_pings = true;
    }
    return t;
}

template <class Stream>
net::awaitable<void> serve_websocket(Stream stream, request& req, reply& r, const session_config& c) {
    ws_stream<Stream> ws(std::move(stream));
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
    ws_channel<Stream> channel(ws, c.options.write_timeout, r.websocket_protocol);
    co_await r.websocket(channel);
}

}  // namespace corral::http::session_detail
