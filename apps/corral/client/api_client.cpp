#include "client/api_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
    std::uint64_t body_left = 0;  // of the reply whose head read_head() read
    bool close_after_body = false;
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

namespace {

http::request<http::string_body> make_request(std::string_view method,
                                              std::string target,
                                              const std::string& host,
                                              const std::string& token) {
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, host.empty() ? "localhost" : host);
    req.set(http::field::user_agent, "corral-cli");
    if (!token.empty()) {
        req.set(http::field::authorization, "Bearer " + token);
    }
    return req;
}

api_response response_of(const http::response_header<>& head) {
    api_response out;
    out.status = head.result_int();
    for (const auto& h : head) {
        std::string name(h.name_string());
        std::transform(
            name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        out.headers[name] = std::string(h.value());
    }
    return out;
}

}  // namespace

error_info api_client::failed(const boost::system::error_code& ec) const {
    return error_info{ec, fmt::format("request to corrald at {} failed: {}", describe(), ec.message())};
}

net::awaitable<result_info<api_response>> api_client::request(std::string_view method,
                                                              std::string target,
                                                              std::string body) {
    if (!sent_.empty() || (connection_ && connection_->body_left > 0)) {
        connection_.reset();  // replies of send() nobody read are still coming on this connection
        sent_.clear();
    }
    // A job's stdin takes raw bytes; every other route takes JSON (corrald checks which it got).
    const bool raw = target.find("/stdin") != std::string::npos;
    auto req = make_request(method, std::move(target), host_, where_.token);
    if (!body.empty()) {
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
            co_return failed(ec);
        }
        auto res = parser.release();
        api_response out = response_of(res.base());
        out.body = std::move(res.body());
        if (!res.keep_alive()) {
            connection_.reset();
        }
        co_return out;
    }
    co_return error_info{errc::invalid_state, "corrald closed the connection twice"};
}

net::awaitable<result_info<void>> api_client::write_request(const std::string& target) {
    auto req = make_request("GET", target, host_, where_.token);
    req.prepare_payload();
    auto [ec, n] = co_await http::async_write(connection_->stream, req, use_nothrow);
    if (ec) {
        connection_.reset();
        co_return failed(ec);
    }
    co_return result_info<void>{};
}

net::awaitable<result_info<void>> api_client::send(std::string target) {
    if (!connection_) {
        sent_.clear();
        if (auto r = co_await connect(); !r) {
            co_return r.error();
        }
        sent_on_idle_connection_ = false;
    } else if (sent_.empty() && connection_->body_left == 0) {
        sent_on_idle_connection_ = true;
    }
    sent_.push_back(std::move(target));
    co_return co_await write_request(sent_.back());
}

net::awaitable<result_info<api_response>> api_client::read_head() {
    if (sent_.empty() || (connection_ && connection_->body_left > 0)) {
        co_return error_info{errc::invalid_state, "read_head: no request is waiting for its reply here"};
    }
    if (!connection_) {
        // The server closed the connection after the last reply, with ours pipelined behind it: they
        // are GETs, so send them again on a new one, in order.
        if (auto r = co_await connect(); !r) {
            co_return r.error();
        }
        for (const auto& target : sent_) {
            if (auto r = co_await write_request(target); !r) {
                co_return r.error();
            }
        }
    }
    for (;;) {
        http::response_parser<http::empty_body> head;
        auto [ec, n] =
            co_await http::async_read_header(connection_->stream, connection_->buffer, head, use_nothrow);
        if (ec && sent_on_idle_connection_) {
            // The server closed the connection while it was idle: once more, on a new one, in order.
            sent_on_idle_connection_ = false;
            connection_.reset();
            if (auto r = co_await connect(); !r) {
                co_return r.error();
            }
            for (const auto& target : sent_) {
                if (auto r = co_await write_request(target); !r) {
                    co_return r.error();
                }
            }
            continue;
        }
        if (ec) {
            connection_.reset();
            co_return failed(ec);
        }
        sent_on_idle_connection_ = false;
        sent_.pop_front();
        api_response out = response_of(head.get().base());
        const auto length = head.content_length();
        if (out.ok() && length) {
            out.body_left = *length;
            connection_->body_left = *length;
            connection_->close_after_body = !head.get().keep_alive();
            if (*length == 0 && connection_->close_after_body) {
                connection_.reset();
            }
            co_return out;
        }
        // An error (its message is JSON) or a body of unknown length: read here, whole.
        http::response_parser<http::string_body> whole(std::move(head));
        whole.body_limit(std::numeric_limits<std::uint64_t>::max());
        std::tie(ec, n) =
            co_await http::async_read(connection_->stream, connection_->buffer, whole, use_nothrow);
        if (ec) {
            connection_.reset();
            co_return failed(ec);
        }
        out.body = std::move(whole.get().body());
        if (!whole.get().keep_alive()) {
            connection_.reset();
        }
        co_return out;
    }
}

namespace {

/// All of `bytes` to `fd` (our stdout: blocking, or a pipe someone made non-blocking), or errno.
int write_all(int fd, const char* bytes, std::size_t size) {
    while (size > 0) {
        const auto n = ::write(fd, bytes, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            pollfd out{fd, POLLOUT, 0};
            (void)::poll(&out, 1, -1);
            continue;
        }
        if (n < 0) {
            return errno;
        }
        bytes += n;
        size -= static_cast<std::size_t>(n);
    }
    return 0;
}

bool is_pipe(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

}  // namespace

net::awaitable<result_info<void>> api_client::body_to(int fd) {
    if (!connection_) {
        co_return error_info{errc::invalid_state, "body_to: no reply body is waiting here"};
    }
    auto& conn = *connection_;
    auto write_error = [&](int error) {
        connection_.reset();  // the rest of the body is still coming: the connection is of no more use
        return error_info{boost::system::error_code(error, boost::system::system_category()),
                          fmt::format("cannot write corrald's reply out: {}", std::strerror(error))};
    };
    // What the head's read took past the head.
    if (const auto ahead = std::min<std::uint64_t>(conn.buffer.size(), conn.body_left); ahead > 0) {
        if (const int error = write_all(fd, static_cast<const char*>(conn.buffer.data().data()), ahead)) {
            co_return write_error(error);
        }
        conn.buffer.consume(ahead);
        conn.body_left -= ahead;
    }
    // splice(2) moves the socket's pages into the pipe: no copy into this process and out again.
    bool splicing = !conn.stream.tls() && is_pipe(fd);
    if (splicing) {
        // Asio made the socket non-blocking for its own reads already; say so for splice's sake.
        const int sock = conn.stream.native_handle();
        if (const int flags = ::fcntl(sock, F_GETFL); flags >= 0 && !(flags & O_NONBLOCK)) {
            (void)::fcntl(sock, F_SETFL, flags | O_NONBLOCK);
        }
    }
    std::unique_ptr<char[]> bounce;
    constexpr std::size_t bounce_size = 256 << 10;
    while (conn.body_left > 0) {
        const auto want = std::min<std::uint64_t>(conn.body_left, 1 << 20);
        if (splicing) {
            const auto n = ::splice(conn.stream.native_handle(), nullptr, fd, nullptr, want, SPLICE_F_MOVE);
            if (n > 0) {
                conn.body_left -= static_cast<std::uint64_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && errno == EINVAL) {
                splicing = false;  // a pipe or socket that cannot splice: copy instead
                continue;
            }
            if (n < 0 && errno != EAGAIN) {
                co_return write_error(errno);
            }
            if (n == 0) {
                connection_.reset();
                co_return failed(net::error::eof);
            }
            // EAGAIN: the socket has nothing yet, or our stdout is a full non-blocking pipe (someone
            // set O_NONBLOCK on it); wait for the side that holds it up, not spin.
            if (int pending = 0;
                ::ioctl(conn.stream.native_handle(), FIONREAD, &pending) == 0 && pending > 0) {
                pollfd out{fd, POLLOUT, 0};
                (void)::poll(&out, 1, -1);
                continue;
            }
            auto [ec] = co_await conn.stream.async_wait_readable(use_nothrow);
            if (ec) {
                connection_.reset();
                co_return failed(ec);
            }
            continue;
        }
        if (!bounce) {
            bounce = std::make_unique_for_overwrite<char[]>(bounce_size);
        }
        auto [ec, n] = co_await conn.stream.async_read_some(
            net::buffer(bounce.get(), std::min<std::uint64_t>(want, bounce_size)), use_nothrow);
        if (ec) {
            connection_.reset();
            co_return failed(ec);
        }
        if (const int error = write_all(fd, bounce.get(), n)) {
            co_return write_error(error);
        }
        conn.body_left -= n;
    }
    if (conn.close_after_body) {
        connection_.reset();
    }
    co_return result_info<void>{};
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
