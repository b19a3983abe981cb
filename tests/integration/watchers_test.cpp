// Many watchers on one job over WebSocket and SSE: identical bytes, resume by cursor, slow watchers.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

namespace json = boost::json;

/// What one watcher collected from a job: its output bytes in order, and how it ended.
struct collected {
    std::string bytes;
    std::uint64_t next = 0;
    bool eof = false;
    bool finished = false;
    bool gap = false;  // an output message did not start where the previous one ended
};

/// Reads messages for `job` until eof + finished, or the connection ends, or `stop_after` bytes.
collected collect(ws_client& ws, std::int64_t job, std::uint64_t from, std::size_t stop_after = SIZE_MAX) {
    collected c;
    c.next = from;
    while (!(c.eof && c.finished) && c.bytes.size() < stop_after) {
        auto text = ws.receive(std::chrono::seconds(30));
        if (!text)
            break;
        auto m = json::parse(*text).as_object();
        const auto& type = m.at("type").as_string();
        if (type == "output" && m.at("job") == job) {
            if (m.at("offset").as_int64() != static_cast<std::int64_t>(c.next))
                c.gap = true;
            std::string data(m.at("data").as_string());
            EXPECT_FALSE(m.contains("encoding"));
            c.bytes += data;
            c.next += data.size();
        } else if (type == "eof") {
            c.eof = true;
        } else if (type == "event" && m.at("event") == "finished") {
            c.finished = true;
        }
    }
    return c;
}

class Watchers : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(daemon_.ready()) << daemon_.log(); }
    void TearDown() override {
        if (HasFailure())
            std::cerr << "corrald's log:\n" << daemon_.log();
    }
    address web() const { return daemon_.web(); }
    std::int64_t submit(const std::string& body) {
        auto r = http(web(), "POST", "/api/v1/jobs", body);
        EXPECT_EQ(r.status, 201u) << r.body;
        return r.json().at("id").as_int64();
    }
    /// Attaches `watchers` WebSocket watchers to a job that waits for a line on stdin, then sends it
    /// the line and collects what each watcher receives, each on a thread of its own. Empty when
    /// a watcher could not attach or the job could not be released.
    std::vector<collected> watch_from_the_start(std::int64_t id, int watchers) {
        std::vector<std::unique_ptr<ws_client>> clients;
        for (int i = 0; i < watchers; ++i) {
            clients.push_back(std::make_unique<ws_client>(web(), "/api/v1/stream"));
            clients.back()->send(R"({"type": "subscribe", "job": )" + std::to_string(id) + R"(, "from": 0})");
        }
        for (auto& c : clients) {
            if (!c->receive()) {  // subscribed
                ADD_FAILURE() << "a watcher got no answer to its subscription";
                return {};
            }
        }
        const auto go =
            http(web(), "POST", "/api/v1/jobs/" + std::to_string(id) + "/stdin?close=true", "go\n");
        if (go.status != 200u) {
            ADD_FAILURE() << "stdin: " << go.status << " " << go.body;
            return {};
        }
        std::vector<collected> results(static_cast<std::size_t>(watchers));
        std::vector<std::thread> readers;
        for (std::size_t i = 0; i < results.size(); ++i) {
            readers.emplace_back([&, i] { results[i] = collect(*clients[i], id, 0); });
        }
        for (auto& t : readers) {
            t.join();
        }
        return results;
    }
    // A job that pours counts as pouring for 500 ms after its last big block, not 2 ms: on a busy
    // host (another test binary beside this one) the core thread can be off its CPU for longer than
    // 2 ms, and then the watchers woke to a calm that was only the clock's.
    daemon_process daemon_{daemon_process::default_config("[jobs]\npouring_calm = \"500ms\"\n")};
};

TEST_F(Watchers, HundredWebSocketWatchersReceiveIdenticalBytes) {
    // The job waits for a line on stdin before it writes, so every watcher is attached first.
    const auto id = submit(
        R"({"shell": "read go; i=0; while [ $i -lt 2000 ]; do echo line-$i-abcdefghijklmnopqrstuvwxyz; i=$((i+1)); done", "stdin": "pipe"})");
    constexpr int watchers = 100;
    const auto results = watch_from_the_start(id, watchers);
    ASSERT_EQ(results.size(), static_cast<std::size_t>(watchers));
    std::string expected;
    for (int i = 0; i < 2000; ++i)
        expected += "line-" + std::to_string(i) + "-abcdefghijklmnopqrstuvwxyz\n";
    for (int i = 0; i < watchers; ++i) {
        EXPECT_TRUE(results[i].eof && results[i].finished) << "watcher " << i;
        EXPECT_FALSE(results[i].gap) << "watcher " << i;
        EXPECT_EQ(results[i].bytes, expected) << "watcher " << i;
    }
}

TEST_F(Watchers, WatchersOfAPouringJobDeferToItAndMissNothing) {
    // 16 MiB in 64 KiB writes: the pipe moves to the reader thread and hands corrald big blocks, so
    // the watchers' messages wait for the flood to ease (api.watcher_defer) and catch up afterwards.
    constexpr std::size_t size = 16 << 20;
    const auto id = submit(R"({"shell": "read go; exec )" + fake_child + " spew " + std::to_string(size) +
                           R"(", "stdin": "pipe"})");
    constexpr int watchers = 10;
    const auto results = watch_from_the_start(id, watchers);
    ASSERT_EQ(results.size(), static_cast<std::size_t>(watchers));
    std::string line(63, 'x');
    line += '\n';
    for (int i = 0; i < watchers; ++i) {
        EXPECT_TRUE(results[i].eof && results[i].finished) << "watcher " << i;
        EXPECT_FALSE(results[i].gap) << "watcher " << i;
        ASSERT_EQ(results[i].bytes.size(), size) << "watcher " << i;
        EXPECT_EQ(results[i].bytes.substr(0, 64), line);
        EXPECT_EQ(results[i].bytes.find_first_not_of(line), std::string::npos) << "watcher " << i;
    }
    // Deferral needs the job to have poured (a big block: it wrote faster than corrald read); the
    // metric says whether it did, so a run where the reader kept up is reported, not failed.
    const auto metrics = http(web(), "GET", "/metrics").body;
    auto counter = [&](const std::string& name) {
        const auto at = metrics.find("\n" + name + " ");
        EXPECT_NE(at, std::string::npos) << name << " missing from\n" << metrics;
        return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + name.size() + 2));
    };
    const double poured = counter("corral_output_pouring_blocks_total");
    const double deferred = counter("corral_watcher_deferrals_total");
    if (poured > 0) {
        EXPECT_GT(deferred, 0.0) << "the job poured (" << poured << " big blocks) and no watcher deferred";
    } else {
        std::fprintf(stderr,
                     "NOTE: the reader kept up with the job (no big block), so deferral was not "
                     "exercised in this run\n");
    }
}

TEST_F(Watchers, AWatcherThatReconnectsResumesFromItsCursor) {
    const auto id =
        submit(R"({"shell": "i=0; while [ $i -lt 400 ]; do echo n$i; i=$((i+1)); sleep 0.002; done"})");
    std::string received;
    std::uint64_t cursor = 0;
    {
        ws_client first(web(), "/api/v1/stream?job=" + std::to_string(id) + "&from=0");
        auto part = collect(first, id, 0, 300);
        ASSERT_FALSE(part.gap);
        received = part.bytes;
        cursor = part.next;
        first.close();  // disconnect mid-stream
    }
    ws_client second(web(), "/api/v1/stream?job=" + std::to_string(id) + "&from=" + std::to_string(cursor));
    auto rest = collect(second, id, cursor);
    EXPECT_FALSE(rest.gap);
    EXPECT_TRUE(rest.eof);
    received += rest.bytes;
    std::string expected;
    for (int i = 0; i < 400; ++i)
        expected += "n" + std::to_string(i) + "\n";
    EXPECT_EQ(received, expected);  // no loss, no duplicate
}

TEST_F(Watchers, OneConnectionFollowsManyJobsAndUnsubscribes) {
    const auto a = submit(R"({"shell": "echo from-a"})");
    const auto b = submit(R"({"shell": "echo from-b"})");
    ws_client ws(web(), "/api/v1/stream");
    ws.send(R"({"type": "subscribe", "job": )" + std::to_string(a) + "}");
    ws.send(R"({"type": "subscribe", "job": )" + std::to_string(b) + "}");
    std::map<std::int64_t, std::string> out;
    int finished = 0;
    while (finished < 2) {
        auto text = ws.receive();
        ASSERT_TRUE(text.has_value());
        auto m = json::parse(*text).as_object();
        if (m.at("type") == "output")
            out[m.at("job").as_int64()] += std::string(m.at("data").as_string());
        if (m.at("type") == "event" && m.at("event") == "finished")
            ++finished;
    }
    EXPECT_EQ(out[a], "from-a\n");
    EXPECT_EQ(out[b], "from-b\n");
    ws.send(R"({"type": "nonsense"})");
    auto error = json::parse(*ws.receive()).as_object();
    EXPECT_EQ(error.at("type"), "error");
    ws.send("not json");
    EXPECT_EQ(json::parse(*ws.receive()).at("type"), "error");
    ws.send(R"({"type": "unsubscribe", "job": )" + std::to_string(a) + "}");
    EXPECT_EQ(json::parse(*ws.receive()).at("type"), "unsubscribed");
}

TEST_F(Watchers, AllJobsSubscriptionSeesEventsOfNewJobs) {
    ws_client ws(web(), "/api/v1/stream");
    ws.send(R"({"type": "subscribe", "all": true})");
    ASSERT_EQ(json::parse(*ws.receive()).at("type"), "subscribed");
    const auto id = submit(R"({"shell": "true"})");
    std::vector<std::string> events;
    while (events.size() < 3) {
        auto text = ws.receive();
        ASSERT_TRUE(text.has_value());
        auto m = json::parse(*text).as_object();
        if (m.at("type") == "event" && m.at("job").at("id") == id)
            events.emplace_back(m.at("event").as_string());
    }
    EXPECT_EQ(events, (std::vector<std::string>{"queued", "started", "finished"}));
}

/// The next message of `type` (others skipped); null when none came.
json::object next_of(ws_client& ws, std::string_view type) {
    while (auto text = ws.receive()) {
        auto m = json::parse(*text).as_object();
        if (m.at("type").as_string() == type)
            return m;
    }
    return {};
}

TEST_F(Watchers, AReconnectingWatcherResumesItsSubscriptionExactlyWhereItStopped) {
    // A job that prints what it is given on stdin, line by line, and ends when stdin closes.
    const auto id = submit(R"({"command": ["/bin/cat"], "stdin": "pipe"})");
    const auto stdin_path = "/api/v1/jobs/" + std::to_string(id) + "/stdin";
    std::string session;
    {
        ws_client ws(web(), "/api/v1/stream");
        ws.send(R"({"type": "subscribe", "job": )" + std::to_string(id) + "}");
        auto subscribed = next_of(ws, "subscribed");
        ASSERT_TRUE(subscribed.contains("session"));
        session = std::string(subscribed.at("session").as_string());
        ASSERT_EQ(http(web(), "POST", stdin_path, "one\n").status, 200u);
        auto first = next_of(ws, "output");
        ASSERT_FALSE(first.empty());
        EXPECT_EQ(first.at("data"), "one\n");
    }  // the connection goes; the subscription stays
    // Meanwhile the job writes more and ends.
    ASSERT_EQ(http(web(), "POST", stdin_path + "?close=true", "two\n").status, 200u);
    http(web(), "GET", "/api/v1/jobs/" + std::to_string(id) + "/wait?timeout=20");

    ws_client again(web(), "/api/v1/stream?session=" + session);
    std::string bytes;
    std::vector<std::string> events;
    bool eof = false;
    for (;;) {
        auto text = again.receive();
        ASSERT_TRUE(text.has_value()) << "resumed: " << bytes;
        auto m = json::parse(*text).as_object();
        if (m.at("type") == "output") {
            EXPECT_EQ(m.at("offset").as_int64(), 4) << "resumed after the bytes already sent, not before";
            bytes += std::string(m.at("data").as_string());
        } else if (m.at("type") == "eof") {
            eof = true;
        } else if (m.at("type") == "event") {
            EXPECT_TRUE(eof) << "finished came before the end of the output";
            events.emplace_back(m.at("event").as_string());
            if (events.back() == "finished")
                break;
        }
    }
    EXPECT_EQ(bytes, "two\n");  // nothing lost, nothing repeated
    EXPECT_EQ(events, std::vector<std::string>{"finished"});  // once, after the last output
    EXPECT_FALSE(again.receive(std::chrono::milliseconds(300)).has_value()) << "nothing after finished";
}

TEST_F(Watchers, ASecondConnectionToASubscriptionReplacesTheFirstAndStrangersCannotResumeIt) {
    ws_client first(web(), "/api/v1/stream");
    first.send(R"({"type": "subscribe", "all": true})");
    const auto id = submit(R"({"shell": "true"})");
    auto queued = next_of(first, "event");
    ASSERT_TRUE(queued.contains("seq")) << json::serialize(queued);
    // Events are numbered and timed by the daemon.
    EXPECT_GT(queued.at("seq").as_int64(), 0);
    EXPECT_TRUE(queued.at("time").is_string());
    http(web(), "GET", "/api/v1/jobs/" + std::to_string(id) + "/wait?timeout=20");
    // The session id comes with each "subscribed"; ask for a job's events to learn it.
    first.send(R"({"type": "subscribe", "job": )" + std::to_string(id) + R"(, "output": false})");
    const std::string session(next_of(first, "subscribed").at("session").as_string());

    ws_client second(web(), "/api/v1/stream?session=" + session);
    int before_close = 0;  // what was already on its way
    while (first.receive(std::chrono::seconds(10)) && ++before_close < 100) {
    }
    EXPECT_LT(before_close, 100);
    EXPECT_NE(first.close_reason().find("replaced"), std::string::npos) << first.close_reason();
    EXPECT_EQ(first.close_code(), 1000);  // a normal end, as ASEXOR closes a replaced session

    auto stranger = http(web(), "GET", "/api/v1/stream?session=0123456789abcdef0123456789abcdef", "",
                         {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"},
                          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
    EXPECT_EQ(stranger.status, 404u) << stranger.body;
    EXPECT_EQ(stranger.json().at("error").at("code"), "subscription_not_found");
}

TEST_F(Watchers, ASubscriptionLeftWaitingForItsReaderDoesNotHoldUpTheDaemonsExit) {
    {
        ws_client ws(web(), "/api/v1/stream");
        ws.send(R"({"type": "subscribe", "all": true})");
        ASSERT_EQ(next_of(ws, "subscribed").at("all"), true);
    }  // it lingers for api.subscription_linger (60 s), waiting for its client to come back
    daemon_.signal(SIGTERM);
    // Well before the linger time: once the jobs are done nothing keeps corrald alive.
    EXPECT_EQ(daemon_.wait_exit(std::chrono::seconds(30)), 0) << daemon_.log();
}

TEST_F(Watchers, ServerSentEventsCarryOutputAndEvents) {
    const auto id = submit(R"({"shell": "echo one; echo two"})");
    http(web(), "GET", "/api/v1/jobs/" + std::to_string(id) + "/wait?timeout=20");
    // A finished job's stream ends with eof and finished; the server then keeps the stream open, so
    // read it raw with a short timeout.
    auto text = raw_exchange(web(),
                             "GET /api/v1/events?job=" + std::to_string(id) +
                                 " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + web().token +
                                 "\r\nAccept: text/event-stream\r\n\r\n",
                             std::chrono::milliseconds(500));
    EXPECT_NE(text.find("Content-Type: text/event-stream"), std::string::npos) << text;
    EXPECT_NE(text.find("event: output\ndata: {"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("data":"one\ntwo\n")"), std::string::npos) << text;
    EXPECT_NE(text.find("id: " + std::to_string(id) + ":8\n"), std::string::npos) << text;
    EXPECT_NE(text.find("event: finished"), std::string::npos) << text;
    // Resuming with Last-Event-ID sends only what came after.
    auto resumed = raw_exchange(web(),
                                "GET /api/v1/events?job=" + std::to_string(id) +
                                    " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + web().token +
                                    "\r\nLast-Event-ID: " + std::to_string(id) + ":4\r\n\r\n",
                                std::chrono::milliseconds(500));
    EXPECT_NE(resumed.find(R"("data":"two\n")"), std::string::npos) << resumed;
    EXPECT_EQ(resumed.find(R"("data":"one)"), std::string::npos) << resumed;
}

class SlowWatchers : public ::testing::Test {
  protected:
    daemon_process daemon_{daemon_process::default_config(
        "[api]\nwatcher_buffer = \"64KiB\"\nslow_watchers = \"disconnect\"\n")};
};

TEST_F(SlowWatchers, AreDisconnectedWithAReasonAndDoNotSlowTheJob) {
    ASSERT_TRUE(daemon_.ready()) << daemon_.log();
    address web = daemon_.web();
    // A watcher that never reads, on a job that writes 32 MiB.
    auto r =
        http(web, "POST", "/api/v1/jobs", R"({"command": [")" + fake_child + R"(", "spew", "33554432"]})");
    ASSERT_EQ(r.status, 201u);
    const auto id = r.json().at("id").as_int64();
    ws_client stalled(web, "/api/v1/stream?job=" + std::to_string(id));
    auto done = http(web, "GET", "/api/v1/jobs/" + std::to_string(id) + "/wait?timeout=60").json();
    EXPECT_EQ(done.at("state"), "succeeded");  // the job finished although its watcher never read
    EXPECT_EQ(done.at("output").at("bytes"), 33554432);
    std::optional<std::string> m;
    do {
        m = stalled.receive(std::chrono::seconds(10));
    } while (m);
    EXPECT_NE(stalled.close_reason().find("too slow"), std::string::npos) << stalled.close_reason();
    EXPECT_EQ(stalled.close_code(), 1008);  // it broke the buffer policy
}

/// The value of a gauge in corrald's /metrics, or -1.
double gauge(const address& where, const std::string& name) {
    const auto text = http(where, "GET", "/metrics").body;
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

TEST(StuckReaders, AnSseClientThatStopsReadingIsClosedAfterTheWriteTimeout) {
    // resume: the watcher is never "too slow" by the queue policy; only the write deadline ends it.
    daemon_process d(daemon_process::default_config("[api]\nslow_watchers = \"resume\"\n") +
                     "write_timeout = \"500ms\"\n");  // on the cli listener, the last [[http]]
    ASSERT_TRUE(d.ready()) << d.log();
    auto r = http(
        d.local(), "POST", "/api/v1/jobs", R"({"command": [")" + fake_child + R"(", "spew", "33554432"]})");
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto id = std::to_string(r.json().at("id").as_int64());
    // A raw SSE client on the Unix socket with a tiny receive buffer, which never reads.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", d.socket_path().c_str());
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string request = "GET /api/v1/events?job=" + id + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ASSERT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    auto done = http(d.local(), "GET", "/api/v1/jobs/" + id + "/wait?timeout=60").json();
    EXPECT_EQ(done.at("state"), "succeeded");
    // The stuck watcher is gone within moments of its stuck write, not at the end of time.
    double watchers = -1;
    for (int i = 0; i < 200 && (watchers = gauge(d.local(), "corral_watchers")) != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(watchers, 0) << "a client that stopped reading still holds its stream";
    ::close(fd);
}

TEST(StuckReaders, AWebSocketClientThatStopsReadingIsClosedAfterTheWriteTimeout) {
    daemon_process d(daemon_process::default_config("[api]\nslow_watchers = \"resume\"\n") +
                     "write_timeout = \"500ms\"\n");  // on the cli listener, the last [[http]]
    ASSERT_TRUE(d.ready()) << d.log();
    auto r = http(d.local(), "POST", "/api/v1/jobs", R"({"command": [")" + fake_child + R"(", "spew", "33554432"]})");
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto id = std::to_string(r.json().at("id").as_int64());
    // A WebSocket upgrade, by hand, on a socket with a tiny receive buffer that is never read.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", d.socket_path().c_str());
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string upgrade = "GET /api/v1/stream?job=" + id +
                                "&from=0 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    ASSERT_EQ(::write(fd, upgrade.data(), upgrade.size()), static_cast<ssize_t>(upgrade.size()));
    auto done = http(d.local(), "GET", "/api/v1/jobs/" + id + "/wait?timeout=60").json();
    EXPECT_EQ(done.at("state"), "succeeded");
    double watchers = -1;
    for (int i = 0; i < 200 && (watchers = gauge(d.local(), "corral_watchers")) != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the next look; the deadline decides
    }
    EXPECT_EQ(watchers, 0) << "a WebSocket client that stopped reading still holds its stream";
    ::close(fd);
}

TEST(StuckReaders, AClientThatStopsReadingAPageSentFromFileIsClosedAfterTheWriteTimeout) {
    // A raw page of a finished job's output goes out with sendfile; a client that takes none of it
    // must not hold the connection (and the file) for ever. The page starts past the first MiB: the
    // job's first output is read into small chunks, whose small records are copied instead.
    daemon_process d(daemon_process::default_config() + "write_timeout = \"500ms\"\n");  // the cli listener
    ASSERT_TRUE(d.ready()) << d.log();
    auto r = http(
        d.local(), "POST", "/api/v1/jobs", R"({"command": [")" + fake_child + R"(", "spew", "33554432"]})");
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto id = std::to_string(r.json().at("id").as_int64());
    auto done = http(d.local(), "GET", "/api/v1/jobs/" + id + "/wait?timeout=60").json();
    ASSERT_EQ(done.at("state"), "succeeded");
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", d.socket_path().c_str());
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string request =
        "GET /api/v1/jobs/" + id +
        "/output?format=raw&split=true&from=1048576&max=16777216 HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ASSERT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    std::this_thread::sleep_for(std::chrono::seconds(2));  // reading nothing, well past the deadline
    // What was sent before the deadline is there to read, then the end: the rest never comes.
    timeval limit{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    std::size_t got = 0;
    std::array<char, 64 * 1024> buffer;
    ssize_t n = 0;
    while ((n = ::read(fd, buffer.data(), buffer.size())) > 0) {
        got += static_cast<std::size_t>(n);
    }
    EXPECT_EQ(n, 0) << "the connection was not closed (errno " << errno << ")";
    EXPECT_GT(got, 0u);
    EXPECT_LT(got, 16u << 20) << "the whole page came: the writer did not give up";
    ::close(fd);
}

}  // namespace
}  // namespace corral::test
