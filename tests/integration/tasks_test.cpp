// Tasks, the scheduler and roles against a real corrald (docs/protocol.md "Tasks", "Queue", "Auth").
#include <gtest/gtest.h>

#include <stdlib.h>

#include <fstream>
#include <iostream>
#include <set>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "corral/auth/authority.hpp"
#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

namespace json = boost::json;

/// A tokens file outside the state directory, written before corrald starts.
std::string write_tokens() {
    char dir[] = "/tmp/corral-tokens-XXXXXX";
    if (!::mkdtemp(dir)) {
        throw std::runtime_error("mkdtemp failed");
    }
    const std::string path = std::string(dir) + "/tokens";
    std::ofstream out(path);
    for (auto [user, role] :
         {std::pair{"alice", "user"}, {"bob", "user"}, {"sam", "superuser"}, {"root", "admin"}}) {
        out << user << ':' << role << ':' << auth::hash_token(std::string(user) + "-secret") << "\n";
    }
    return path;
}

std::string config(const std::string& tokens) {
    const auto fc = "\"" + fake_child + "\"";
    return daemon_process::default_config(
        "[jobs]\nconcurrency = 4\nmax_queued = 20\ngroups = { db = 1 }\n"
        "[auth]\ntokens_file = \"" +
        tokens +
        "\"\nanonymous_role = \"anonymous\"\n"
        "[auth.roles.anonymous]\npriority = 5\ntasks = []\n"
        "[auth.roles.user]\npriority = 4\ntasks = [\"work\", \"say\", \"fail\", \"steps\", \"db\"]\n"
        "[auth.roles.superuser]\npriority = 3\ntasks = [\"*\"]\ncommands = true\nsee_all = true\n"
        "[auth.roles.admin]\npriority = 2\nadmin = true\n"
        "[[task]]\nname = \"work\"\ncommand = [" +
        fc +
        ", \"sleep\", \"{ms}\", \"print\", \"done\"]\n"
        "result = \"text\"\n"
        "[[task.args]]\nname = \"ms\"\ntype = \"int\"\nrequired = true\nmin = 0\n"
        "[[task]]\nname = \"say\"\ncommand = [" +
        fc +
        ", \"print\"]\nresult = \"json\"\n"
        "[[task.args]]\nname = \"text\"\nrequired = true\n"
        "[[task]]\nname = \"fail\"\ncommand = [" +
        fc +
        ", \"exit\", \"3\"]\n"
        "[[task]]\nname = \"db\"\ngroup = \"db\"\ncommand = [" +
        fc +
        ", \"sleep\", \"200\"]\n"
        "[[task]]\nname = \"steps\"\nsteps = [{ task = \"say\", args = { text = \"1\" } }, { task = \"fail\" "
        "},"
        " { task = \"say\", args = { text = \"2\" } }]\n");
}

std::string_view text(const json::object& m, std::string_view key) {
    return m.at(key).as_string();
}

class Tasks : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(daemon_.ready()) << daemon_.log(); }
    void TearDown() override {
        if (HasFailure())
            std::cerr << "corrald's log:\n" << daemon_.log();
    }
    address web() const { return {daemon_.port(), {}, {}}; }  // each request shows its own token
    static std::map<std::string, std::string> as(const std::string& user) {
        return {{"Authorization", "Bearer " + user + "-secret"}};
    }
    http_reply post(const std::string& user, const std::string& target, const std::string& body) {
        return http(web(), "POST", target, body, as(user));
    }
    http_reply get(const std::string& user, const std::string& target) {
        return http(web(), "GET", target, {}, as(user));
    }
    std::int64_t submit(const std::string& user, const std::string& body) {
        auto r = post(user, "/api/v1/jobs", body);
        EXPECT_EQ(r.status, 201u) << r.body;
        return r.status == 201 ? r.json().at("id").as_int64() : -1;
    }
    json::object wait_done(const std::string& user, std::int64_t id) {
        return get(user, "/api/v1/jobs/" + std::to_string(id) + "/wait?timeout=30").json().as_object();
    }
    /// Events of every job, in the order corrald sent them, until `done` says stop.
    template <class Done>
    std::vector<json::object> events(ws_client& ws, Done done) {
        std::vector<json::object> seen;
        while (!done(seen)) {
            auto text = ws.receive(std::chrono::seconds(30));
            if (!text)
                break;
            auto m = json::parse(*text).as_object();
            if (m.at("type") == "event")
                seen.push_back(std::move(m));
        }
        return seen;
    }
    static std::size_t count(const std::vector<json::object>& seen, std::string_view event) {
        return static_cast<std::size_t>(std::count_if(
            seen.begin(), seen.end(), [&](const auto& m) { return text(m, "event") == event; }));
    }
    /// The most jobs running at once, replaying started/finished events (group: only that task).
    static int peak(const std::vector<json::object>& seen, std::string_view task = {}) {
        int now = 0, most = 0;
        for (const auto& m : seen) {
            if (!task.empty() && std::string_view(m.at("job").at("task").as_string()) != task)
                continue;
            now += text(m, "event") == "started" ? 1 : text(m, "event") == "finished" ? -1 : 0;
            most = std::max(most, now);
        }
        return most;
    }

    std::string tokens_ = write_tokens();
    daemon_process daemon_{config(tokens_)};
};

TEST_F(Tasks, ListsTasksWithTheirArgumentSchemas) {
    auto r = get("alice", "/api/v1/tasks");
    ASSERT_EQ(r.status, 200u) << r.body;
    const auto body = r.json();
    const auto& list = body.at("tasks").as_array();
    ASSERT_EQ(list.size(), 5u);
    EXPECT_EQ(list[0].at("name"), "work");
    EXPECT_EQ(list[0].at("args").at(0).at("type"), "int");
    EXPECT_EQ(list[0].at("args").at(0).at("required"), true);
    EXPECT_EQ(list[4].at("steps").as_array().size(), 3u);
}

TEST_F(Tasks, ResultsAreParsedAndBadArgumentsNamed) {
    const auto id = submit("alice", R"({"task": "say", "args": {"text": "{\"n\": 0}"}})");
    auto done = wait_done("alice", id);
    EXPECT_EQ(done.at("state"), "succeeded") << json::serialize(done);
    EXPECT_EQ(done.at("result"), (json::object{{"n", 0}}));
    // ASEXOR dropped falsy values such as 0; here 0 is an argument like any other.
    const auto zero = submit("alice", R"({"task": "work", "args": [0]})");
    EXPECT_EQ(wait_done("alice", zero).at("result"), "done");
    auto bad = post("alice", "/api/v1/jobs", R"({"task": "work", "args": {"ms": "soon", "extra": 1}})");
    EXPECT_EQ(bad.status, 400u);
    EXPECT_NE(bad.body.find("ms: must be a whole number"), std::string::npos) << bad.body;
    EXPECT_NE(bad.body.find("extra: unknown argument"), std::string::npos) << bad.body;
    EXPECT_EQ(post("alice", "/api/v1/jobs", R"({"task": "nope"})").status, 404u);
    auto json_fail = submit("alice", R"({"task": "say", "args": {"text": "not json"}})");
    auto failed = wait_done("alice", json_fail);
    EXPECT_EQ(failed.at("state"), "failed");
    EXPECT_NE(std::string(failed.at("reason").as_string()).find("not valid JSON"), std::string::npos);
}

// ASEXOR's scenario: 4 slots, six priority-4 jobs, then one priority-0 job added last. It starts at the
// first free slot, ahead of the two priority-4 jobs still queued. The first four end 150 ms apart, so
// there is one first free slot: jobs dispatched at the same moment may report "started" in any order
// (each once its exec is done).
TEST_F(Tasks, APriorityZeroJobAddedLastStartsAtTheFirstFreeSlot) {
    ws_client ws(web(), "/api/v1/stream?token=root-secret");
    ws.send(R"({"type": "subscribe", "all": true})");
    ASSERT_EQ(json::parse(*ws.receive()).at("type"), "subscribed");
    std::vector<std::int64_t> low;
    for (int ms : {300, 450, 600, 750, 500, 500}) {
        low.push_back(submit("alice", fmt::format(R"({{"task": "work", "args": {{"ms": {}}}}})", ms)));
    }
    const auto urgent = submit("root", R"({"task": "work", "args": {"ms": 100}, "priority": 0})");
    auto seen = events(ws, [](const auto& s) { return count(s, "finished") == 7; });
    std::vector<std::int64_t> started;
    std::int64_t first_finished = 0;
    for (const auto& m : seen) {
        const auto id = m.at("job").at("id").as_int64();
        if (m.at("event") == "started")
            started.push_back(id);
        if (m.at("event") == "finished" && first_finished == 0 && id != low[0] && id != low[1] &&
            id != low[2] && id != low[3])
            first_finished = id;
    }
    ASSERT_EQ(started.size(), 7u);
    EXPECT_EQ(started[4], urgent) << "the priority-0 job takes the first free slot";
    EXPECT_EQ(first_finished, urgent) << "and, of the jobs that waited, finishes first";
}

TEST_F(Tasks, TwelveJobsOnFourSlotsRunFourAtATime) {
    ws_client ws(web(), "/api/v1/stream?token=root-secret");
    ws.send(R"({"type": "subscribe", "all": true})");
    ASSERT_EQ(json::parse(*ws.receive()).at("type"), "subscribed");
    for (int i = 0; i < 12; ++i) {
        submit("alice", R"({"task": "work", "args": {"ms": 300}})");
    }
    auto seen = events(ws, [](const auto& s) { return count(s, "finished") == 12; });
    EXPECT_EQ(count(seen, "started"), 12u);
    EXPECT_EQ(peak(seen), 4) << "never more than the 4 slots, and all 4 used";
}

TEST_F(Tasks, AGroupLimitHoldsWhileOtherJobsRun) {
    ws_client ws(web(), "/api/v1/stream?token=root-secret");
    ws.send(R"({"type": "subscribe", "all": true})");
    ASSERT_EQ(json::parse(*ws.receive()).at("type"), "subscribed");
    for (int i = 0; i < 3; ++i) {
        submit("alice", R"({"task": "db"})");
    }
    for (int i = 0; i < 3; ++i) {
        submit("alice", R"({"task": "work", "args": {"ms": 100}})");
    }
    auto seen = events(ws, [](const auto& s) { return count(s, "finished") == 6; });
    EXPECT_EQ(peak(seen, "db"), 1) << "group db allows one at a time";
    EXPECT_GE(peak(seen), 2) << "other jobs ran beside it";
}

TEST_F(Tasks, TheQueueCapRefusesWithQueueFullAndDrainHoldsJobs) {
    EXPECT_EQ(post("alice", "/api/v1/queue/drain", "").status, 403u);
    ASSERT_EQ(post("root", "/api/v1/queue/drain", "").status, 200u);
    EXPECT_EQ(get("root", "/healthz").json().at("status"), "draining");
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 20; ++i) {
        ids.push_back(submit("alice", R"({"task": "work", "args": {"ms": 0}})"));
    }
    auto full = post("alice", "/api/v1/jobs", R"({"task": "work", "args": {"ms": 0}})");
    EXPECT_EQ(full.status, 429u);
    EXPECT_NE(full.body.find("queue_full"), std::string::npos) << full.body;
    auto view = get("root", "/api/v1/queue").json().as_object();
    EXPECT_EQ(view.at("queued"), 20);
    EXPECT_EQ(view.at("running"), 0);
    EXPECT_EQ(view.at("draining"), true);
    EXPECT_EQ(view.at("jobs").as_array().size(), 20u);
    // Cancelling a queued job takes it out of the queue.
    EXPECT_EQ(post("alice", "/api/v1/jobs/" + std::to_string(ids[0]) + "/kill", "").status, 202u);
    EXPECT_EQ(get("root", "/api/v1/queue").json().at("queued"), 19);
    ASSERT_EQ(post("root", "/api/v1/queue/resume", "").status, 200u);
    for (std::size_t i = 1; i < ids.size(); ++i) {
        EXPECT_EQ(wait_done("alice", ids[i]).at("state"), "succeeded");
    }
    EXPECT_EQ(wait_done("alice", ids[0]).at("state"), "killed");
}

TEST_F(Tasks, MultiStepTasksReportProgressAndApplyTheirFailurePolicy) {
    ws_client ws(web(), "/api/v1/stream?token=alice-secret");
    ws.send(R"({"type": "subscribe", "all": true})");
    ASSERT_EQ(json::parse(*ws.receive()).at("type"), "subscribed");
    const auto stop = submit("alice", R"({"task": "steps"})");
    auto stopped = wait_done("alice", stop);
    EXPECT_EQ(stopped.at("state"), "failed");
    EXPECT_NE(std::string(stopped.at("reason").as_string()).find("step 2/3 (fail) failed"), std::string::npos)
        << json::serialize(stopped);
    const auto go_on = submit(
        "alice",
        R"({"steps": [{"task": "say", "args": {"text": "1"}}, {"task": "fail"}, {"task": "say", "args": ["2"]}],
            "on_failure": "continue"})");
    auto done = wait_done("alice", go_on);
    EXPECT_EQ(done.at("state"), "succeeded") << json::serialize(done);
    EXPECT_EQ(done.at("result").at("results"), (json::array{1, nullptr, 2}));
    EXPECT_GT(done.at("result").at("duration").as_double(), 0.0);
    auto seen = events(ws, [&](const auto& s) {
        return std::any_of(s.begin(), s.end(), [&](const auto& m) {
            return m.at("event") == "finished" && m.at("job").at("id") == go_on;
        });
    });
    std::vector<double> progress;
    for (const auto& m : seen) {
        if (m.at("job").at("id") == go_on && m.at("status") == "progress")
            progress.push_back(m.at("progress").as_double());
    }
    EXPECT_EQ(progress.size(), 3u);
    EXPECT_DOUBLE_EQ(progress.back(), 1.0);
    const auto& last = seen.back();
    EXPECT_EQ(last.at("status"), "success");
    EXPECT_EQ(last.at("result").at("results").as_array().size(), 3u);
    EXPECT_EQ(post("bob", "/api/v1/jobs", R"({"steps": [{"task": "reboot"}]})").status, 400u);
}

// Who may do what, on every surface: REST, SSE, WebSocket, acons's RPC and the CLI socket.
TEST_F(Tasks, IdleWaitsForAMultiStepJobBetweenItsSteps) {
    // A multi-step job holds no slot of its own, and for a moment after each step nothing is running
    // or queued: "idle" (and so `corral wait --all`) must still count the job whose steps go on.
    for (int round = 0; round < 3; ++round) {
        const auto id = submit("alice",
                               R"({"steps": [{"task": "say", "args": ["1"]}, {"task": "say", "args": ["2"]},
                                   {"task": "say", "args": ["3"]}, {"task": "say", "args": ["4"]},
                                   {"task": "say", "args": ["5"]}, {"task": "say", "args": ["6"]}]})");
        auto idle = get("root", "/api/v1/idle?wait=30").json();
        EXPECT_EQ(idle.at("idle"), true) << json::serialize(idle);
        auto job = get("alice", "/api/v1/jobs/" + std::to_string(id)).json();
        EXPECT_EQ(job.at("state"), "succeeded") << "round " << round << ": " << json::serialize(job);
    }
}

TEST_F(Tasks, RolesAreEnforcedOnEverySurface) {
    EXPECT_EQ(http(web(), "GET", "/api/v1/jobs", {}, {{"Authorization", "Bearer wrong"}}).status, 401u);
    auto anonymous = http(web(), "POST", "/api/v1/jobs", R"({"task": "work", "args": [1]})");
    EXPECT_EQ(anonymous.status, 403u) << "no token: the anonymous role, which may run nothing";
    EXPECT_EQ(post("alice", "/api/v1/jobs", R"({"command": ["true"]})").status, 403u);
    EXPECT_EQ(post("alice", "/api/v1/jobs", R"({"task": "work", "args": [1], "priority": 0})").status, 403u);
    const auto sams = submit("sam", R"({"command": [")" + fake_child + R"(", "sleep", "50"]})");
    EXPECT_EQ(wait_done("sam", sams).at("priority"), 3) << "the role's priority";

    const auto alices = submit("alice", R"({"task": "work", "args": {"ms": 10000}})");
    const auto path = "/api/v1/jobs/" + std::to_string(alices);
    // Another user's job is "not found" (its existence is not told), whatever is asked of it.
    EXPECT_EQ(get("bob", path).status, 404u);
    EXPECT_EQ(get("bob", path + "/output").status, 404u);
    EXPECT_EQ(post("bob", path + "/kill", "").status, 404u);
    EXPECT_EQ(get("sam", path).status, 200u) << "see_all";
    EXPECT_EQ(post("sam", path + "/kill", "").status, 403u) << "but not kill_all";
    auto bobs_list = get("bob", "/api/v1/jobs").json();
    EXPECT_TRUE(bobs_list.at("jobs").as_array().empty()) << json::serialize(bobs_list);
    EXPECT_EQ(get("sam", "/api/v1/jobs").json().at("jobs").as_array().size(), 2u);

    EXPECT_EQ(http(web(), "GET", "/api/v1/events?job=" + std::to_string(alices) + "&token=bob-secret").status,
              404u);
    ws_client ws(web(), "/api/v1/stream?token=bob-secret");
    ws.send(R"({"type": "subscribe", "job": )" + std::to_string(alices) + "}");
    auto refused = json::parse(*ws.receive()).as_object();
    EXPECT_EQ(refused.at("type"), "error");
    EXPECT_EQ(refused.at("code"), "not_found");
    EXPECT_EQ(std::string(refused.at("message").as_string()), "no job " + std::to_string(alices))
        << "as a job that does not exist";

    auto rpc = post("alice", "/rpc-run", R"({"id": 1, "method": "os_run", "params": {"command": "true"}})");
    EXPECT_NE(rpc.body.find("may not run commands"), std::string::npos) << rpc.body;
    rpc = post("sam", "/rpc-run", R"({"id": 2, "method": "os_run", "params": {"command": "echo hi"}})");
    EXPECT_EQ(rpc.json().at("result").at("output"), "hi\n") << rpc.body;

    // The CLI socket: the peer's uid is the user, with the local role (admin by default).
    address local{0, daemon_.socket_path()};
    EXPECT_EQ(http(local, "POST", path + "/kill", "").status, 202u);
    EXPECT_EQ(wait_done("alice", alices).at("state"), "killed");
}

}  // namespace
}  // namespace corral::test
