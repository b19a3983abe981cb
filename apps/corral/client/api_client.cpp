#include "client/api_client.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "corral/core/async_event.hpp"
#include "net/any_stream.hpp"

namespace corral::cli {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr std::string_view cacert_hint =
    " (if corrald's certificate is self-signed or from a private CA, trust it with --cacert FILE "
    "or $CORRAL_CACERT)";

// Beast reads as much as the buffer has room for, but at least 512 bytes: a buffer left at its first
// size read a 256 MiB output page 512 bytes per recvmsg (half a million calls). With room for 64 KiB,
// each read takes what the socket holds, up to Beast's 64 KiB cap.
beast::flat_buffer read_buffer() {
    beast::flat_buffer b;
    b.reserve(64 << 10);
    return b;
}

}  // namespace

/// The Unix socket, TCP or TLS alike (the daemon's any_stream): the HTTP client's templates are
/// instantiated once.
struct api_client::connection {
    corral::http::any_stream stream;
    beast::flat_buffer buffer = read_buffer();
};

struct api_client::tls_settings {
    net::ssl::context context{net::ssl::context::tls_client};
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
    if (auto parsed = parse_url(); !parsed) {
        url_error_ = parsed.error();  // reported by the first request
    }
}

/// http://HOST[:PORT][/...] or https://...; HOST may be a name, an IPv4 address or [IPv6].
result_info<void> api_client::parse_url() {
    if (where_.url.empty()) {
        return {};
    }
    std::string_view rest = where_.url;
    if (rest.starts_with("https://")) {
        https_ = true;
        rest.remove_prefix(8);
    } else if (rest.starts_with("http://")) {
        rest.remove_prefix(7);
    } else {
        return error_info{errc::invalid_argument,
                          fmt::format("--url '{}': use an http:// or https:// URL", where_.url)};
    }
    rest = rest.substr(0, rest.find('/'));
    std::string_view port;
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            return error_info{errc::invalid_argument,
                              fmt::format("--url '{}': no ']' after the IPv6 address", where_.url)};
        }
        host_ = std::string(rest.substr(1, close - 1));
        rest.remove_prefix(close + 1);
        if (rest.starts_with(':')) {
            port = rest.substr(1);
        }
    } else {
        const auto colon = rest.rfind(':');
        host_ = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = rest.substr(colon + 1);
        }
    }
    if (host_.empty()) {
        return error_info{errc::invalid_argument, fmt::format("--url '{}': no host", where_.url)};
    }
    port_ = port.empty() ? (https_ ? "443" : "80") : std::string(port);
    return {};
}

api_client::~api_client() = default;

std::string api_client::describe() const {
    return where_.url.empty() ? fmt::format("the socket {}", where_.socket) : where_.url;
}

net::awaitable<result_info<void>> api_client::connect() {
    if (url_error_) {
        co_return *url_error_;
    }
    boost::system::error_code ec;
    if (where_.url.empty()) {
        net::local::stream_protocol::socket s(executor_);
        std::tie(ec) =
            co_await s.async_connect(net::local::stream_protocol::endpoint(where_.socket), use_nothrow);
        if (!ec) {
            connection_ = std::make_unique<connection>(
                connection{corral::http::plain_stream(net::generic::stream_protocol::socket(std::move(s)))});
        }
    } else {
        tcp::resolver resolver(executor_);
        auto [rec, results] = co_await resolver.async_resolve(host_, port_, use_nothrow);
        ec = rec;
        if (!ec) {
            tcp::socket s(executor_);
            std::tie(ec, std::ignore) = co_await net::async_connect(s, results, use_nothrow);
            if (!ec) {
                s.set_option(tcp::no_delay(true));
                if (!https_) {
                    connection_ = std::make_unique<connection>(
                        connection{corral::http::plain_stream(net::generic::stream_protocol::socket(std::move(s)))});
                } else {
                    co_return co_await handshake(std::move(s));
                }
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

/// TLS over a connected socket, checking corrald's certificate against the system's CAs (or
/// --cacert) and the name (or address) in the URL.
net::awaitable<result_info<void>> api_client::handshake(net::ip::tcp::socket socket) {
    if (!tls_) {
        auto settings = std::make_unique<tls_settings>();
        boost::system::error_code ec;
        settings->context.set_verify_mode(net::ssl::verify_peer, ec);
        if (!ec) {
            if (where_.cacert.empty()) {
                settings->context.set_default_verify_paths(ec);
            } else {
                settings->context.load_verify_file(where_.cacert, ec);
            }
        }
        if (ec) {
            co_return error_info{
                ec,
                where_.cacert.empty()
                    ? fmt::format("cannot load the system's CA certificates: {}", ec.message())
                    : fmt::format(
                          "--cacert: cannot read certificates from '{}': {}", where_.cacert, ec.message())};
        }
        tls_ = std::move(settings);
    }
    boost::system::error_code ec;
    auto s = co_await corral::http::tls_client_stream(std::move(socket), tls_->context, host_, ec);
    if (!s) {
        const bool tls_error = ec.category() == net::error::get_ssl_category();
        co_return error_info{ec,
                             fmt::format("TLS with corrald at {} failed: {}{}",
                                         describe(),
                                         ec.message(),
                                         tls_error ? cacert_hint : std::string_view{})};
    }
    connection_ = std::make_unique<connection>(connection{std::move(*s)});
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
        // A job's stdin takes raw bytes; every other route takes JSON (corrald checks which it got).
        const bool raw = target.find("/stdin") != std::string::npos;
        req.set(http::field::content_type, raw ? "application/octet-stream" : "application/json");
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
        std::tie(ec, std::ignore) = co_await http::async_write(connection_->stream, req, use_nothrow);
        if (!ec) {
            std::tie(ec, std::ignore) =
                co_await http::async_read(connection_->stream, connection_->buffer, parser, use_nothrow);
        }
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

struct pending_request::state {
    explicit state(net::any_io_executor executor) : answered(std::move(executor)) {}
    std::optional<result_info<api_response>> reply;
    async_event answered;
};

namespace {

// Holds the state (not the pending_request): a caller that gives up early leaves it to this.
net::awaitable<void> run_request(api_client& c,
                                 std::string method,
                                 std::string target,
                                 std::string body,
                                 std::shared_ptr<pending_request::state> s) {
    auto r = co_await c.request(method, std::move(target), std::move(body));
    s->reply = std::move(r);
    s->answered.notify_all();
}

}  // namespace

net::awaitable<pending_request> pending_request::send(api_client& c,
                                                      std::string method,
                                                      std::string target,
                                                      std::string body) {
    const auto executor = co_await net::this_coro::executor;
    auto s = std::make_shared<state>(executor);
    net::co_spawn(executor, run_request(c, std::move(method), std::move(target), std::move(body), s), net::detached);
    co_await net::post(executor, net::use_awaitable);  // runs it up to its first wait: the request goes out
    co_return pending_request(std::move(s));
}

net::awaitable<result_info<api_response>> pending_request::get() {
    while (!state_->reply) {
        co_await state_->answered.wait();
    }
    co_return std::move(*state_->reply);
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
