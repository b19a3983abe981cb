// ASEXOR's WebSocket, raw socket and long-poll against a real corrald over loopback, byte for byte as
// research/seeds-inventory.md §4.2-§4.3 describes them.
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "corral/auth/authority.hpp"
#include "corral/proto/asexor_frame.hpp"
#include "corral/proto/asexor_long_poll.hpp"
#include "corral/proto/asexor_message.hpp"
#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/loopback_client.hpp"

namespace corral::test {
namespace {

namespace json = boost::json;
namespace asexor = proto::asexor;
using namespace std::chrono_literals;

/// ASEXOR's demo users: the token is the user name.
std::string write_tokens() {
    auto dir = std::filesystem::temp_directory_path() / ("corral-asexor-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "tokens").string();
    std::ofstream out(path);
    for (const auto* user : {"anonymous", "user", "admin", "pepa"}) {
        const std::string role = std::string(user) == "pepa" ? "user" : user;
        out << user << ":" << role << ":" << auth::hash_token(user) << "\n";
    }
    return path;
}

std::string asexor_config(const std::string& tokens, const std::string& extra = {}) {
    return daemon_process::default_config(R"(
[jobs]
concurrency = 2
[auth]
tokens_file = ")" + tokens + R"("
[auth.roles.anonymous]
priority = 5
tasks = []
[auth.roles.user]
priority = 4
tasks = ["*"]
[auth.roles.admin]
admin = true
[[task]]
name = "date"
command = ["date", "{utc}", "{format}"]
result = "text"
[[task.args]]
name = "format"
prefix = "+"
default = "%d-%m-%Y %H:%M %Z"
[[task.args]]
name = "utc"
type = "bool"
style = "switch"
flag = "-u"
default = false
[[task]]
name = "sleep"
command = ["sleep"]
[[task.args]]
name = "seconds"
type = "float"
required = true
[[task]]
name = "fail"
command = ["false"]
[[task]]
name = "multi"
steps = [{ task = "date", args = { format = "%Y" } }, { task = "fail" }]
on_failure = "continue"
)" + extra);
}

const std::string listeners = R"(
[asexor]
inactive_timeout = "600s"
[[asexor.raw]]
label = "raw"
listen = "127.0.0.1:0"
[[asexor.raw]]
label = "raw-unix"
listen = "unix:@STATE@/asexor.sock"
[[asexor.raw]]
label = "raw-delegated"
listen = "127.0.0.1:0"
delegated = true
[[asexor.raw]]
label = "raw-quiet"
listen = "127.0.0.1:0"
no_update = true
max_frame = "1KiB"
[[asexor.long_poll]]
label = "poll"
listen = "127.0.0.1:0"
poll_timeout = "2s"
cors_origins = ["http://localhost:8484"]
)";

json::value parse(const std::optional<std::string>& text) {
    return text ? json::parse(*text) : json::value();
}

/// A blocking client of ASEXOR's raw socket: frames out, frames in.
class raw_client {
  public:
    explicit raw_client(unsigned short port) : socket_(port) {}
    explicit raw_client(const std::string& unix_path) : socket_(unix_path) {}
    void send_bytes(const std::string& bytes) { ASSERT_TRUE(socket_.write(bytes)); }
    void send(asexor::frame_type type, const std::string& payload) { send_bytes(asexor::encode_frame(type, payload)); }
    void call(const json::value& message) { send(asexor::frame_type::data, asexor::to_cbor(message)); }
    /// The next frame; nullopt when the server closed or nothing came within `limit`.
    std::optional<asexor::frame> next(std::chrono::milliseconds limit = 10s) {
        for (;;) {
            if (auto f = frames_.next()) {
                return f;
            }
            auto more = socket_.read_some(limit);
            if (more.empty()) {
                return std::nullopt;
            }
            frames_.feed(more);
        }
    }
    json::value message(std::chrono::milliseconds limit = 10s) {
        auto f = next(limit);
        if (!f) {
            return nullptr;
        }
        EXPECT_EQ(f->type, asexor::frame_type::data);
        auto v = asexor::from_cbor(f->payload);
        return v ? *v : json::value("not CBOR");
    }
    /// Sends the token; returns the handshake's answer byte (-1 when the server closed first).
    int handshake(const std::string& token) {
        send(asexor::frame_type::data, token);
        auto f = next();
        return f && f->payload.size() == 1 ? static_cast<unsigned char>(f->payload[0]) : -1;
    }
    bool closed_by_server(std::chrono::milliseconds limit = 10s) {
        while (!socket_.closed() && next(limit)) {
        }
        return socket_.closed();
    }

  private:
    loopback_client socket_;
    asexor::frame_decoder frames_;
};

class Asexor : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(daemon_.ready()) << daemon_.log(); }
    void TearDown() override {
        if (HasFailure()) {
            std::cerr << daemon_.log();
        }
    }
    address plain() const { return {daemon_.port(), {}, {}}; }
    std::unique_ptr<ws_client> ws(const std::string& token, const std::string& session = {}) {
        return std::make_unique<ws_client>(
            plain(), "/ws?token=" + token + (session.empty() ? "" : "&session_id=" + session));
    }
    /// The reply, then every update of that call until its last; the messages in order.
    static std::vector<json::value> until_done(ws_client& c) {
        std::vector<json::value> got;
        while (auto text = c.receive(20s)) {
            got.push_back(json::parse(*text));
            const auto& m = got.back().as_array();
            if (m[0] == "e" || (m[0] == "m" && (m[2].at("status") == "success" || m[2].at("status") == "error"))) {
                break;
            }
        }
        return got;
    }

    std::string tokens_ = write_tokens();
    daemon_process daemon_{asexor_config(tokens_, listeners)};
};

// --- WebSocket ---

TEST_F(Asexor, WebSocketWithoutAValidTokenIs401) {
    const std::map<std::string, std::string> upgrade{{"Connection", "Upgrade"},
                                                     {"Upgrade", "websocket"},
                                                     {"Sec-WebSocket-Version", "13"},
                                                     {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
    EXPECT_EQ(http(plain(), "GET", "/ws", {}, upgrade).status, 401u);
    EXPECT_EQ(http(plain(), "GET", "/ws?token=nobody", {}, upgrade).status, 401u);
    EXPECT_NO_THROW(ws("user"));
}

TEST_F(Asexor, ACallIsRepliedToBeforeItsUpdatesWhichEndInItsResult) {
    auto c = ws("user");
    c->send(R"([1, "date", {"args": ["%Y %Z"], "kwargs": {"utc": true}}])");
    auto got = until_done(*c);
    ASSERT_EQ(got.size(), 3u) << json::serialize(json::value_from(got));
    const auto& reply = got[0].as_array();
    ASSERT_EQ(reply[0], "r");
    EXPECT_EQ(reply[1], 1);
    const auto task_id = reply[2];
    EXPECT_EQ(got[1].as_array()[0], "m");
    EXPECT_EQ(got[1].as_array()[1], 1);
    EXPECT_EQ(got[1].as_array()[2].at("status"), "started");
    EXPECT_EQ(got[1].as_array()[2].at("task_id"), task_id);
    const auto& done = got[2].as_array()[2].as_object();
    EXPECT_EQ(done.at("status"), "success");
    EXPECT_EQ(done.at("task_id"), task_id);
    EXPECT_TRUE(std::string_view(done.at("result").as_string()).ends_with(" UTC")) << json::serialize(done);
    EXPECT_GE(done.at("duration").as_double(), 0.0);
}

TEST_F(Asexor, ManyCallsOnOneConnectionEachGetTheirOwnCallId) {
    auto c = ws("user");
    for (int i = 1; i <= 20; ++i) {
        c->send(fmt::format(R"([{}, "sleep", {{"args": [0.01]}}])", i));
    }
    std::map<std::int64_t, std::vector<std::string>> seen;  // call id: what it got, in order
    std::size_t finished = 0;
    while (finished < 20) {
        auto text = c->receive(30s);
        ASSERT_TRUE(text) << finished << " calls finished";
        const auto m = json::parse(*text).as_array();
        const auto id = m[1].as_int64();
        seen[id].push_back(m[0] == "r" ? "r" : std::string(m[2].at("status").as_string()));
        finished += seen[id].back() == "success";
    }
    ASSERT_EQ(seen.size(), 20u);
    for (const auto& [id, order] : seen) {
        EXPECT_EQ(order, (std::vector<std::string>{"r", "started", "success"})) << "call " << id;
    }
}

TEST_F(Asexor, RefusalsAndBadCallsGetErrorMessagesInAsexorsWords) {
    auto c = ws("user");
    auto anon = ws("anonymous");
    auto expect_error = [](ws_client& on, const std::string& call, const json::value& id, std::string_view text) {
        on.send(call);
        const auto m = parse(on.receive());
        ASSERT_TRUE(m.is_array()) << call;
        const auto& e = m.as_array();
        ASSERT_EQ(e.size(), 4u) << json::serialize(m);
        EXPECT_EQ(e[0], "e");
        EXPECT_EQ(e[1], id);
        EXPECT_TRUE(std::string_view(e[2].as_string()).starts_with(text)) << json::serialize(m);
        EXPECT_TRUE(e[3].is_null()) << "never a stack trace";
    };
    expect_error(*c, R"([3])", 3, "not enough values to unpack (expected 3, got 1)");
    expect_error(*c, R"([4, "nope", {}])", 4, "No task with name nope");
    expect_error(*c, R"([5, "sleep", {"args": "1"}])", 5, "Invalid message");
    expect_error(*c, R"([6, "sleep", {"args": ["a"]}])", 6, "task 'sleep': seconds");
    expect_error(*c, R"([7, "sleep", {"args": [1, 2]}])", 7, "");
    expect_error(*anon, R"([8, "date", {}])", 8, "Not authorised to run date");
}

TEST_F(Asexor, AFailingTaskEndsInAnErrorUpdate) {
    auto c = ws("user");
    c->send(R"([1, "fail", {}])");
    auto got = until_done(*c);
    ASSERT_EQ(got.size(), 3u);
    const auto& end = got[2].as_array()[2].as_object();
    EXPECT_EQ(end.at("status"), "error");
    EXPECT_EQ(end.at("error"), "exited with code 1");
    EXPECT_TRUE(end.contains("duration"));
}

TEST_F(Asexor, AMultiStepTaskReportsProgressThenItsStepsResults) {
    auto c = ws("user");
    c->send(R"([1, "multi", {}])");
    auto got = until_done(*c);
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got[1].as_array()[2].at("status"), "started");
    EXPECT_EQ(got[2].as_array()[2].at("progress"), 0.5);
    EXPECT_EQ(got[3].as_array()[2].at("progress"), 1.0);
    const auto& done = got[4].as_array()[2].as_object();
    EXPECT_EQ(done.at("status"), "success") << "a failed step is recorded as null, as ASEXOR does";
    const auto& results = done.at("result").at("results").as_array();
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].as_string().size(), 4u);
    EXPECT_TRUE(results[1].is_null());
}

TEST_F(Asexor, WhatIsNotAJsonCallClosesTheConnectionWithAReason) {
    auto c = ws("user");
    c->send("not json");
    EXPECT_FALSE(c->receive());
    EXPECT_EQ(c->close_code(), 1007);
    EXPECT_NE(c->close_reason().find("not JSON"), std::string::npos) << c->close_reason();

    auto d = ws("user");
    d->send(R"({"no": "call id"})");
    EXPECT_FALSE(d->receive());
    EXPECT_EQ(d->close_code(), 1008);
    EXPECT_NE(d->close_reason().find("not enough values"), std::string::npos) << d->close_reason();
    EXPECT_TRUE(daemon_.wait_for_log("closing: Invalid message")) << "the close is logged";
}

TEST_F(Asexor, ASessionsUpdatesWaitForItToReconnectAndAreReplayed) {
    std::vector<std::string> statuses;
    {
        auto c = ws("user", "s1");
        c->send(R"([41, "sleep", {"args": [0.5]}])");
        ASSERT_EQ(parse(c->receive()).as_array()[0], "r");
        if (auto started = c->receive(200ms)) {  // sent at once, unless the job was slow to start
            statuses.emplace_back(json::parse(*started).as_array()[2].at("status").as_string());
        }
    }  // gone before the task ends
    std::this_thread::sleep_for(1s);
    auto again = ws("user", "s1");
    while (statuses.empty() || statuses.back() != "success") {
        const auto m = parse(again->receive());
        ASSERT_TRUE(m.is_array()) << "replayed updates";
        EXPECT_EQ(m.as_array()[1], 41) << "with the call id of the call that started the task";
        statuses.emplace_back(m.as_array()[2].at("status").as_string());
    }
    EXPECT_EQ(statuses, (std::vector<std::string>{"started", "success"})) << "each update once";
    // Another user's session of the same name is another session.
    auto other = ws("pepa", "s1");
    EXPECT_FALSE(other->receive(500ms));
}

TEST_F(Asexor, ASecondConnectionOfASessionReplacesTheFirst) {
    auto first = ws("user", "twice");
    auto second = ws("user", "twice");
    EXPECT_FALSE(first->receive());
    EXPECT_EQ(first->close_code(), 1000);
    EXPECT_EQ(first->close_reason(), "Closing session twice replaced or timeout");
    second->send(R"([1, "sleep", {"args": [0]}])");
    EXPECT_EQ(until_done(*second).size(), 3u) << "the new connection has the session";
}

TEST_F(Asexor, AStoppingDaemonClosesSessionsWith1012) {
    auto c = ws("user");
    daemon_.signal(SIGTERM);
    EXPECT_FALSE(c->receive(20s));
    EXPECT_EQ(c->close_code(), 1012);
    EXPECT_EQ(c->close_reason(), "Server shutdown");
    EXPECT_EQ(daemon_.wait_exit(), 0);
}

// --- raw socket ---

TEST_F(Asexor, RawSocketHandshakeThenCborCallsRepliesAndUpdates) {
    raw_client c(daemon_.port_of("raw"));
    ASSERT_EQ(c.handshake("user"), 0);
    c.call(json::parse(R"([1, "date", {"args": ["%Y"], "kwargs": {"utc": true}}])"));
    const auto reply = c.message();
    ASSERT_TRUE(reply.is_array()) << json::serialize(reply);
    EXPECT_EQ(reply.as_array()[0], "r");
    EXPECT_EQ(reply.as_array()[1], 1);
    EXPECT_EQ(c.message().as_array()[2].at("status"), "started");
    const auto done = c.message();
    EXPECT_EQ(done.as_array()[2].at("status"), "success") << json::serialize(done);
    EXPECT_EQ(done.as_array()[2].at("task_id"), reply.as_array()[2]);
    c.call(json::parse(R"([2, "nope", {}])"));
    EXPECT_EQ(c.message(), json::parse(R"(["e", 2, "No task with name nope", null])"));
}

TEST_F(Asexor, OnAUnixSocketAnEmptyTokenStandsForThePeersOwnUser) {
    raw_client c(daemon_.state_dir() + "/asexor.sock");
    ASSERT_EQ(c.handshake(""), 0) << "the peer's uid, with auth.local_role";
    c.call(json::parse(R"([1, "sleep", {"args": [0]}])"));
    const auto reply = c.message();
    ASSERT_EQ(reply.as_array()[0], "r") << json::serialize(reply);
    const auto job = http(daemon_.web(), "GET", "/api/v1/jobs/" + std::to_string(reply.as_array()[2].to_number<std::int64_t>())).json();
    EXPECT_EQ(job.at("owner"), ::getpwuid(::getuid())->pw_name);
    raw_client token(daemon_.state_dir() + "/asexor.sock");
    EXPECT_EQ(token.handshake("user"), 0) << "a token works there too";
}

TEST_F(Asexor, RawSocketRefusesABadTokenWithOneAndCloses) {
    for (const auto* token : {"nobody", ""}) {
        raw_client c(daemon_.port_of("raw"));
        EXPECT_EQ(c.handshake(token), 1) << "token '" << token << "'";
        EXPECT_TRUE(c.closed_by_server());
    }
    raw_client user(daemon_.port_of("raw-delegated"));
    EXPECT_EQ(user.handshake("user"), 1) << "a delegated listener takes only an admin's token";
    EXPECT_TRUE(daemon_.wait_for_log("may not submit for other users"));
}

TEST_F(Asexor, RawSocketAnswersAPingWithItsPayload) {
    raw_client c(daemon_.port_of("raw"));
    ASSERT_EQ(c.handshake("user"), 0);
    c.send(asexor::frame_type::ping, "hello");
    auto pong = c.next();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->type, asexor::frame_type::pong);
    EXPECT_EQ(pong->payload, "hello");
}

TEST_F(Asexor, RawSocketClosesOnABadFrameSayingWhy) {
    {
        raw_client c(daemon_.port_of("raw-quiet"));  // max_frame = 1KiB
        ASSERT_EQ(c.handshake("user"), 0);
        c.send(asexor::frame_type::data, std::string(2000, 'x'));
        EXPECT_TRUE(c.closed_by_server());
        EXPECT_TRUE(daemon_.wait_for_log("too big"));
    }
    {
        raw_client c(daemon_.port_of("raw"));
        ASSERT_EQ(c.handshake("user"), 0);
        c.send_bytes(std::string("\x05\x00\x00\x01x", 5));  // frame type 5
        EXPECT_TRUE(c.closed_by_server());
    }
    {
        raw_client c(daemon_.port_of("raw"));
        ASSERT_EQ(c.handshake("user"), 0);
        c.send(asexor::frame_type::data, "\xff\xff not cbor");
        EXPECT_TRUE(c.closed_by_server());
        EXPECT_TRUE(daemon_.wait_for_log("closing: Invalid message"));
    }
    raw_client still(daemon_.port_of("raw"));
    EXPECT_EQ(still.handshake("user"), 0) << "other clients are served on";
}

TEST_F(Asexor, RawDelegatedCallsRunAsTheUserTheyName) {
    raw_client c(daemon_.port_of("raw-delegated"));
    ASSERT_EQ(c.handshake("admin"), 0);
    c.call(json::parse(R"([1, "sleep", {"args": [0], "user": "pepa", "role": "user"}])"));
    const auto reply = c.message();
    ASSERT_EQ(reply.as_array()[0], "r") << json::serialize(reply);
    const auto id = reply.as_array()[2].to_number<std::int64_t>();
    EXPECT_EQ(c.message().as_array()[2].at("status"), "started");
    EXPECT_EQ(c.message().as_array()[2].at("status"), "success");
    const auto job = http(daemon_.web(), "GET", "/api/v1/jobs/" + std::to_string(id)).json();
    EXPECT_EQ(job.at("owner"), "pepa");
    EXPECT_EQ(job.at("priority"), 4) << "the role's priority";
    c.call(json::parse(R"([2, "sleep", {"args": [0], "user": "pepa", "role": "anonymous"}])"));
    EXPECT_EQ(c.message(), json::parse(R"(["e", 2, "Not authorised to run sleep", null])"));
    c.call(json::parse(R"([3, "sleep", {"args": [0], "user": "pepa", "role": "wizard"}])"));
    EXPECT_EQ(c.message().as_array()[2], "Unknown role wizard");
}

TEST_F(Asexor, RawNoUpdateListenerSendsOnlyReplies) {
    raw_client c(daemon_.port_of("raw-quiet"));
    ASSERT_EQ(c.handshake("user"), 0);
    c.call(json::parse(R"([1, "sleep", {"args": [0]}])"));
    EXPECT_EQ(c.message().as_array()[0], "r");
    EXPECT_TRUE(c.message(1500ms).is_null()) << "no updates";
}

// --- long-poll ---

struct poll_session {
    address where;
    std::string cookie;
    http_reply request(const std::string& method, const std::string& body = {}, bool bearer = false) {
        std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
        if (!cookie.empty()) {
            headers["Cookie"] = std::string(asexor::session_cookie) + "=" + cookie;
        }
        if (bearer) {
            headers["Authorization"] = "Bearer " + where.token;
        }
        address bare{where.port, {}, {}};
        auto r = http(bare, method, "/", body, headers);
        if (auto it = r.headers.find("set-cookie"); it != r.headers.end()) {
            cookie = std::string(asexor::cookie_value(it->second.substr(0, it->second.find(';')),
                                                      asexor::session_cookie));
        }
        return r;
    }
};

TEST_F(Asexor, LongPollNeedsACookieOrABearerToken) {
    poll_session s{{daemon_.port_of("poll"), {}, "user"}};
    EXPECT_EQ(s.request("POST", R"([1, "sleep", {"args": [0]}])").status, 401u);
    EXPECT_EQ(s.request("GET").status, 401u);
    s.where.token = "nobody";
    EXPECT_EQ(s.request("GET", {}, true).status, 401u);
    s.cookie = std::string(40, 'a');
    EXPECT_EQ(s.request("GET").status, 401u) << "an unknown session";
    EXPECT_EQ(http({daemon_.port_of("poll"), {}, "user"}, "GET", "/pakaren").status, 404u);
}

TEST_F(Asexor, LongPollPostsCallsAndPollsTheirUpdates) {
    poll_session s{{daemon_.port_of("poll"), {}, "user"}};
    const auto first = s.request("GET", {}, true);
    ASSERT_EQ(first.status, 200u);
    EXPECT_EQ(first.body, "[]") << "a GET with credentials returns at once";
    ASSERT_EQ(s.cookie.size(), 40u);
    EXPECT_NE(first.headers.at("set-cookie").find("Max-Age=86400"), std::string::npos);
    const auto reply = s.request("POST", R"([7, "sleep", {"args": [0.2]}])");
    ASSERT_EQ(reply.status, 200u) << reply.body;
    EXPECT_EQ(reply.json().as_array()[0], "r");
    EXPECT_EQ(reply.json().as_array()[1], 7);
    std::vector<std::string> statuses;
    const auto started = std::chrono::steady_clock::now();
    while (statuses.size() < 2 && std::chrono::steady_clock::now() - started < 10s) {
        auto r = s.request("GET");
        ASSERT_EQ(r.status, 200u);
        const auto body = r.json();
        for (const auto& m : body.as_array()) {
            EXPECT_EQ(m.as_array()[1], 7);
            statuses.emplace_back(m.as_array()[2].at("status").as_string());
        }
    }
    EXPECT_EQ(statuses, (std::vector<std::string>{"started", "success"}));
    EXPECT_EQ(s.request("POST", "{}").body, R"js(["e",0,"not enough values to unpack (expected 3, got 0)",null])js");
    EXPECT_EQ(s.request("POST", "[123]").body, R"js(["e",123,"not enough values to unpack (expected 3, got 1)",null])js");
    EXPECT_EQ(s.request("POST", "nope").status, 400u);
}

TEST_F(Asexor, AnEmptyPollEndsAfterThePollTimeout) {
    poll_session s{{daemon_.port_of("poll"), {}, "user"}};
    ASSERT_EQ(s.request("GET", {}, true).status, 200u);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = s.request("GET");
    EXPECT_EQ(r.body, "[]");
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1500ms) << "poll_timeout is 2s";
}

TEST_F(Asexor, AGetWithCredentialsReleasesAPendingPoll) {
    poll_session s{{daemon_.port_of("poll"), {}, "user"}};
    ASSERT_EQ(s.request("GET", {}, true).status, 200u);
    std::chrono::steady_clock::duration waited{};
    std::thread poller([&, copy = s]() mutable {
        const auto t0 = std::chrono::steady_clock::now();
        copy.request("GET");
        waited = std::chrono::steady_clock::now() - t0;
    });
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(s.request("GET", {}, true).body, "[]");
    poller.join();
    EXPECT_LT(waited, 1500ms) << "released before its 2 s timeout";
}

TEST_F(Asexor, LongPollAllowsCredentialsFromConfiguredOriginsOnly) {
    const address bare{daemon_.port_of("poll"), {}, {}};
    auto preflight = http(bare, "OPTIONS", "/", {}, {{"Origin", "http://localhost:8484"},
                                                           {"Access-Control-Request-Method", "POST"}});
    EXPECT_EQ(preflight.headers["access-control-allow-origin"], "http://localhost:8484");
    EXPECT_EQ(preflight.headers["access-control-allow-credentials"], "true");
    const auto foreign = http(bare, "GET", "/", {}, {{"Origin", "http://evil.example"}, {"Authorization", "Bearer user"}});
    EXPECT_EQ(foreign.status, 403u);
}

}  // namespace
}  // namespace corral::test
