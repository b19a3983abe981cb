// acons compatibility at POST /rpc-run, driven as acons's own web page drives it
// (research/seeds-inventory.md §1.2): a long `run` RPC with a job id, `flush_lines` every 0.5 s on
// another connection, and `kill_job` mid-way.
#include <gtest/gtest.h>

#include <iostream>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <boost/json.hpp>

#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

namespace json = boost::json;

class Acons : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(daemon_.ready()) << daemon_.log(); }
    void TearDown() override {
        if (HasFailure())
            std::cerr << "corrald's log:\n" << daemon_.log();
    }
    json::object rpc(const std::string& method, const std::string& params, const std::string& id = "\"a\"") {
        auto r = http({daemon_.port(), {}},
                      "POST",
                      "/rpc-run",
                      R"({"id": )" + id + R"(, "method": ")" + method + R"(", "params": )" + params + "}");
        EXPECT_EQ(r.status, 200u) << r.body;  // acons answers every call with 200
        return r.json().as_object();
    }
    daemon_process daemon_{daemon_process::default_config("[api]\ncors_origin = \"*\"\n")};
};

TEST_F(Acons, RunReturnsExitCodeAndMergedOutputInTheEnvelope) {
    auto reply =
        rpc("run", R"(["echo hi; echo err >&2; printf '\\033[1mbold\\033[0m\\n'", null, false, "J"])");
    EXPECT_EQ(reply.at("jsonrpc"), "2.0");
    EXPECT_EQ(reply.at("id"), "a");
    EXPECT_EQ(reply.at("result").at("exitCode"), 0);
    EXPECT_EQ(reply.at("result").at("output"), "hi\nerr\nbold\n");
    EXPECT_FALSE(reply.at("result").as_object().contains("table"));
    // The seed's names work too.
    EXPECT_EQ(rpc("os_run", R"(["exit 3"])").at("result").at("exitCode"), 3);
    EXPECT_EQ(rpc("get_output", R"(["echo x"])").at("result").at("output"), "x\n");
    EXPECT_EQ(rpc("sync_run", R"(["echo y"])").at("result").at("output"), "y\n");
}

TEST_F(Acons, IsParseAddsTheTableOnSuccessOnly) {
    auto ok = rpc("run", R"(["printf 'NAME  SIZE\na     1\nb     22\n'", null, true])");
    auto table = ok.at("result").at("table").as_array();
    ASSERT_EQ(table.size(), 2u);
    EXPECT_EQ(table[1].at("name"), "b");
    EXPECT_EQ(table[1].at("size"), "22");
    auto failed = rpc("run", R"(["printf 'NAME\na\n'; exit 1", null, true])");
    EXPECT_FALSE(failed.at("result").as_object().contains("table"));
}

TEST_F(Acons, FlushWhileRunningThenKillMidway) {
    // The page: start the long RPC...
    auto running = std::async(std::launch::async, [&] {
        return rpc(
            "run",
            R"(["i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done; echo never", null, false, "job1"])",
            "\"long\"");
    });
    // ...then flush every 0.5 s, killing after the third flush.
    std::vector<std::string> lines;
    for (int flush = 0; flush < 3; ++flush) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        auto reply = rpc("flush_lines", R"(["job1"])");
        for (const auto& l : reply.at("result").as_array())
            lines.emplace_back(l.as_string());
    }
    EXPECT_TRUE(rpc("kill_job", R"(["job1"])").at("result").is_null());
    auto result = running.get();
    EXPECT_EQ(result.at("id"), "long");
    EXPECT_EQ(result.at("result").at("exitCode"), -15);  // -SIGTERM, as Python reports it (acons said null)
    ASSERT_GE(lines.size(), 5u);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i], "tick " + std::to_string(i));  // whole lines, in order, none repeated
    }
    // The lines flushed after the kill are the rest, then nothing.
    auto rest = rpc("flush_lines", R"(["job1"])").at("result").as_array();
    EXPECT_TRUE(rpc("flush_lines", R"(["job1"])").at("result").as_array().empty());
    const std::string output(result.at("result").at("output").as_string());
    EXPECT_EQ(output.find("never"), std::string::npos);
    EXPECT_NE(output.find("tick " + std::to_string(lines.size() + rest.size() - 1) + "\n"),
              std::string::npos);
}

TEST_F(Acons, KillTakesTheWholeTree) {
    auto running = std::async(std::launch::async, [&] {
        return rpc(
            "run",
            R"(["sleep 30 & echo $! > )" + daemon_.state_dir() + R"(/child; wait", null, false, "tree"])");
    });
    const auto pid_file = daemon_.state_dir() + "/child";
    for (int i = 0; i < 200 && !std::filesystem::exists(pid_file); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    rpc("kill_job", R"(["tree"])");
    EXPECT_LT(running.get().at("result").at("exitCode").as_int64(), 0);
    std::ifstream in(pid_file);
    pid_t child = 0;
    in >> child;
    ASSERT_GT(child, 0);
    EXPECT_TRUE(gone_within(child)) << "the shell's child survived the kill";
}

TEST_F(Acons, RunDirIsPerJobAndNeverMovesTheDaemon) {
    EXPECT_EQ(rpc("run", R"(["pwd", "/tmp"])").at("result").at("output"), "/tmp\n");
    auto plain = rpc("run", R"(["pwd"])").at("result").at("output");
    EXPECT_NE(plain, "/tmp\n");
    auto missing = rpc("run", R"(["pwd", "/no/such/dir"])");
    EXPECT_EQ(missing.at("error").at("code"), -1);
}

TEST_F(Acons, HelpersAndErrorsMatchAcons) {
    EXPECT_EQ(rpc("escape_ansi", R"(["\u001b[1mbold\u001b[0m"])").at("result"), "bold");
    auto table = rpc("parse_output_table", R"(["PID  CMD\n1    init\n"])").at("result").as_array();
    ASSERT_EQ(table.size(), 1u);
    EXPECT_EQ(table[0].at("cmd"), "init");
    EXPECT_TRUE(rpc("flush_lines", R"(["never-started"])").at("result").as_array().empty());
    EXPECT_EQ(rpc("nosuch", "[]").at("error").at("message"), "rpc-run nosuch is not found");
    EXPECT_EQ(rpc("run", "[]").at("error").at("message"),
              "run() missing 1 required positional argument: 'command'");
    // Only acons's own functions exist: nothing else can be called.
    EXPECT_EQ(rpc("__import__", R"(["os"])").at("error").at("code"), -1);
    auto not_object = http({daemon_.port(), {}}, "POST", "/rpc-run", "[1,2]");
    EXPECT_EQ(not_object.status, 422u);
    auto bad_json = http({daemon_.port(), {}}, "POST", "/rpc-run", "{");
    EXPECT_EQ(bad_json.status, 400u);
}

TEST_F(Acons, CorsHeaderIsSentWhenConfigured) {
    auto r = http(
        {daemon_.port(), {}}, "POST", "/rpc-run", R"({"id": 1, "method": "escape_ansi", "params": ["x"]})");
    EXPECT_EQ(r.headers["access-control-allow-origin"], "*");
    auto preflight = http({daemon_.port(), {}}, "OPTIONS", "/rpc-run");
    EXPECT_EQ(preflight.status, 204u);
    EXPECT_NE(preflight.headers["access-control-allow-methods"].find("POST"), std::string::npos);
}

}  // namespace
}  // namespace corral::test
