#include "helpers/http_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <thread>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

namespace corral::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

/// A connected socket of either kind, as a generic stream socket.
asio::generic::stream_protocol::socket open_socket(asio::io_context& io, const address& where) {
    if (!where.unix_path.empty()) {
        asio::local::stream_protocol::socket s(io);
        s.connect(asio::local::stream_protocol::endpoint(where.unix_path));
        return asio::generic::stream_protocol::socket(std::move(s));
    }
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), where.port));
    s.set_option(tcp::no_delay(true));
    return asio::generic::stream_protocol::socket(std::move(s));
}

void set_receive_timeout(int fd, std::chrono::milliseconds limit) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(limit.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((limit.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

}  // namespace

boost::json::value http_reply::json() const {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    return ec ? boost::json::value(nullptr) : v;
}

http_reply http(const address& where,
                const std::string& method,
                const std::string& target,
                const std::string& body,
                const std::map<std::string, std::string>& headers) {
    asio::io_context io;
    auto socket = open_socket(io, where);
    set_receive_timeout(socket.native_handle(), std::chrono::seconds(60));
    beast::http::request<beast::http::string_body> req{beast::http::string_to_verb(method), target, 11};
    req.set(beast::http::field::host, "localhost");
    if (!where.token.empty()) {
        req.set(beast::http::field::authorization, "Bearer " + where.token);
    }
    if (!body.empty()) {
        const bool raw = target.find("/stdin") != std::string::npos;
        req.set(beast::http::field::content_type, raw ? "application/octet-stream" : "application/json");
    }
    for (const auto& [k, v] : headers) {
        req.set(k, v);
    }
    req.body() = body;
    req.prepare_payload();
    boost::system::error_code write_error;
    beast::http::write(socket, req, write_error);  // a server may answer (413) before the body is sent
    beast::flat_buffer buffer;
    beast::http::response_parser<beast::http::string_body> parser;
    parser.body_limit(1ull << 32);
    beast::http::read(socket, buffer, parser);
    auto res = parser.release();
    http_reply r;
    r.status = res.result_int();
    r.body = res.body();
    for (const auto& h : res) {
        std::string name(h.name_string());
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = std::string(h.value());
    }
    return r;
}

long long started_pid(const address& where, long long id) {
    for (int i = 0; i < 1000; ++i) {
        auto job = http(where, "GET", "/api/v1/jobs/" + std::to_string(id)).json();
        if (const auto* pid = job.is_object() ? job.as_object().if_contains("pid") : nullptr;
            pid && pid->is_int64()) {
            return pid->as_int64();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
}

std::string raw_exchange(const address& where, const std::string& raw, std::chrono::milliseconds quiet) {
    asio::io_context io;
    auto socket = open_socket(io, where);
    set_receive_timeout(socket.native_handle(), quiet);
    asio::write(socket, asio::buffer(raw));
    // Plain recv: Asio's blocking reads retry on the receive timeout instead of returning.
    std::string out;
    char buffer[4096];
    for (;;) {
        const auto n = ::recv(socket.native_handle(), buffer, sizeof buffer, 0);
        if (n <= 0)
            break;
        out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
}

struct ws_client::impl {
    asio::io_context io;
    beast::websocket::stream<asio::generic::stream_protocol::socket> ws;
    beast::flat_buffer buffer;
    std::string subprotocol;
    int pings = 0;
    explicit impl(const address& where) : ws(open_socket(io, where)) {}
};

ws_client::ws_client(const address& where,
                     const std::string& target,
                     const std::map<std::string, std::string>& headers)
    : impl_(std::make_unique<impl>(where)) {
    impl_->ws.read_message_max(64 << 20);
    auto extra = headers;
    if (!where.token.empty() && target.find("token=") == std::string::npos && !extra.count("Authorization")) {
        extra["Authorization"] = "Bearer " + where.token;
    }
    impl_->ws.set_option(
        beast::websocket::stream_base::decorator([extra](beast::websocket::request_type& req) {
            for (const auto& [k, v] : extra) {
                req.set(k, v);
            }
        }));
    impl_->ws.control_callback([this](beast::websocket::frame_type kind, beast::string_view) {
        if (kind == beast::websocket::frame_type::ping) {
            ++impl_->pings;
        }
    });
    beast::websocket::response_type res;
    impl_->ws.handshake(res, "localhost", target);
    impl_->subprotocol = std::string(res[beast::http::field::sec_websocket_protocol]);
}

ws_client::~ws_client() = default;

void ws_client::send(const std::string& text) {
    impl_->ws.text(true);
    impl_->ws.write(asio::buffer(text));
}

void ws_client::send_binary(const std::string& bytes) {
    impl_->ws.binary(true);
    impl_->ws.write(asio::buffer(bytes));
}

bool ws_client::last_was_binary() const {
    return impl_->ws.got_binary();
}

const std::string& ws_client::subprotocol() const {
    return impl_->subprotocol;
}

int ws_client::pings() const {
    return impl_->pings;
}

std::optional<std::string> ws_client::receive(std::chrono::milliseconds limit) {
    // Asynchronous, with the limit as the io_context's: a blocking read would retry on the socket's
    // receive timeout instead of returning. A read cut short by the limit leaves the client unusable
    // for further use, which is all a test expecting silence needs.
    impl_->buffer.clear();
    std::optional<boost::system::error_code> result;
    impl_->ws.async_read(impl_->buffer, [&](boost::system::error_code ec, std::size_t) { result = ec; });
    impl_->io.restart();
    impl_->io.run_for(limit);
    if (!result) {
        // Closed, not just cancelled: a read between two operations (answering a ping, say) would
        // start another one after a cancel and wait for ever.
        boost::system::error_code ignored;
        impl_->ws.next_layer().close(ignored);
        impl_->io.restart();
        impl_->io.run();
        return std::nullopt;
    }
    if (*result) {
        return std::nullopt;
    }
    return beast::buffers_to_string(impl_->buffer.data());
}

std::string ws_client::close_reason() const {
    return std::string(impl_->ws.reason().reason.c_str());
}

int ws_client::close_code() const {
    return static_cast<int>(impl_->ws.reason().code);
}

void ws_client::close() {
    boost::system::error_code ec;
    impl_->ws.close(beast::websocket::close_code::normal, ec);
}

}  // namespace corral::test
