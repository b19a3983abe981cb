// corrald's [[service]]s with a real daemon: restarts spaced by backoff (read from each service's
// event log, not from sleeps here), giving up, readiness by socket and by line, dependency order at
// start and the reverse at stop, a failed dependency, the REST routes and their rights.
#include <gtest/gtest.h>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/json.hpp>

#include "corral/auth/authority.hpp"
#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::string corrald = CORRALD_PATH;
const std::string fc = "\"" + fake_child + "\"";

/// A timestamp of the API ("2026-12-03T10:07:31.922Z") in milliseconds since the epoch.
std::int64_t millis(std::string_view t) {
    std::tm tm{};
    const std::string text(t);
    ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    const auto ms = std::stoi(text.substr(20, 3));
    return static_cast<std::int64_t>(::timegm(&tm)) * 1000 + ms;
}

json::object service(const daemon_process& d, const std::string& name) {
    auto r = http(d.local(), "GET", "/api/v1/services/" + name);
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.status == 200 ? r.json().as_object() : json::object{};
}

std::string state_of(const daemon_process& d, const std::string& name) {
    auto s = service(d, name);
    return s.contains("state") ? std::string(s.at("state").as_string()) : "?";
}

/// Polls until the service is in `state` (at most 20 s); the last state seen.
std::string wait_state(const daemon_process& d, const std::string& name, const std::string& state) {
    std::string seen;
    for (auto deadline = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < deadline;) {
        seen = state_of(d, name);
        if (seen == state) {
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
    return seen;
}

/// The service's events of one kind, as (time in ms, detail).
std::vector<std::pair<std::int64_t, std::string>> events(const daemon_process& d, const std::string& name,
                                                         const std::string& kind) {
    std::vector<std::pair<std::int64_t, std::string>> out;
    auto s = service(d, name);
    if (!s.contains("events")) {
        return out;
    }
    for (const auto& e : s.at("events").as_array()) {
        const auto& o = e.as_object();
        if (o.at("kind").as_string() == kind) {
            out.emplace_back(millis(o.at("time").as_string()), std::string(o.at("detail").as_string()));
        }
    }
    return out;
}

TEST(Services, ACrashingServiceRestartsWithGrowingBackoffThenGivesUp) {
    daemon_process d(daemon_process::default_config(
        "[[service]]\nname = \"crashy\"\ncommand = [" + fc + ", \"exit\", \"3\"]\n"
        "backoff = \"200ms\"\nbackoff_factor = 2.0\njitter = 0.1\ngive_up_after = 3\n"));
    ASSERT_TRUE(d.ready()) << d.log();
    ASSERT_EQ(wait_state(d, "crashy", "failed"), "failed") << d.log();
    auto s = service(d, "crashy");
    EXPECT_EQ(s.at("runs").as_int64(), 4);
    EXPECT_NE(std::string(s.at("reason").as_string()).find("gave up after 3 restarts in a row; the last run exited with code 3"),
              std::string::npos)
        << s;
    const auto starts = events(d, "crashy", "starting");
    const auto exits = events(d, "crashy", "exited");
    ASSERT_EQ(starts.size(), 4u);
    ASSERT_EQ(exits.size(), 4u);
    // Each restart waits 200 ms × 2^(n-1), give or take the 10% jitter (and 1 ms of timestamp rounding).
    for (std::size_t n = 1; n < starts.size(); ++n) {
        const double planned = 200.0 * std::pow(2.0, static_cast<double>(n - 1));
        const auto waited = starts[n].first - exits[n - 1].first;
        EXPECT_GE(waited, planned * 0.9 - 1) << "restart " << n;
    }
    const auto backoffs = events(d, "crashy", "backoff");
    ASSERT_EQ(backoffs.size(), 3u);
    EXPECT_NE(backoffs[2].second.find("restart 3 in"), std::string::npos) << backoffs[2].second;
}

TEST(Services, StartInDependencyOrderOnceReadyAndStopInReverse) {
    daemon_process d(daemon_process::default_config(
        "[[service]]\nname = \"app\"\nafter = [\"sock\", \"lines\"]\ncommand = [" + fc +
        ", \"print\", \"app up\", \"sleep\", \"60000\"]\n"
        "[[service]]\nname = \"sock\"\nready_socket = \"@STATE@/svc.sock\"\ncommand = [" + fc +
        ", \"sleep\", \"300\", \"serve-unix\", \"@STATE@/svc.sock\"]\n"
        "[[service]]\nname = \"lines\"\nready_line = \"listening on \\\\d+\"\ncommand = [" + fc +
        ", \"print\", \"warming up\", \"sleep\", \"200\", \"print\", \"listening on 8080\", \"sleep\", \"60000\"]\n"));
    ASSERT_TRUE(d.ready()) << d.log();
    ASSERT_EQ(wait_state(d, "app", "running"), "running") << d.log();
    const auto sock_ready = events(d, "sock", "ready");
    const auto lines_ready = events(d, "lines", "ready");
    const auto app_waiting = events(d, "app", "waiting");
    const auto app_start = events(d, "app", "starting");
    ASSERT_EQ(sock_ready.size(), 1u);
    ASSERT_EQ(lines_ready.size(), 1u);
    ASSERT_EQ(app_start.size(), 1u);
    EXPECT_FALSE(app_waiting.empty());
    EXPECT_NE(sock_ready[0].second.find("svc.sock accepts"), std::string::npos) << sock_ready[0].second;
    EXPECT_EQ(lines_ready[0].second, "line 'listening on 8080' matched");
    EXPECT_GE(app_start[0].first, sock_ready[0].first);
    EXPECT_GE(app_start[0].first, lines_ready[0].first);
    // Its output, like a job's, from its current run.
    auto out = http(d.local(), "GET", "/api/v1/services/lines/output?format=raw");
    EXPECT_EQ(out.body, "warming up\nlistening on 8080\n");

    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(), 0);
    const auto log = d.log();
    const auto app_stop = log.find("service app: stopping");
    const auto sock_stop = log.find("service sock: stopping");
    const auto lines_stop = log.find("service lines: stopping");
    ASSERT_NE(app_stop, std::string::npos) << log;
    ASSERT_NE(sock_stop, std::string::npos) << log;
    ASSERT_NE(lines_stop, std::string::npos) << log;
    EXPECT_LT(app_stop, sock_stop);
    EXPECT_LT(app_stop, lines_stop);
    EXPECT_LT(log.find("service app: stopped"), std::min(sock_stop, lines_stop)) << "app was not gone first";
}

TEST(Services, AFailedDependencyKeepsItsDependentsFromStartingAndSaysWhy) {
    daemon_process d(daemon_process::default_config(
        // Never ready (it exits before it prints the line), so nothing that comes after it may start.
        "[[service]]\nname = \"broken\"\nrestart = \"never\"\nready_line = \"^never printed\"\n"
        "command = [" + fc + ", \"exit\", \"1\"]\n"
        "[[service]]\nname = \"needs\"\nafter = [\"broken\"]\ncommand = [" + fc + ", \"sleep\", \"60000\"]\n"
        "[[service]]\nname = \"slow\"\nrestart = \"never\"\nready_port = 1\nready_timeout = \"300ms\"\n"
        "command = [" + fc + ", \"sleep\", \"60000\"]\n"));
    ASSERT_TRUE(d.ready()) << d.log();
    ASSERT_EQ(wait_state(d, "needs", "failed"), "failed");
    auto needs = service(d, "needs");
    EXPECT_EQ(needs.at("runs").as_int64(), 0);
    const std::string reason(needs.at("reason").as_string());
    EXPECT_NE(reason.find("it comes after 'broken', which failed: "), std::string::npos) << needs;
    EXPECT_NE(reason.find("exited with code 1"), std::string::npos) << needs;
    ASSERT_EQ(wait_state(d, "slow", "failed"), "failed");
    auto slow = service(d, "slow");
    EXPECT_NE(std::string(slow.at("reason").as_string()).find("not ready within 300ms"), std::string::npos) << slow;
}

TEST(Services, OneStoppedWhileItWaitsForItsDependencyStopsThere) {
    daemon_process d(daemon_process::default_config(
        "[[service]]\nname = \"slow\"\nready_line = \"^never\"\nready_timeout = \"60s\"\n"
        "command = [" + fc + ", \"sleep\", \"60000\"]\n"
        "[[service]]\nname = \"later\"\nafter = [\"slow\"]\ncommand = [" + fc + ", \"sleep\", \"60000\"]\n"));
    ASSERT_TRUE(d.ready()) << d.log();
    ASSERT_EQ(wait_state(d, "later", "waiting"), "waiting");
    EXPECT_EQ(http(d.local(), "POST", "/api/v1/services/later/stop").status, 202u);
    EXPECT_EQ(wait_state(d, "later", "stopped"), "stopped");
    EXPECT_EQ(service(d, "later").at("runs").as_int64(), 0);
    EXPECT_EQ(state_of(d, "slow"), "starting");  // what it waited for is not touched
}

class ServicesApi : public ::testing::Test {
  protected:
    static std::string tokens() {
        static const std::string path = [] {
            char dir[] = "/tmp/corral-svc-tokens-XXXXXX";
            if (!::mkdtemp(dir)) {
                throw std::runtime_error("mkdtemp failed");
            }
            const std::string p = std::string(dir) + "/tokens";
            std::ofstream out(p);
            for (auto [user, role] : {std::pair{"alice", "user"}, {"sam", "viewer"}, {"root", "admin"}}) {
                out << user << ':' << role << ':' << auth::hash_token(std::string(user) + "-secret") << "\n";
            }
            return p;
        }();
        return path;
    }
    static std::string config() {
        return daemon_process::default_config(
            "[auth]\ntokens_file = \"" + tokens() + "\"\n"
            "[auth.roles.user]\ncommands = true\n"
            "[auth.roles.viewer]\nsee_all = true\n"
            "[auth.roles.admin]\nadmin = true\n"
            "[[service]]\nname = \"echo\"\ncommand = [" + fc + ", \"echo\"]\n"
            "[[service]]\nname = \"manual\"\nautostart = false\ncommand = [" + fc + ", \"print\", \"manual run\", \"sleep\", \"60000\"]\n");
    }
    address as(const std::string& user) const { return {daemon_.port(), {}, user + "-secret"}; }
    void SetUp() override { ASSERT_TRUE(daemon_.ready()) << daemon_.log(); }

    daemon_process daemon_{config()};
};

TEST_F(ServicesApi, StdinReachesTheServiceAndItsOutputReadsLikeAJobs) {
    ASSERT_EQ(wait_state(daemon_, "echo", "running"), "running");
    auto written = http(as("root"), "POST", "/api/v1/services/echo/stdin", "hello service\n",
                        {{"Content-Type", "text/plain"}});
    EXPECT_EQ(written.status, 200u) << written.body;
    auto out = http(as("root"), "GET", "/api/v1/services/echo/output?format=raw&wait=10");
    EXPECT_EQ(out.body, "hello service\n");
    // The run is a job like any other, labelled with its service.
    const auto job = service(daemon_, "echo").at("job").as_int64();
    auto j = http(as("root"), "GET", "/api/v1/jobs/" + std::to_string(job)).json().as_object();
    EXPECT_EQ(j.at("labels").as_object().at("service").as_string(), "echo");
}

TEST_F(ServicesApi, OperatorsStartStopAndRestartAndTheStateFollows) {
    EXPECT_EQ(state_of(daemon_, "manual"), "stopped");  // autostart = false
    EXPECT_EQ(http(as("root"), "POST", "/api/v1/services/manual/start").status, 202u);
    ASSERT_EQ(wait_state(daemon_, "manual", "running"), "running");
    EXPECT_EQ(http(as("root"), "POST", "/api/v1/services/manual/start").status, 409u);
    const auto first = service(daemon_, "manual").at("job").as_int64();
    EXPECT_EQ(http(as("root"), "POST", "/api/v1/services/manual/restart").status, 202u);
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < deadline && service(daemon_, "manual").at("job").as_int64() == first;) {
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_NE(service(daemon_, "manual").at("job").as_int64(), first);
    ASSERT_EQ(wait_state(daemon_, "manual", "running"), "running");
    EXPECT_EQ(http(as("root"), "POST", "/api/v1/services/manual/stop").status, 202u);
    EXPECT_EQ(wait_state(daemon_, "manual", "stopped"), "stopped");
    EXPECT_EQ(http(as("root"), "POST", "/api/v1/services/manual/stop").status, 409u);
    EXPECT_EQ(http(as("root"), "GET", "/api/v1/services/nothing").status, 404u);
    EXPECT_EQ(http(as("root"), "PUT", "/api/v1/services/manual").status, 405u);
}

TEST_F(ServicesApi, AnAdminAddsAndRemovesServicesAtRunTime) {
    const std::string extra =
        R"({"name": "extra", "after": ["echo"], "command": [)" + fc + R"(, "sleep", "60000"]})";
    auto refused = http(as("alice"), "POST", "/api/v1/services", extra);
    EXPECT_EQ(refused.status, 403u) << refused.body;
    EXPECT_NE(refused.body.find("may not add services"), std::string::npos) << refused.body;
    // Checked as [[service]] is, every problem at once.
    auto bad =
        http(as("root"), "POST", "/api/v1/services", R"({"name": "x", "restart": "sometimes", "bogus": 1})");
    EXPECT_EQ(bad.status, 400u) << bad.body;
    for (const char* problem : {"restart: expected one of", "bogus: unknown key", "command: required"}) {
        EXPECT_NE(bad.body.find(problem), std::string::npos) << bad.body;
    }
    auto unknown_dependency = http(as("root"),
                                   "POST",
                                   "/api/v1/services",
                                   R"({"name": "x", "after": ["nothing"], "command": ["true"]})");
    EXPECT_EQ(unknown_dependency.status, 400u) << unknown_dependency.body;
    EXPECT_EQ(http(as("root"), "POST", "/api/v1/services", "[1]").status, 400u);

    auto added = http(as("root"), "POST", "/api/v1/services", extra);
    ASSERT_EQ(added.status, 201u) << added.body;
    EXPECT_EQ(added.json().at("name"), "extra");
    ASSERT_EQ(wait_state(daemon_, "extra", "running"), "running");
    EXPECT_EQ(http(as("root"), "POST", "/api/v1/services", extra).status, 409u);
    const auto run = service(daemon_, "extra").at("job").as_int64();
    const auto pid = started_pid(as("root"), run);
    ASSERT_GT(pid, 0);
    auto dependent =
        http(as("root"),
             "POST",
             "/api/v1/services",
             R"({"name": "dependent", "after": ["extra"], "command": [)" + fc + R"(, "sleep", "60000"]})");
    ASSERT_EQ(dependent.status, 201u) << dependent.body;
    auto blocked = http(as("root"), "DELETE", "/api/v1/services/extra");
    EXPECT_EQ(blocked.status, 409u) << blocked.body;
    EXPECT_NE(blocked.body.find("'dependent' comes after 'extra'"), std::string::npos) << blocked.body;
    EXPECT_EQ(http(as("sam"), "DELETE", "/api/v1/services/dependent").status, 403u);
    EXPECT_EQ(http(as("root"), "DELETE", "/api/v1/services/dependent").status, 200u);
    EXPECT_EQ(http(as("root"), "DELETE", "/api/v1/services/extra").status, 200u);
    EXPECT_EQ(http(as("root"), "GET", "/api/v1/services/extra").status, 404u);
    EXPECT_TRUE(gone_within(static_cast<pid_t>(pid))) << "a removed service's process is stopped";
    // The name is free again.
    EXPECT_EQ(http(as("root"), "POST", "/api/v1/services", extra).status, 201u);
    EXPECT_EQ(wait_state(daemon_, "extra", "running"), "running");
}

TEST_F(ServicesApi, ServiceStateChangesFollowOnTheStreamsForThoseWhoMaySeeServices) {
    ASSERT_EQ(wait_state(daemon_, "echo", "running"), "running");  // its own start is not what is watched
    EXPECT_EQ(http(as("alice"), "GET", "/api/v1/events?services=true").status, 403u);
    {
        ws_client mine(as("alice"), "/api/v1/stream");
        mine.send(R"({"type": "subscribe", "services": true})");
        auto refused = json::parse(*mine.receive()).as_object();
        EXPECT_EQ(refused.at("type"), "error");
        EXPECT_EQ(refused.at("code"), "forbidden");
    }
    ws_client ws(as("sam"), "/api/v1/stream");
    ws.send(R"({"type": "subscribe", "services": true})");
    auto subscribed = json::parse(*ws.receive()).as_object();
    EXPECT_EQ(subscribed.at("type"), "subscribed");
    EXPECT_EQ(subscribed.at("services"), true);
    EXPECT_EQ(http(as("root"), "POST", "/api/v1/services/manual/start").status, 202u);
    std::vector<std::string> seen;
    std::int64_t last_seq = 0;
    while (seen.empty() || seen.back() != "ready") {
        auto m = ws.receive();
        ASSERT_TRUE(m) << "no more events after " << seen.size();
        auto e = json::parse(*m).as_object();
        ASSERT_EQ(e.at("type"), "service") << *m;
        EXPECT_GT(e.at("seq").as_int64(), last_seq);
        last_seq = e.at("seq").as_int64();
        if (e.at("service") != "manual") {
            continue;  // every service's events come; this test follows one
        }
        seen.emplace_back(e.at("event").as_string());
        if (seen.back() == "ready") {
            EXPECT_EQ(e.at("state"), "running");
            EXPECT_GT(e.at("job").as_int64(), 0);
        }
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"starting", "ready"}));
}

TEST_F(ServicesApi, StdinOverTheStreamThatFollowsTheOutput) {
    ASSERT_EQ(wait_state(daemon_, "echo", "running"), "running");
    const auto job = service(daemon_, "echo").at("job").as_int64();
    ws_client ws(as("root"), "/api/v1/stream?job=" + std::to_string(job) + "&from=0");
    ws.send(R"({"type": "stdin", "job": )" + std::to_string(job) + R"(, "data": "over the stream\n"})");
    bool acked = false;
    std::string echoed;
    while (!acked || echoed.find("over the stream\n") == std::string::npos) {
        auto m = ws.receive();
        ASSERT_TRUE(m) << "acked " << acked << ", echoed '" << echoed << "'";
        auto o = json::parse(*m).as_object();
        if (o.at("type") == "stdin") {
            EXPECT_EQ(o.at("written").as_int64(), 16);
            acked = true;
        } else if (o.at("type") == "output") {
            echoed += o.at("data").as_string();
        }
    }
    // The job service decides: a viewer may follow it, not write to it.
    ws_client viewer(as("sam"), "/api/v1/stream");
    viewer.send(R"({"type": "stdin", "job": )" + std::to_string(job) + R"(, "data": "no"})");
    auto refused = json::parse(*viewer.receive()).as_object();
    EXPECT_EQ(refused.at("type"), "error");
    EXPECT_EQ(refused.at("code"), "forbidden");
    viewer.send(R"({"type": "stdin", "job": "x"})");
    EXPECT_EQ(json::parse(*viewer.receive()).at("type"), "error");
}

TEST_F(ServicesApi, ASignalToTheServicesComponentReachesTheirProcessesAndIsAnAdminsRight) {
    ASSERT_EQ(wait_state(daemon_, "echo", "running"), "running");
    const auto first = service(daemon_, "echo").at("job").as_int64();
    auto refused = http(as("sam"), "POST", "/api/v1/components/services/signal", R"({"signal": "HUP"})");
    EXPECT_EQ(refused.status, 403u) << refused.body;
    auto sent = http(as("root"), "POST", "/api/v1/components/services/signal", R"({"signal": "HUP"})");
    EXPECT_EQ(sent.status, 200u) << sent.body;
    EXPECT_NE(sent.body.find("sent HUP to 1 running service(s)"), std::string::npos) << sent.body;
    // The run ended by it, and on-failure started another.
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < deadline && service(daemon_, "echo").at("job").as_int64() == first;) {
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_NE(service(daemon_, "echo").at("job").as_int64(), first);
    EXPECT_FALSE(events(daemon_, "echo", "backoff").empty());
    auto components = http(as("sam"), "GET", "/api/v1/components").json().as_object();
    EXPECT_GE(components.at("components").as_array().size(), 4u);
}

TEST_F(ServicesApi, SeeingTakesSeeAllAndActingTakesKillAll) {
    auto list = http(as("alice"), "GET", "/api/v1/services");
    EXPECT_EQ(list.status, 403u) << list.body;
    EXPECT_NE(list.body.find("see services"), std::string::npos) << list.body;
    EXPECT_EQ(http(as("sam"), "GET", "/api/v1/services").status, 200u);
    auto stop = http(as("sam"), "POST", "/api/v1/services/echo/stop");
    EXPECT_EQ(stop.status, 403u) << stop.body;
    auto write = http(as("sam"), "POST", "/api/v1/services/echo/stdin", "x", {{"Content-Type", "text/plain"}});
    EXPECT_EQ(write.status, 403u) << write.body;
    EXPECT_EQ(http(as("sam"), "GET", "/api/v1/services/echo/output").status, 200u);
    // And the service's run, as a job of another owner, is hidden from alice like any other's.
    const auto job = service(daemon_, "echo").at("job").as_int64();
    EXPECT_EQ(http(as("alice"), "GET", "/api/v1/jobs/" + std::to_string(job)).status, 404u);
}

program_result check_config(const std::string& text) {
    temp_dir dir;
    { std::ofstream(dir.file("c.toml")) << text; }
    return run_program({corrald, "check", "-c", dir.file("c.toml")});
}

TEST(ServicesConfig, CyclesUnknownDependenciesAndBadKeysAreReportedTogether) {
    auto r = check_config(
        "[[service]]\nname = \"a\"\ncommand = [\"true\"]\nafter = [\"b\"]\n"
        "[[service]]\nname = \"b\"\ncommand = \"true\"\nafter = [\"a\", \"ghost\"]\n"
        "[[service]]\nname = \"c\"\ncommand = \"x 'unclosed\"\nready_port = 80\nready_line = \"x\"\nrestart = \"sometimes\"\n");
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.err.find("service[3].command: no closing quotation"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("service[3]: give at most one of ready_socket, ready_port and ready_line"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("service[3].restart: expected one of"), std::string::npos) << r.err;
    auto deps = check_config(
        "[[service]]\nname = \"a\"\ncommand = [\"true\"]\nafter = [\"b\"]\n"
        "[[service]]\nname = \"b\"\ncommand = \"true\"\nafter = [\"a\", \"ghost\"]\n");
    EXPECT_EQ(deps.status, 2);
    EXPECT_NE(deps.err.find("service 'b' comes after 'ghost', which is not a service"), std::string::npos) << deps.err;
    EXPECT_NE(deps.err.find("in a cycle: a -> b -> a"), std::string::npos) << deps.err;
    auto good = check_config("[[service]]\nname = \"db\"\ncommand = \"true\"\n"
                             "[[service]]\nname = \"app\"\ncommand = \"true\"\nafter = [\"db\"]\nautostart = false\n");
    EXPECT_EQ(good.status, 0) << good.err;
    EXPECT_NE(good.out.find("services: db, app (after db) (not started with corrald)"), std::string::npos) << good.out;
}

}  // namespace
}  // namespace corral::test
