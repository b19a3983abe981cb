// The stream listener with a byte protocol on it (an echo server), over real TCP, TLS and Unix
// sockets: what a raw framed protocol gets from it — peers, limits, idle timeouts, a graceful stop.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <future>
#include <mutex>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include "corral/net/byte_stream.hpp"
#include "helpers/test_certificate.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

using tcp = net::ip::tcp;
using unix_socket = net::local::stream_protocol;

/// Echoes every byte back and remembers who connected.
class echo_server final : public sockets::byte_stream_handler {
  public:
    using byte_stream_handler::byte_stream_handler;

    net::awaitable<void> serve(sockets::byte_stream& stream, const sockets::peer& who) override {
        {
            std::lock_guard lock(mutex_);
            peers_.push_back(who);
        }
        std::array<char, 4096> buffer;
        for (;;) {
            const auto n = co_await stream.read_some(buffer);
            if (n == 0 || !(co_await stream.write(std::string_view(buffer.data(), n)))) {
                break;
            }
        }
        co_await stream.shutdown();
    }

    std::vector<sockets::peer> peers() const {
        std::lock_guard lock(mutex_);
        return peers_;
    }

  private:
    mutable std::mutex mutex_;
    std::vector<sockets::peer> peers_;
};

/// A listener running on a thread of its own; the test talks to it with blocking sockets.
class running_listener {
  public:
    explicit running_listener(sockets::stream_options options) : server_(options) {
        auto made = sockets::stream_listener::create(io_.get_executor(), std::move(options), server_);
        if (!made) {
            error_ = made.error().what();
            return;
        }
        listener_ = std::move(*made);
        net::post(io_, [this] { listener_->start(); });
        thread_ = std::thread([this] { io_.run(); });
    }
    ~running_listener() {
        if (listener_) {
            stop();
            thread_.join();
        }
    }
    const std::string& error() const { return error_; }
    unsigned short port() const { return listener_->port(); }
    echo_server& server() { return server_; }
    /// Runs `f` on the listener's thread and returns what it returns.
    template <class F>
    auto on_loop(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        net::post(io_, [&task] { task(); });
        return result.get();
    }

    std::uint64_t refused() {
        return on_loop([this] { return listener_->refused(); });
    }

    /// close_connections(), waited for; then the loop ends.
    void stop() {
        if (!work_) {
            return;
        }
        std::promise<void> done;
        net::co_spawn(io_, listener_->close_connections(), [&](std::exception_ptr) { done.set_value(); });
        done.get_future().get();
        work_.reset();
    }

  private:
    net::io_context io_;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{net::make_work_guard(io_)};
    echo_server server_;
    std::unique_ptr<sockets::stream_listener> listener_;
    std::string error_;
    std::thread thread_;
};

/// Writes `text` and reads as many bytes back; "" when the connection ended first.
template <class Stream>
std::string round_trip(Stream& s, const std::string& text) {
    boost::system::error_code ec;
    net::write(s, net::buffer(text), ec);
    std::string back(text.size(), '\0');
    if (!ec) {
        net::read(s, net::buffer(back), ec);
    }
    return ec ? std::string() : back;
}

/// True when the server ends the connection (EOF or reset) within `limit`, sending nothing.
template <class Socket>
bool closed_by_server(Socket& s, std::chrono::seconds limit = std::chrono::seconds(10)) {
    timeval tv{static_cast<time_t>(limit.count()), 0};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    const auto n = ::recv(s.native_handle(), &c, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

sockets::stream_options tcp_options() {
    sockets::stream_options o;
    o.endpoint = "127.0.0.1:0";
    return o;
}

TEST(StreamListener, EchoesOverTcpAndSaysWhoIsThere) {
    running_listener l(tcp_options());
    ASSERT_EQ(l.error(), "");
    net::io_context client;
    tcp::socket s(client);
    s.connect({net::ip::make_address("127.0.0.1"), l.port()});
    EXPECT_EQ(round_trip(s, "hello over tcp"), "hello over tcp");
    const auto peers = l.server().peers();
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0].address, "127.0.0.1:" + std::to_string(s.local_endpoint().port()));
    EXPECT_EQ(peers[0].local_ip, "127.0.0.1");
    EXPECT_FALSE(peers[0].local_socket);
    EXPECT_FALSE(peers[0].tls);
    EXPECT_FALSE(peers[0].uid.has_value());
}

TEST(StreamListener, AUnixSocketPeerIsKnownByItsUserAndTheFileIsOwnerOnly) {
    temp_dir dir;
    sockets::stream_options o;
    o.endpoint = "unix:" + dir.file("echo.sock");
    running_listener l(o);
    ASSERT_EQ(l.error(), "");
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("echo.sock").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    net::io_context client;
    unix_socket::socket s(client);
    s.connect(unix_socket::endpoint(dir.file("echo.sock")));
    EXPECT_EQ(round_trip(s, "hello over unix"), "hello over unix");
    const auto peers = l.server().peers();
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_TRUE(peers[0].local_socket);
    ASSERT_TRUE(peers[0].uid.has_value());
    EXPECT_EQ(*peers[0].uid, ::getuid());
    // A second server on the same live socket is refused, and the first keeps its file.
    net::io_context other;
    echo_server second(o);
    auto taken = sockets::stream_listener::create(other.get_executor(), o, second);
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, errc::invalid_state);
    EXPECT_NE(taken.error().message.find("already listening"), std::string::npos) << taken.error().message;
    EXPECT_EQ(round_trip(s, "still here"), "still here");
}

TEST(StreamListener, TlsConnectionsAreHandshakenBeforeTheProtocolSeesThem) {
    certificate cert("IP:127.0.0.1");
    ASSERT_EQ(cert.made().status, 0) << cert.made().err;
    auto o = tcp_options();
    o.tls_cert = cert.cert();
    o.tls_key = cert.key();
    running_listener l(o);
    ASSERT_EQ(l.error(), "");
    net::io_context client;
    net::ssl::context ctx(net::ssl::context::tls_client);
    ctx.load_verify_file(cert.cert());
    ctx.set_verify_mode(net::ssl::verify_peer);
    net::ssl::stream<tcp::socket> s(client, ctx);
    s.lowest_layer().connect({net::ip::make_address("127.0.0.1"), l.port()});
    s.handshake(net::ssl::stream_base::client);
    EXPECT_EQ(round_trip(s, "hello over tls"), "hello over tls");
    const auto peers = l.server().peers();
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_TRUE(peers[0].tls);
    // Plain bytes on the TLS port fail the handshake; the protocol never sees that connection.
    tcp::socket plain(client);
    plain.connect({net::ip::make_address("127.0.0.1"), l.port()});
    net::write(plain, net::buffer(std::string("GET / HTTP/1.1\r\n\r\n")));
    EXPECT_TRUE(closed_by_server(plain));
    EXPECT_EQ(l.server().peers().size(), 1u);
}

TEST(StreamListener, ConnectionsBeyondTheLimitAreClosedAndCounted) {
    auto o = tcp_options();
    o.max_connections = 2;
    running_listener l(o);
    ASSERT_EQ(l.error(), "");
    net::io_context client;
    const tcp::endpoint at{net::ip::make_address("127.0.0.1"), l.port()};
    tcp::socket a(client), b(client), c(client);
    a.connect(at);
    EXPECT_EQ(round_trip(a, "a"), "a");
    b.connect(at);
    EXPECT_EQ(round_trip(b, "b"), "b");
    c.connect(at);  // the kernel accepts; the listener closes it at once
    EXPECT_TRUE(closed_by_server(c));
    EXPECT_EQ(l.refused(), 1u);
    EXPECT_EQ(l.server().peers().size(), 2u);
    // The two still work; once one goes, a new one is served.
    EXPECT_EQ(round_trip(a, "a2"), "a2");
    b.close();
    tcp::socket d(client);
    for (int attempt = 0; attempt < 100; ++attempt) {  // until the server has seen b go
        d = tcp::socket(client);
        d.connect(at);
        if (round_trip(d, "d") == "d") {
            break;
        }
        ::usleep(20'000);
    }
    EXPECT_EQ(l.server().peers().size(), 3u);
}

TEST(StreamListener, AnIdleConnectionIsClosedAndABusyOneIsNot) {
    auto o = tcp_options();
    o.idle_timeout = std::chrono::seconds(1);
    running_listener l(o);
    ASSERT_EQ(l.error(), "");
    net::io_context client;
    const tcp::endpoint at{net::ip::make_address("127.0.0.1"), l.port()};
    tcp::socket busy(client), idle(client);
    busy.connect(at);
    idle.connect(at);
    // The busy one talks every 200 ms for 2 s, twice the idle timeout, and stays.
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(round_trip(busy, "tick"), "tick") << "round " << i;
        ::usleep(200'000);
    }
    EXPECT_TRUE(closed_by_server(idle));
    EXPECT_EQ(round_trip(busy, "still"), "still");
}

TEST(StreamListener, CloseConnectionsEndsEveryConnectionAndStopsAccepting) {
    temp_dir dir;
    sockets::stream_options o;
    o.endpoint = "unix:" + dir.file("echo.sock");
    running_listener l(o);
    ASSERT_EQ(l.error(), "");
    net::io_context client;
    unix_socket::socket s(client);
    s.connect(unix_socket::endpoint(dir.file("echo.sock")));
    EXPECT_EQ(round_trip(s, "x"), "x");
    EXPECT_EQ(l.port(), 0);
    l.stop();
    EXPECT_TRUE(closed_by_server(s));
    EXPECT_FALSE(std::filesystem::exists(dir.file("echo.sock")));  // the socket file goes with it
}

}  // namespace
}  // namespace corral::test
