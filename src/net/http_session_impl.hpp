#pragma once
// The HTTP session, as templates over the stream, instantiated for two stream types: plain (TCP and
// Unix sockets alike, as Asio's generic stream socket: http_session_plain.cpp) and TLS
// (http_session_tls.cpp). The WebSocket session after an upgrade is in http_session_ws.hpp, and
// instantiated apart (http_session_plain_ws.cpp, http_session_tls_ws.cpp): one TU for everything took
// 168 s to compile in release and held up every build; four build in parallel.

#include "net/http_session.hpp"
#include "net/client_watch.hpp"

#include <fmt/format.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace corral::http::session_detail {

/// TCP and Unix sockets alike; TLS is `beast::ssl_stream<beast::tcp_stream>` (http_session_tls*.cpp).
using plain_stream = beast::basic_stream<net::generic::stream_protocol>;

inline response error_response(status code, std::string_view error, std::string_view message) {
    response res{code, 11};
    res.set(beast::http::field::content_type, "application/json");
    boost::json::value body = {{"error", {{"code", error}, {"message", message}}}};
    res.body() = boost::json::serialize(body) + "\n";
    res.keep_alive(false);
    res.prepare_payload();
    return res;
}

/// The answer to a request that could not be read; nullopt when the connection just went away.
inline std::optional<response> read_failure_response(boost::system::error_code ec, const listener_options& o) {
    namespace h = beast::http;
    if (ec == h::error::body_limit) {
        return error_response(
            status::payload_too_large,
            "body_too_large",
            fmt::format("the request body is larger than the limit of {} bytes", o.max_body));
    }
    if (ec == h::error::header_limit) {
        return error_response(
            status::request_header_fields_too_large,
            "header_too_large",
            fmt::format("the request header is larger than the limit of {} bytes", o.max_header));
    }
    const boost::system::error_code eos = h::error::end_of_stream;
    if (ec.category() == eos.category() && ec != h::error::end_of_stream && ec != h::error::partial_message) {
        return error_response(status::bad_request,
                              "malformed_request",
                              fmt::format("malformed HTTP request: {}", ec.message()));
    }
    return std::nullopt;
}

/// Runs `write` with a deadline on the connection's socket: a client that stops reading fails the
/// write with a timeout (which ends the connection) instead of holding it, and what it pins, for ever.
template <class Stream, class Write>
auto with_deadline(Stream& stream, std::chrono::milliseconds limit, Write write) -> decltype(write()) {
    beast::get_lowest_layer(stream).expires_after(limit);
    auto result = co_await write();
    beast::get_lowest_layer(stream).expires_never();
    co_return result;
}

template <class Stream>
class sse_writer final : public event_stream {
  public:
    sse_writer(Stream& s, std::chrono::milliseconds write_timeout)
        : stream_(s), write_timeout_(write_timeout) {}
    net::awaitable<bool> send(std::string_view text) override {
        auto [ec, n] = co_await with_deadline(stream_, write_timeout_, [&] {
            return net::async_write(stream_, net::buffer(text.data(), text.size()), use_nothrow);
        });
        co_return !ec;
    }

  private:
    Stream& stream_;
    std::chrono::milliseconds write_timeout_;
};

/// The WebSocket session that follows an upgrade (http_session_ws.hpp), instantiated per stream
/// type in a translation unit of its own (http_session_*_ws.cpp).
template <class Stream>
net::awaitable<void> serve_websocket(Stream stream, request& req, reply& r, const session_config& c);

template <class Stream>
net::awaitable<void> write_response(Stream& stream, response& res, const session_config& c, bool& ok) {
    if (c.counter) {
        c.counter->count(res.result_int());
    }
    auto [ec, n] = co_await with_deadline(
        stream, c.options.write_timeout, [&] { return beast::http::async_write(stream, res, use_nothrow); });
    ok = !ec;
}

template <class Stream>
net::awaitable<void> shutdown(Stream& stream) {
    if constexpr (requires { stream.async_shutdown(use_nothrow); }) {  // TLS: close_notify
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
        co_await stream.async_shutdown(use_nothrow);
    } else {
        boost::system::error_code ignored;
        stream.socket().shutdown(net::socket_base::shutdown_send, ignored);
        // A lingering close: read what the client is still sending (say, the rest of an oversized
        // body) for a moment, so closing does not reset the connection before it reads our answer.
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
        std::array<char, 16 * 1024> scratch;
        for (std::size_t drained = 0; drained < (16u << 20);) {
            auto [ec, n] = co_await stream.async_read_some(net::buffer(scratch), use_nothrow);
            if (ec) {
                break;
            }
            drained += n;
        }
    }
}

// Room for one read of a request body (Beast's own cap per read is 64 KiB), made for bodies larger
// than a typical submission.
constexpr std::size_t body_read_room = 64 * 1024;
constexpr std::uint64_t small_body = 16 * 1024;

/// Reads requests until the client closes, an error, or a response that ends the connection.
template <class Stream>
net::awaitable<void> serve(Stream stream, sockets::peer from, session_config c) {
    client_watch<typename beast::lowest_layer_type<Stream>::socket_type> watch(
        beast::get_lowest_layer(stream).socket());
    peer who;
    static_cast<sockets::peer&>(who) = std::move(from);
    who.link = &watch;
    beast::flat_buffer buffer;
    for (;;) {
        beast::http::request_parser<beast::http::string_body> parser;
        parser.body_limit(c.options.max_body);
        parser.header_limit(c.options.max_header);
        beast::get_lowest_layer(stream).expires_after(c.options.idle_timeout);
        auto [ec, n] = co_await beast::http::async_read_header(stream, buffer, parser, use_nothrow);
        if (!ec && !parser.is_done()) {
            // Beast reads as many bytes as the buffer has room for, but at least 512: without room a
            // 1 MiB body took 2048 reads. The room is made for the body only and given back below,
            // so that idle keep-alive connections stay small.
            if (const auto length = parser.content_length(); !length || *length > small_body) {
                buffer.reserve(buffer.size() + body_read_room);
            }
            std::tie(ec, n) = co_await beast::http::async_read(stream, buffer, parser, use_nothrow);
        }
        if (buffer.capacity() >= body_read_room) {
            buffer.shrink_to_fit();
        }
        if (ec) {
            if (auto res = read_failure_response(ec, c.options)) {
                bool ok = false;
                co_await write_response(stream, *res, c, ok);
                co_await shutdown(stream);
            }
            co_return;
        }
        beast::get_lowest_layer(stream).expires_never();
        auto req = parser.release();
        auto r = co_await c.routes.handle(req, who);
        if (r.websocket && beast::websocket::is_upgrade(req)) {
            if (c.counter) {
                c.counter->count(101);
            }
            co_await serve_websocket(std::move(stream), req, r, c);
            co_return;
        }
        if (r.events) {
            if (c.counter) {
                c.counter->count(r.head.result_int());
            }
            r.head.keep_alive(false);
            beast::http::response_serializer<beast::http::string_body> head(r.head);
            auto [hec, hn] = co_await with_deadline(stream, c.options.write_timeout, [&] {
                return beast::http::async_write_header(stream, head, use_nothrow);
            });
            if (!hec) {
                sse_writer<Stream> writer(stream, c.options.write_timeout);
                co_await r.events(writer);
            }
            co_return;
        }
        const bool keep_alive = req.keep_alive() && r.head.keep_alive();
        r.head.keep_alive(keep_alive);
        r.head.version(req.version());
        r.head.prepare_payload();
        bool ok = false;
        co_await write_response(stream, r.head, c, ok);
        if (!ok) {
            co_return;
        }
        if (!keep_alive) {
            co_await shutdown(stream);
            co_return;
        }
    }
}

}  // namespace corral::http::session_detail
