#pragma once
// The WebSocket channel's reads and writes (http_session_ws.hpp declares them), for the translation
// units that instantiate them.

#include "net/http_session_ws.hpp"

namespace corral::http::session_detail {

template <class Stream>
net::awaitable<std::optional<ws_message>> ws_receive(ws_stream<Stream>& ws, beast::flat_buffer& buffer) {
    buffer.clear();
    auto [ec, n] = co_await ws.async_read(buffer, use_nothrow);
    if (ec) {
        co_return std::nullopt;
    }
    co_return ws_message{beast::buffers_to_string(buffer.data()), ws.got_binary()};
}

template <class Stream>
net::awaitable<bool> ws_send(ws_stream<Stream>& ws, std::string_view data, bool binary, std::chrono::milliseconds limit) {
    ws.binary(binary);
    // The socket's write timer, not one of our own per message (that cost every message a turn of
    // the event loop): a read is always pending here, so only the write side gets the deadline.
    auto [ec, n] = co_await with_deadline(
        ws, limit, [&] { return ws.async_write(net::buffer(data.data(), data.size()), use_nothrow); });
    co_return !ec;
}

template <class Stream>
net::awaitable<void> ws_close(ws_stream<Stream>& ws,
                              close_code code,
                              std::string_view reason,
                              std::chrono::milliseconds limit) {
    // A close frame's payload is at most 125 bytes: the code's two and the reason.
    websocket::close_reason why(static_cast<websocket::close_code>(code), reason.substr(0, 123));
    co_await with_deadline(ws, limit, [&] { return ws.async_close(why, use_nothrow); });
}

}  // namespace corral::http::session_detail
