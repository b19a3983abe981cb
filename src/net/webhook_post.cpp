#include "net/webhook_post.hpp"

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "net/any_stream.hpp"

namespace corral::http {
namespace {

namespace beast_http = boost::beast::http;
using namespace boost::asio::experimental::awaitable_operators;
using tcp = net::ip::tcp;

struct url_parts {
    bool tls = false;
    std::string host;
    std::string port;
    std::string target;
};

result_info<url_parts> split_url(std::string_view url) {
    url_parts u;
    if (url.starts_with("http://")) {
        url.remove_prefix(7);
    } else if (url.starts_with("https://")) {
        u.tls = true;
        url.remove_prefix(8);
    } else {
        return error_info{errc::invalid_argument, fmt::format("'{}' is not an http:// or https:// URL", url)};
    }
    const auto slash = url.find('/');
    auto authority = url.substr(0, slash);
    u.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    if (authority.find('@') != std::string_view::npos) {
        return error_info{errc::invalid_argument, "a hook URL may not carry a user name or password (use secret)"};
    }
    if (authority.starts_with('[')) {  // [v6]:port
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return error_info{errc::invalid_argument, "an IPv6 address in a URL needs its closing ']'"};
        }
        u.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
        if (authority.starts_with(':')) {
            u.port = std::string(authority.substr(1));
        }
    } else {
        const auto colon = authority.rfind(':');
        u.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            u.port = std::string(authority.substr(colon + 1));
        }
    }
    if (u.host.empty()) {
        return error_info{errc::invalid_argument, "the URL has no host"};
    }
    if (u.port.empty()) {
        u.port = u.tls ? "443" : "80";
    }
    if (u.target.find_first_of("\r\n ") != std::string::npos) {
        return error_info{errc::invalid_argument, "the URL's path may not contain spaces or line breaks"};
    }
    return u;
}

net::awaitable<result_info<unsigned>> exchange(net::any_io_executor executor, const url_parts& u, const post_request& r) {
    boost::system::error_code ec;
    tcp::resolver resolver(executor);
    auto [rec, endpoints] = co_await resolver.async_resolve(u.host, u.port, use_nothrow);
    if (rec) {
        co_return error_info{rec, fmt::format("cannot resolve {}: {}", u.host, rec.message())};
    }
    tcp::socket socket(executor);
    std::tie(ec, std::ignore) = co_await net::async_connect(socket, endpoints, use_nothrow);
    if (ec) {
        co_return error_info{ec, fmt::format("cannot connect to {}:{}: {}", u.host, u.port, ec.message())};
    }
    std::optional<any_stream> stream;
    net::ssl::context tls(net::ssl::context::tls_client);
    if (u.tls) {
        tls.set_verify_mode(net::ssl::verify_peer, ec);
        if (!ec) {
            tls.set_default_verify_paths(ec);
        }
        if (ec) {
            co_return error_info{ec, fmt::format("cannot load the system's CA certificates: {}", ec.message())};
        }
        stream = co_await tls_client_stream(std::move(socket), tls, u.host, ec);
        if (!stream) {
            co_return error_info{ec, fmt::format("TLS with {} failed: {}", u.host, ec.message())};
        }
    } else {
        stream = plain_stream(net::generic::stream_protocol::socket(std::move(socket)));
    }
    beast_http::request<beast_http::string_body> req{beast_http::verb::post, u.target, 11};
    req.set(beast_http::field::host, u.host);
    req.set(beast_http::field::user_agent, "corrald");
    req.set(beast_http::field::content_type, "application/json");
    req.set(beast_http::field::connection, "close");
    for (const auto& [name, value] : r.headers) {
        req.set(name, value);
    }
    req.body() = r.body;
    req.prepare_payload();
    std::tie(ec, std::ignore) = co_await beast_http::async_write(*stream, req, use_nothrow);
    if (ec) {
        co_return error_info{ec, fmt::format("sending to {} failed: {}", u.host, ec.message())};
    }
    boost::beast::flat_buffer buffer;
    beast_http::response_parser<beast_http::string_body> parser;
    parser.body_limit(64 * 1024);  // the reply is not used: only its status
    parser.header_limit(16 * 1024);
    std::tie(ec, std::ignore) = co_await beast_http::async_read(*stream, buffer, parser, use_nothrow);
    if (ec && !parser.is_header_done()) {
        co_return error_info{ec, fmt::format("no reply from {}: {}", u.host, ec.message())};
    }
    co_return parser.get().result_int();
}

}  // namespace

net::awaitable<result_info<unsigned>> post_json(net::any_io_executor executor, post_request r) {
    auto u = split_url(r.url);
    if (!u) {
        co_return u.error();
    }
    net::steady_timer deadline(executor, r.timeout);
    auto done = co_await (exchange(executor, *u, r) || deadline.async_wait(use_nothrow));
    if (done.index() == 1) {
        co_return error_info{make_error_code(net::error::timed_out),
                             fmt::format("no reply within {} ms", r.timeout.count())};
    }
    co_return std::get<0>(std::move(done));
}

}  // namespace corral::http
