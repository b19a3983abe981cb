// The HTTP listener's connection features that adapters build on, over real sockets with a handler of
// the test's own: long-polls that end when their client leaves, WebSocket text and binary messages,
// subprotocols, close codes with reasons, and server pings.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "corral/net/http_listener.hpp"
#include "helpers/http_client.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

using tcp = net::ip::tcp;
using namespace std::chrono_literals;

net::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    net::steady_timer t(co_await net::this_coro::executor, d);
    co_await t.async_wait(use_nothrow);
}

net::awaitable<void> fail_after(std::chrono::milliseconds d) {
    co_await sleep_for(d);
    throw std::runtime_error("the wait failed");
}

/// /poll waits a minute and /short a moment, each unless its client leaves; /ws echoes messages.
class test_routes final : public http::handler {
  public:
    net::awaitable<http::reply> handle(http::request& req, const http::peer& who) override {
        http::reply r;
        r.head = http::response(http::status::ok, 11);
        if (req.target() == "/poll" || req.target() == "/short") {
            const auto wait = req.target() == "/poll" ? std::chrono::milliseconds(60s) : 200ms;
            const bool stayed = co_await who.link->unless_gone(sleep_for(wait));
            record(stayed ? "stayed" : "gone");
            r.head.body() = stayed ? "done" : "";
        } else if (req.target() == "/failing") {
            try {
                const bool stayed = co_await who.link->unless_gone(fail_after(50ms));
                record(stayed ? "stayed" : "gone");
            } catch (const std::runtime_error&) {
                record("threw");
            }
            r.head.body() = "answered";
        } else if (req.target() == "/ws") {
            r.websocket_protocol = http::pick_subprotocol(req, {"echo.v2", "echo.v1"}).value_or("");
            r.websocket = [this](http::message_channel& channel) { return echo(channel); };
        }
        co_return r;
    }

    std::vector<std::string> events() const {
        std::lock_guard lock(mutex_);
        return events_;
    }
    /// Waits (up to 10 s) until `what` has been recorded `times` times.
    bool saw(const std::string& what, std::size_t times = 1) const {
        for (int i = 0; i < 500; ++i) {
            auto e = events();
            if (static_cast<std::size_t>(std::count(e.begin(), e.end(), what)) >= times) {
                return true;
            }
            std::this_thread::sleep_for(20ms);
        }
        return false;
    }

  private:
    net::awaitable<void> echo(http::message_channel& channel) {
        while (auto m = co_await channel.receive()) {
            if (m->data == "bye") {
                co_await channel.close(http::close_code::going_away, "bye to you");
                continue;  // until the client answers the close
            }
            if (!(co_await channel.send(m->data, m->binary))) {
                break;
            }
        }
        record("ws closed " + std::to_string(channel.closed_by_peer().first));
    }
    void record(std::string what) {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(what));
    }

    mutable std::mutex mutex_;
    std::vector<std::string> events_;
};

class HttpListener : public ::testing::Test {
  protected:
    void start(http::listener_options o = {}) {
        if (o.endpoint == http::listener_options{}.endpoint) {
            o.endpoint = "127.0.0.1:0";
        }
        auto made = http::listen_http(io_.get_executor(), o, routes_);
        ASSERT_TRUE(made) << made.error().what();
        listener_ = std::move(*made);
        net::post(io_, [this] { listener_->start(); });
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        if (!listener_) {
            return;
        }
        std::promise<void> done;
        net::co_spawn(io_, listener_->close_connections(), [&](std::exception_ptr) { done.set_value(); });
        done.get_future().wait();
        work_.reset();
        thread_.join();
    }
    address where() const { return {listener_->port(), {}, {}}; }
    tcp::socket connect() {
        tcp::socket s(client_);
        s.connect({net::ip::make_address("127.0.0.1"), listener_->port()});
        return s;
    }

    test_routes routes_;
    net::io_context io_;
    net::io_context client_;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{net::make_work_guard(io_)};
    std::unique_ptr<sockets::stream_listener> listener_;
    std::thread thread_;
};

TEST_F(HttpListener, ALongPollEndsAsSoonAsItsClientLeaves) {
    start();
    auto s = connect();
    net::write(s, net::buffer(std::string("GET /poll HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")));
    std::this_thread::sleep_for(100ms);  // the request reaches the handler, which waits a minute
    s.close();
    EXPECT_TRUE(routes_.saw("gone")) << "the handler still waits for a client that has left";
    EXPECT_EQ(routes_.events(), std::vector<std::string>{"gone"});
}

TEST_F(HttpListener, ALongPollWhoseClientStaysIsAnsweredAndPipelinedRequestsAreNotTakenForALeave) {
    start();
    // Two requests in one write: the second waits unread while the first is handled.
    const auto r = raw_exchange(where(),
                                "GET /short HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                                "GET /short HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                                5s);
    EXPECT_TRUE(routes_.saw("stayed", 2));
    const auto first = r.find("done");
    ASSERT_NE(first, std::string::npos) << r;
    EXPECT_NE(r.find("done", first + 4), std::string::npos) << r;
    const auto e = routes_.events();
    EXPECT_EQ(std::count(e.begin(), e.end(), "gone"), 0);
}

TEST_F(HttpListener, AWaitThatThrowsIsNotTakenForAClientThatLeft) {
    // Asio's `||` waits for the first success: a failing wait must come back as its exception at
    // once, not as "gone" once the client finally leaves.
    start();
    const auto r =
        raw_exchange(where(), "GET /failing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 5s);
    EXPECT_NE(r.find("answered"), std::string::npos) << r;
    EXPECT_TRUE(routes_.saw("threw"));
    const auto e = routes_.events();
    EXPECT_EQ(std::count(e.begin(), e.end(), "gone"), 0);
}

TEST_F(HttpListener, ALongPollOnAUnixSocketEndsWhenItsClientLeaves) {
    temp_dir dir;
    http::listener_options o;
    o.endpoint = "unix:" + dir.file("http.sock");
    start(o);
    net::local::stream_protocol::socket s(client_);
    s.connect(net::local::stream_protocol::endpoint(dir.file("http.sock")));
    net::write(s, net::buffer(std::string("GET /poll HTTP/1.1\r\nHost: localhost\r\n\r\n")));
    std::this_thread::sleep_for(100ms);
    s.close();
    EXPECT_TRUE(routes_.saw("gone"));
}

TEST_F(HttpListener, AWebSocketCarriesTextAndBinaryMessagesAndAgreesToAnOfferedSubprotocol) {
    start();
    ws_client ws(where(), "/ws", {{"Sec-WebSocket-Protocol", "other, echo.v1"}});
    EXPECT_EQ(ws.subprotocol(), "echo.v1");
    ws.send("text message");
    EXPECT_EQ(ws.receive(), "text message");
    EXPECT_FALSE(ws.last_was_binary());
    const std::string bytes("\x00\x01\xff\xfe binary", 11);
    ws.send_binary(bytes);
    EXPECT_EQ(ws.receive(), bytes);
    EXPECT_TRUE(ws.last_was_binary());
    ws.close();
    EXPECT_TRUE(routes_.saw("ws closed 1000"));

    ws_client plain(where(), "/ws");
    EXPECT_EQ(plain.subprotocol(), "") << "none was offered";
    ws_client preferred(where(), "/ws", {{"Sec-WebSocket-Protocol", "echo.v1, echo.v2"}});
    EXPECT_EQ(preferred.subprotocol(), "echo.v2") << "the server's preference wins";
}

TEST_F(HttpListener, AWebSocketClosesWithTheCodeAndReasonItsAdapterGives) {
    start();
    ws_client ws(where(), "/ws");
    ws.send("bye");
    EXPECT_EQ(ws.receive(), std::nullopt);
    EXPECT_EQ(ws.close_code(), 1001);
    EXPECT_EQ(ws.close_reason(), "bye to you");
}

TEST_F(HttpListener, AQuietWebSocketIsPinged) {
    http::listener_options o;
    o.websocket_ping = 1s;
    start(o);
    ws_client ws(where(), "/ws");
    EXPECT_EQ(ws.receive(3s), std::nullopt);  // no message, but the server's pings are answered
    EXPECT_GE(ws.pings(), 1);
}

TEST(Subprotocols, TheServersFirstChoiceThatTheClientOffersIsPicked) {
    http::request req;
    req.set(boost::beast::http::field::sec_websocket_protocol, "wamp.2.cbor ,wamp.2.json");
    EXPECT_EQ(http::pick_subprotocol(req, {"wamp.2.json", "wamp.2.cbor"}), "wamp.2.json");
    EXPECT_EQ(http::pick_subprotocol(req, {"wamp.2.msgpack", "wamp.2.cbor"}), "wamp.2.cbor");
    EXPECT_EQ(http::pick_subprotocol(req, {"mqtt"}), std::nullopt);
    http::request none;
    EXPECT_EQ(http::pick_subprotocol(none, {"wamp.2.json"}), std::nullopt);
}

}  // namespace
}  // namespace corral::test
