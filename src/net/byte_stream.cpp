// byte_stream over the three kinds of connection. Timeouts come from one watchdog timer per
// connection that reads and writes only stamp, rather than a timer armed around every operation.
#include "corral/net/byte_stream.hpp"

#include <optional>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace corral::sockets {
namespace {

using clock = std::chrono::steady_clock;

template <class Stream>
class socket_stream final : public byte_stream {
  public:
    template <class... Args>
    socket_stream(std::chrono::seconds idle, std::chrono::milliseconds write, Args&&... args)
        : stream_(std::forward<Args>(args)...), idle_(idle), write_limit_(write) {}

    net::awaitable<std::size_t> read_some(std::span<char> into) override {
        auto [ec, n] = co_await stream_.async_read_some(net::buffer(into.data(), into.size()), use_nothrow);
        last_activity_ = clock::now();
        co_return ec ? 0 : n;
    }

    net::awaitable<bool> write(std::string_view bytes) override {
        write_started_ = clock::now();
        auto [ec, n] = co_await net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), use_nothrow);
        write_started_.reset();
        last_activity_ = clock::now();
        co_return !ec;
    }

    net::awaitable<void> shutdown() override {
        if constexpr (requires { stream_.async_shutdown(use_nothrow); }) {
            write_started_ = clock::now();  // a peer that never answers close_notify is cut off
            co_await stream_.async_shutdown(use_nothrow);
            write_started_.reset();
        } else {
            boost::system::error_code ignored;
            stream_.shutdown(net::socket_base::shutdown_send, ignored);
        }
    }

    Stream& stream() { return stream_; }

    /// Closes the connection once it has idled too long or a write has stalled; then waits to be
    /// cancelled (with the connection's handler, which the closed socket ends).
    net::awaitable<void> watchdog() {
        net::steady_timer timer(stream_.get_executor());
        for (;;) {
            auto deadline = idle_.count() > 0 ? last_activity_ + idle_ : clock::time_point::max();
            if (write_started_) {
                deadline = std::min(deadline, *write_started_ + write_limit_);
            }
            if (clock::now() >= deadline) {
                boost::system::error_code ignored;
                lowest().close(ignored);
                deadline = clock::time_point::max();
            }
            timer.expires_at(deadline);
            auto [ec] = co_await timer.async_wait(use_nothrow);
            if (ec) {
                co_return;
            }
        }
    }

  private:
    auto& lowest() {
        if constexpr (requires { stream_.lowest_layer(); }) {
            return stream_.lowest_layer();
        } else {
            return stream_;
        }
    }

    Stream stream_;
    std::chrono::seconds idle_;
    std::chrono::milliseconds write_limit_;
    clock::time_point last_activity_ = clock::now();
    std::optional<clock::time_point> write_started_;
};

/// The handler's serve() with the connection's watchdog beside it: whichever ends first ends both.
template <class Stream>
net::awaitable<void> serve_with_watchdog(byte_stream_handler& handler, socket_stream<Stream>& s, const peer& who) {
    using namespace net::experimental::awaitable_operators;
    co_await (handler.serve(s, who) || s.watchdog());
}

}  // namespace

net::awaitable<void> byte_stream_handler::serve_tcp(net::ip::tcp::socket socket, peer who) {
    socket_stream<net::ip::tcp::socket> s(idle_timeout_, write_timeout_, std::move(socket));
    co_await serve_with_watchdog(*this, s, who);
}

net::awaitable<void> byte_stream_handler::serve_unix(net::local::stream_protocol::socket socket, peer who) {
    socket_stream<net::local::stream_protocol::socket> s(idle_timeout_, write_timeout_, std::move(socket));
    co_await serve_with_watchdog(*this, s, who);
}

net::awaitable<void> byte_stream_handler::serve_tls(net::ip::tcp::socket socket, net::ssl::context& tls, peer who) {
    using tls_stream = net::ssl::stream<net::ip::tcp::socket>;
    socket_stream<tls_stream> s(idle_timeout_, write_timeout_, std::move(socket), tls);
    // The handshake runs under the watchdog too: a client that never completes it is closed.
    auto handshake = [&]() -> net::awaitable<void> {
        auto [ec] = co_await s.stream().async_handshake(net::ssl::stream_base::server, use_nothrow);
        if (ec) {
            co_return;  // not TLS, or a failed handshake: nothing to answer
        }
        who.tls = true;
        co_await serve(s, who);
    };
    using namespace net::experimental::awaitable_operators;
    co_await (handshake() || s.watchdog());
}

}  // namespace corral::sockets
