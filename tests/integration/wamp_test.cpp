// The built-in WAMP router over RawSocket (JSON), byte for byte: the handshake's answers, the opening
// (HELLO, CHALLENGE, AUTHENTICATE, WELCOME or ABORT), and what a malformed message gets. The happy
// paths with a third-party client are in tests/interop/test_wamp.py (python3-autobahn).
#include <array>
#include <chrono>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "corral/proto/asexor_frame.hpp"
#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/loopback_client.hpp"

namespace corral::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

/// A RawSocket client speaking JSON: the handshake's 4 bytes, then framed messages.
class rawsocket {
  public:
    explicit rawsocket(unsigned short port) : socket_(port) {}
    /// Sends the handshake; returns the server's 4 bytes ("" when it closed).
    std::string handshake(std::array<char, 4> hello) {
        EXPECT_TRUE(socket_.write({hello.data(), hello.size()}));
        std::string answer;
        while (answer.size() < 4) {
            auto more = socket_.read_some();
            if (more.empty()) {
                break;
            }
            answer += more;
        }
        if (answer.size() > 4) {
            frames_.feed(answer.substr(4));
            answer.resize(4);
        }
        return answer;
    }
    void send(const json::value& m) {
        EXPECT_TRUE(socket_.write(proto::asexor::encode_frame(proto::asexor::frame_type::data, json::serialize(m))));
    }
    /// The next message; null when the server closed or was quiet for 10 s.
    json::value receive() {
        for (;;) {
            if (auto f = frames_.next()) {
                return json::parse(f->payload);
            }
            auto more = socket_.read_some();
            if (more.empty()) {
                return nullptr;
            }
            frames_.feed(more);
        }
    }
    bool closed_by_server() {
        while (!receive().is_null()) {
        }
        return socket_.closed();
    }

  private:
    loopback_client socket_;
    proto::asexor::frame_decoder frames_;
};

constexpr std::array<char, 4> json_hello{'\x7f', '\xf1', 0, 0};  // 16 MiB, JSON

class Wamp : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(daemon_.ready()) << daemon_.log(); }
    void TearDown() override {
        if (HasFailure()) {
            std::cerr << daemon_.log();
        }
    }
    /// A session joined with the admin token as its ticket.
    std::unique_ptr<rawsocket> joined() {
        auto c = std::make_unique<rawsocket>(daemon_.port_of("wamp-raw"));
        EXPECT_EQ(c->handshake(json_hello), std::string("\x7f\x31\x00\x00", 4)) << "JSON, 4 KiB";
        c->send(json::parse(R"([1, "realm1", {"authmethods": ["ticket"]}])"));
        EXPECT_EQ(c->receive(), json::parse(R"([4, "ticket", {}])"));
        c->send(json::array{5, json::string(daemon_.admin_token()), json::object{}});
        auto welcome = c->receive();
        EXPECT_EQ(welcome.as_array()[0], 2) << json::serialize(welcome);
        EXPECT_EQ(welcome.as_array()[2].at("authrole"), "admin");
        return c;
    }

    daemon_process daemon_{daemon_process::default_config(R"(
[wamp]
[[wamp.rawsocket]]
label = "wamp-raw"
listen = "127.0.0.1:0"
max_message = "4KiB"
[[wamp.websocket]]
label = "wamp-ws"
listen = "127.0.0.1:0"
cors_origins = ["http://localhost:8484"]
)")};
};

TEST_F(Wamp, TheRawSocketHandshakeAnswersWithItsLimitOrAnError) {
    rawsocket c(daemon_.port_of("wamp-raw"));
    // The same serializer back, and 4 KiB as a length exponent: 2^(9+3).
    EXPECT_EQ(c.handshake(json_hello), std::string("\x7f\x31\x00\x00", 4));
    rawsocket msgpack(daemon_.port_of("wamp-raw"));
    EXPECT_EQ(msgpack.handshake({'\x7f', '\xf2', 0, 0}), std::string("\x7f\x10\x00\x00", 4)) << "serializer unsupported";
    EXPECT_TRUE(msgpack.closed_by_server());
    rawsocket reserved(daemon_.port_of("wamp-raw"));
    EXPECT_EQ(reserved.handshake({'\x7f', '\xf1', 1, 0}), std::string("\x7f\x30\x00\x00", 4)) << "reserved bits used";
}

TEST_F(Wamp, WithoutATicketOrWithABadOneTheSessionIsAborted) {
    rawsocket anonymous(daemon_.port_of("wamp-raw"));
    anonymous.handshake(json_hello);
    anonymous.send(json::parse(R"([1, "realm1", {}])"));
    auto abort = anonymous.receive();
    EXPECT_EQ(abort.as_array()[0], 3);
    EXPECT_EQ(abort.as_array()[2], "wamp.error.not_authorized");
    EXPECT_TRUE(anonymous.closed_by_server());

    rawsocket wrong(daemon_.port_of("wamp-raw"));
    wrong.handshake(json_hello);
    wrong.send(json::parse(R"([1, "realm1", {"authmethods": ["ticket"], "authid": "admin"}])"));
    EXPECT_EQ(wrong.receive().as_array()[0], 4);
    wrong.send(json::parse(R"([5, "not a token", {}])"));
    EXPECT_EQ(wrong.receive().as_array()[2], "wamp.error.authentication_failed");

    rawsocket realm(daemon_.port_of("wamp-raw"));
    realm.handshake(json_hello);
    realm.send(json::parse(R"([1, "elsewhere", {}])"));
    EXPECT_EQ(realm.receive().as_array()[2], "wamp.error.no_such_realm");
}

TEST_F(Wamp, AMalformedMessageIsAbortedSayingWhatWasWrong) {
    auto c = joined();
    c->send(json::parse(R"([32, "one", {}, "a.topic"])"));
    auto abort = c->receive();
    ASSERT_EQ(abort.as_array()[0], 3) << json::serialize(abort);
    EXPECT_EQ(abort.as_array()[2], "wamp.error.protocol_violation");
    EXPECT_NE(std::string(abort.as_array()[1].at("message").as_string()).find("item 1 must be an id"), std::string::npos);
    EXPECT_TRUE(c->closed_by_server());
    EXPECT_TRUE(daemon_.wait_for_log("protocol violation"));
    auto d = joined();
    d->send(json::parse(R"([16, 1, {}, "bad uri#"])"));
    EXPECT_EQ(d->receive().as_array()[2], "wamp.error.protocol_violation");
}

TEST_F(Wamp, RoutedMessagesAndGoodbye) {
    auto c = joined();
    c->send(json::parse(R"([32, 1, {}, "a.topic"])"));
    const auto subscribed = c->receive();
    EXPECT_EQ(subscribed.as_array()[0], 33);
    c->send(json::parse(R"([16, 2, {"acknowledge": true, "exclude_me": false}, "a.topic", ["hi"], {"x": 1}])"));
    const auto event = c->receive();
    ASSERT_EQ(event.as_array()[0], 36) << json::serialize(event);
    EXPECT_EQ(event.as_array()[1], subscribed.as_array()[2]);
    EXPECT_EQ(event.as_array()[4], json::parse(R"(["hi"])"));
    EXPECT_EQ(event.as_array()[5], json::parse(R"({"x": 1})"));
    EXPECT_EQ(c->receive().as_array()[0], 17) << "PUBLISHED";
    c->send(json::parse(R"([64, 3, {}, "eu.zderadicka.asexor.run_task"])"));
    EXPECT_EQ(c->receive(), json::parse(R"([8, 64, 3, {}, "wamp.error.not_authorized"])"));
    c->send(json::parse(R"([48, 4, {}, "nobody.here", []])"));
    EXPECT_EQ(c->receive(), json::parse(R"([8, 48, 4, {}, "wamp.error.no_such_procedure"])"));
    c->send(json::parse(R"([48, 5, {}, "eu.zderadicka.asexor.run_task", ["nope"]])"));
    EXPECT_EQ(c->receive(), json::parse(R"([8, 48, 5, {}, "wamp.error.runtime_error", ["No task with name nope"]])"));
    c->send(json::parse(R"([6, {}, "wamp.close.close_realm"])"));
    EXPECT_EQ(c->receive(), json::parse(R"([6, {}, "wamp.close.goodbye_and_out"])"));
    EXPECT_TRUE(c->closed_by_server());
}

TEST_F(Wamp, TheWebSocketNeedsAWampSubprotocol) {
    const address where{daemon_.port_of("wamp-ws"), {}, {}};
    const std::map<std::string, std::string> upgrade{{"Connection", "Upgrade"},
                                                     {"Upgrade", "websocket"},
                                                     {"Sec-WebSocket-Version", "13"},
                                                     {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
    EXPECT_EQ(http(where, "GET", "/ws", {}, upgrade).status, 400u);
    auto with = upgrade;
    with["Sec-WebSocket-Protocol"] = "wamp.2.msgpack, wamp.2.json";
    const auto accepted = http(where, "GET", "/ws", {}, with);
    EXPECT_EQ(accepted.status, 101u);
    EXPECT_EQ(accepted.headers.at("sec-websocket-protocol"), "wamp.2.json");
    // A page of a configured origin may connect (ASEXOR's, on 8484); another origin's may not.
    with["Origin"] = "http://localhost:8484";
    EXPECT_EQ(http(where, "GET", "/ws", {}, with).status, 101u);
    with["Origin"] = "http://evil.example";
    EXPECT_EQ(http(where, "GET", "/ws", {}, with).status, 403u);
}

}  // namespace
}  // namespace corral::test
