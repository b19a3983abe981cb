#include "client/api_client.hpp"

#include <fmt/format.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace corral::cli {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using unix_stream = beast::basic_stream<net::local::stream_protocol>;

}  // namespace

struct api_client::connection {
    std::variant<beast::tcp_stream, unix_stream> stream;
    beast::flat_buffer buffer;
};

boost::json::value api_response::json() const {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    return ec ? boost::json::value(nullptr) : v;
}

std::string api_response::error_message() const {
    auto v = json();
    if (v.is_object()) {
        if (const auto* e = v.get_object().if_contains("error"); e && e->is_object()) {
            if (const auto* m = e->get_object().if_contains("message"); m && m->is_string()) {
                return std::string(m->get_string());
            }
        }
    }
    return fmt::format("HTTP {} {}", status, body.substr(0, 200));
}

api_client::api_client(net::any_io_executor executor, endpoint_options where)
    : executor_(executor), where_(std::move(where)) {
    if (!where_.url.empty()) {
        std::string_view rest = where_.url;
        if (rest.starts_with("http://")) {
            rest.remove_prefix(7);
        }
        rest = rest.substr(0, rest.find('/'));
        auto colon = rest.rfind(':');
        host_ = std::string(rest.substr(0, colon));
        port_ = colon == std::string_view::npos ? "80" : std::string(rest.substr(colon + 1));
    }
}

api_client::~api_client() = default;

std::string api_client::describe() const {
    return where_.url.empty() ? fmt::format("the socket {}", where_.socket) : where_.url;
}

net::awaitable<result_info<void>> api_client::connect() {
    if (!where_.url.empty() && !where_.url.starts_with("http://")) {
        co_return error_info{errc::unsupported,
                             fmt::format("'{}': only http:// URLs are supported by this client "
                                         "(use the Unix socket, or put TLS in front)",
                                         where_.url)};
    }
    boost::system::error_code ec;
    if (where_.url.empty()) {
        unix_stream s(executor_);
        std::tie(ec) =
            co_await s.async_connect(net::local::stream_protocol::endpoint(where_.socket), use_nothrow);
        if (!ec) {
            connection_ = std::make_unique<connection>(connection{std::move(s), {}});
        }
    } else {
        tcp::resolver resolver(executor_);
        auto [rec, results] = co_await resolver.async_resolve(host_, port_, use_nothrow);
        ec = rec;
        if (!ec) {
            beast::tcp_stream s(executor_);
            std::tie(ec, std::ignore) = co_await s.async_connect(results, use_nothrow);
            if (!ec) {
                s.socket().set_option(tcp::no_delay(true));
                connection_ = std::make_unique<connection>(connection{std::move(s), {}});
            }
        }
    }
    if (ec) {
        co_return error_info{
            ec,
            fmt::format("cannot reach corrald at {}: {}. Is it running? Start it with `corrald run`.",
                        describe(),
                        ec.message())};
    }
    co_return result_info<void>{};
}

net::awaitable<result_info<api_response>> api_client::request(std::string_view method,
                                                              std::string target,
                                                              std::string body) {
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, host_.empty() ? "localhost" : host_);
    req.set(http::field::user_agent, "corral-cli");
    if (!where_.token.empty()) {
        req.set(http::field::authorization, "Bearer " + where_.token);
    }
    if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
    }
    req.body() = std::move(body);
    req.prepare_payload();
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool fresh = !connection_;
        if (fresh) {
            if (auto r = co_await connect(); !r) {
                co_return r.error();
            }
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        boost::system::error_code ec;
        co_await std::visit(
            [&](auto& s) -> net::awaitable<void> {
                std::tie(ec, std::ignore) = co_await http::async_write(s, req, use_nothrow);
                if (!ec) {
                    std::tie(ec, std::ignore) =
                        co_await http::async_read(s, connection_->buffer, parser, use_nothrow);
                }
            },
            connection_->stream);
        if (ec) {
            connection_.reset();
            if (!fresh) {
                continue;  // the server closed an idle keep-alive connection: try once more
            }
            co_return error_info{
                ec, fmt::format("request to corrald at {} failed: {}", describe(), ec.message())};
        }
        auto res = parser.release();
        api_response out;
        out.status = res.result_int();
        for (const auto& h : res) {
            std::string name(h.name_string());
            std::transform(
                name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            out.headers[name] = std::string(h.value());
        }
        out.body = std::move(res.body());
        if (!res.keep_alive()) {
            connection_.reset();
        }
        co_return out;
    }
    co_return error_info{errc::invalid_state, "corrald closed the connection twice"};
}

net::awaitable<boost::json::value> call(api_client& c,
                                        std::string_view method,
                                        std::string target,
                                        std::string body) {
    auto r = co_await c.request(method, std::move(target), std::move(body));
    if (!r) {
        throw command_error{r.error().what()};
    }
    if (!r->ok()) {
        throw command_error{r->error_message(), r->status == 404 ? 1 : corral_failed};
    }
    co_return r->json();
}

}  // namespace corral::cli
