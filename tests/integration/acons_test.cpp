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
        auto r = http(acons_page(),
                      "POST",
                      "/rpc-run",
                      R"({"id": )" + id + R"(, "method": ")" + method + R"(", "params": )" + params + "}");
        EXPECT_EQ(r.status, 200u) << r.body;  // acons answers every call with 200
        return r.json().as_object();
    }
    /// acons's page and clients send no token: the one-line opt-in of docs/protocol.md lets them in.
    address acons_page() const { return {daemon_.port(), {}, {}}; }
    daemon_process daemon_{daemon_process::default_config(
        "[auth]\nanonymous_role = \"admin\"\n[api]\ncors_origins = [\"http://127.0.0.1:5200\"]\n")};
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
    // ...then flush, as the page does, until five lines have come, and kill.
    std::vector<std::string> lines;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (lines.size() < 5) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "only " << lines.size() << " lines in 30 s";
        auto reply = rpc("flush_lines", R"(["job1"])");
        for (const auto& l : reply.at("result").as_array())
            lines.emplace_back(l.as_string());
        if (lines.size() < 5)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the next poll, not a guess
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
    pid_t child = 0;  // once the shell has written its child's pid whole (a line)
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
         child == 0 && std::chrono::steady_clock::now() < until;
         std::this_thread::sleep_for(std::chrono::milliseconds(5))) {
        std::ifstream in(pid_file);
        std::string line;
        if (std::getline(in, line) && !in.eof()) {
            child = static_cast<pid_t>(std::stol(line));
        }
    }
    ASSERT_GT(child, 0) << "the job did not write its child's pid within 20 s";
    rpc("kill_job", R"(["tree"])");
    EXPECT_LT(running.get().at("result").at("exitCode").as_int64(), 0);
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
    auto not_object = http(acons_page(), "POST", "/rpc-run", "[1,2]");
    EXPECT_EQ(not_object.status, 422u);
    auto bad_json = http(acons_page(), "POST", "/rpc-run", "{");
    EXPECT_EQ(bad_json.status, 400u);
}

TEST(AconsLimits, RepliesCarryBoundedOutput) {
    daemon_process d(
        daemon_process::default_config("[auth]\nanonymous_role = \"admin\"\n[api]\nacons_max_output = "
                                       "\"1KiB\"\nacons_max_flush = \"1KiB\"\n"));
    ASSERT_TRUE(d.ready()) << d.log();
    auto call = [&](const std::string& body) {
        auto r = http({d.port(), {}, {}}, "POST", "/rpc-run", body);
        EXPECT_EQ(r.status, 200u) << r.body;
        return r.json().as_object();
    };
    // 100 lines of 64 bytes: run's reply has the last KiB and says where the rest is.
    auto run = call(
        R"({"id": 1, "method": "run", "params": ["i=0; while [ $i -lt 100 ]; do printf '%063d\n' $i; i=$((i+1)); done", null, false, "big"]})");
    const std::string output(run.at("result").at("output").as_string());
    EXPECT_NE(output.find("[corral: the first 5376 bytes of output are not in this reply"), std::string::npos)
        << output.substr(0, 200);
    EXPECT_NE(output.find(std::string(61, '0') + "99\n"), std::string::npos);
    EXPECT_EQ(output.find(std::string(62, '0') + "0\n"), std::string::npos) << "the first line is not in it";
    // flush_lines hands the backlog over a KiB at a time, never losing or repeating a line.
    std::vector<std::string> lines;
    for (int calls = 0; calls < 100; ++calls) {
        auto flushed =
            call(R"({"id": 2, "method": "flush_lines", "params": ["big"]})").at("result").as_array();
        if (flushed.empty()) {
            break;
        }
        EXPECT_LE(flushed.size(), 17u) << "about a KiB of 64-byte lines per call";
        for (const auto& l : flushed) {
            lines.emplace_back(l.as_string());
        }
    }
    ASSERT_EQ(lines.size(), 100u);
    EXPECT_EQ(lines.front(), std::string(63, '0'));
    EXPECT_EQ(lines.back(), std::string(61, '0') + "99");
}

TEST_F(Acons, CorsHeadersGoOnlyToTheConfiguredOrigins) {
    const std::string call = R"({"id": 1, "method": "escape_ansi", "params": ["x"]})";
    auto r = http(acons_page(), "POST", "/rpc-run", call, {{"Origin", "http://127.0.0.1:5200"}});
    EXPECT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.headers["access-control-allow-origin"], "http://127.0.0.1:5200");
    auto preflight = http(acons_page(),
                          "OPTIONS",
                          "/rpc-run",
                          {},
                          {{"Origin", "http://127.0.0.1:5200"}, {"Access-Control-Request-Method", "POST"}});
    EXPECT_EQ(preflight.status, 204u);
    EXPECT_NE(preflight.headers["access-control-allow-methods"].find("POST"), std::string::npos);
    EXPECT_NE(preflight.headers["access-control-allow-headers"].find("Authorization"), std::string::npos);
    // Any other site's page: refused before the call is even read, preflight or not.
    auto foreign = http(acons_page(), "POST", "/rpc-run", call, {{"Origin", "http://evil.example"}});
    EXPECT_EQ(foreign.status, 403u) << foreign.body;
    EXPECT_FALSE(foreign.headers.count("access-control-allow-origin"));
    auto foreign_preflight =
        http(acons_page(), "OPTIONS", "/rpc-run", {}, {{"Origin", "http://evil.example"}});
    EXPECT_EQ(foreign_preflight.status, 403u);
    // acons's own page sends JSON; a text/plain body (what a no-cors fetch can send) is refused.
    auto text = http(acons_page(), "POST", "/rpc-run", call, {{"Content-Type", "text/plain"}});
    EXPECT_EQ(text.status, 415u) << text.body;
}

}  // namespace
}  // namespace corral::test
