// One connection's HTTP/1.1 session over an any_stream: requests with keep-alive, their limits and
// errors, SSE, and the hand-over to the WebSocket session (http_session_ws.cpp) on an upgrade.
#include "net/http_session.hpp"

#include <fmt/format.h>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "net/client_watch.hpp"

namespace corral::http {
namespace {

using namespace session_detail;

response error_response(status code, std::string_view error, std::string_view message) {
    response res{code, 11};
    res.set(beast::http::field::content_type, "application/json");
    boost::json::value body = {{"error", {{"code", error}, {"message", message}}}};
    res.body() = boost::json::serialize(body) + "\n";
    res.keep_alive(false);
    res.prepare_payload();
    return res;
}

/// The answer to a request that could not be read; nullopt when the connection just went away.
std::optional<response> read_failure_response(boost::system::error_code ec, const listener_options& o) {
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

class sse_writer final : public event_stream {
  public:
    sse_writer(any_stream& s, std::chrono::milliseconds write_timeout)
        : stream_(s), write_timeout_(write_timeout) {}
    net::awaitable<bool> send(std::string_view text) override {
        auto [ec, n] = co_await with_deadline(stream_, write_timeout_, [&] {
            return net::async_write(stream_, net::buffer(text.data(), text.size()), use_nothrow);
        });
        co_return !ec;
    }

  private:
    any_stream& stream_;
    std::chrono::milliseconds write_timeout_;
};

net::awaitable<void> write_response(any_stream& stream, response& res, const session_config& c, bool& ok) {
    if (c.counter) {
        c.counter->count(res.result_int());
    }
    auto [ec, n] = co_await with_deadline(
        stream, c.options.write_timeout, [&] { return beast::http::async_write(stream, res, use_nothrow); });
    ok = !ec;
}

net::awaitable<void> shutdown(any_stream& stream) {
    if (stream.tls()) {  // close_notify
        stream.expires_after(std::chrono::seconds(5));
        co_await stream.async_tls_shutdown(use_nothrow);
        co_return;
    }
    stream.shutdown_send();
    // A lingering close: read what the client is still sending (say, the rest of an oversized
    // body) for a moment, so closing does not reset the connection before it reads our answer.
    stream.expires_after(std::chrono::seconds(2));
    std::array<char, 16 * 1024> scratch;
    for (std::size_t drained = 0; drained < (16u << 20);) {
        auto [ec, n] = co_await stream.async_read_some(net::buffer(scratch), use_nothrow);
        if (ec) {
            break;
        }
        drained += n;
    }
}

// Room for one read of a request body (Beast's own cap per read is 64 KiB), made for bodies larger
// than a typical submission.
constexpr std::size_t body_read_room = 64 * 1024;
constexpr std::uint64_t small_body = 16 * 1024;

/// Reads requests until the client closes, an error, or a response that ends the connection.
net::awaitable<void> serve(any_stream stream, sockets::peer from, session_config c) {
    client_watch watch(stream);
    peer who;
    static_cast<sockets::peer&>(who) = std::move(from);
    who.link = &watch;
    beast::flat_buffer buffer;
    for (;;) {
        beast::http::request_parser<beast::http::string_body> parser;
        parser.body_limit(c.options.max_body);
        parser.header_limit(c.options.max_header);
        stream.expires_after(c.options.idle_timeout);
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
        stream.expires_never();
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
                sse_writer writer(stream, c.options.write_timeout);
                co_await r.events(writer);
            }
            co_return;
        }
        const bool keep_alive = req.keep_alive() && r.head.keep_alive();
        r.head.keep_alive(keep_alive);
        r.head.version(req.version());
        r.head.prepare_payload();
        if (r.file) {
            std::uint64_t from_file = 0;
            for (const auto& [pos, length] : r.file->extents) {
                from_file += length;
            }
            r.head.content_length(r.head.body().size() + from_file);  // the head's body, then the file's
        }
        bool ok = false;
        co_await write_response(stream, r.head, c, ok);
        if (ok && r.file) {
            ok = co_await write_file_body(stream, *r.file, c.options.write_timeout);
        }
        if (!ok) {
            co_return;
        }
        if (!keep_alive) {
            co_await shutdown(stream);
            co_return;
        }
    }
}

}  // namespace

net::awaitable<void> serve_plain(net::generic::stream_protocol::socket socket, sockets::peer who, session_config config) {
    co_await serve(plain_stream(std::move(socket)), std::move(who), config);
}

net::awaitable<void> serve_tls(net::ip::tcp::socket socket,
                               net::ssl::context& tls,
                               sockets::peer who,
                               session_config config) {
    auto stream = co_await tls_stream(std::move(socket), tls);
    if (!stream) {
        co_return;
    }
    who.tls = true;
    co_await serve(std::move(*stream), std::move(who), config);
}

}  // namespace corral::http
