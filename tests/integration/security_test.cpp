// Safe defaults against a real corrald: tokens on TCP, no DNS rebinding, no calls from other sites'
// pages, JSON routes that take JSON only (docs/security.md).
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include <boost/json.hpp>

#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

const std::string corrald = CORRALD_PATH;

class Security : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(daemon_.ready()) << daemon_.log(); }
    void TearDown() override {
        if (HasFailure())
            std::cerr << "corrald's log:\n" << daemon_.log();
    }
    /// The TCP listener without a token.
    address bare() const { return {daemon_.port(), {}, {}}; }
    std::string job_body() const { return R"({"command": [")" + fake_child + R"(", "exit", "0"]})"; }
    std::size_t jobs_seen() {
        auto list = http(daemon_.local(), "GET", "/api/v1/jobs").json();
        return list.at("jobs").as_array().size();
    }

    daemon_process daemon_{daemon_process::default_config("[api]\nserver_names = [\"corral.test\"]\n")};
};

TEST_F(Security, TcpNeedsATokenByDefaultAndTheSocketDoesNot) {
    auto none = http(bare(), "POST", "/api/v1/jobs", job_body());
    EXPECT_EQ(none.status, 401u) << none.body;
    EXPECT_NE(none.body.find("corrald token"), std::string::npos) << "says where the token is: " << none.body;
    EXPECT_EQ(http(bare(), "GET", "/api/v1/jobs").status, 401u);
    EXPECT_EQ(http(bare(), "GET", "/api/v1/jobs", {}, {{"Authorization", "Bearer guessed"}}).status, 401u);
    EXPECT_EQ(http(bare(), "GET", "/healthz").status, 200u) << "health needs no token";
    EXPECT_EQ(jobs_seen(), 0u);

    EXPECT_EQ(http(daemon_.web(), "POST", "/api/v1/jobs", job_body()).status, 201u);
    EXPECT_EQ(http(daemon_.local(), "POST", "/api/v1/jobs", job_body()).status, 201u);
    EXPECT_EQ(jobs_seen(), 2u);
}

TEST_F(Security, TheAdminTokenIsMadeOwnerOnlyAndPrintedByCorraldToken) {
    const auto path = daemon_.state_dir() + "/admin.token";
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(daemon_.admin_token().size(), 64u);
    const std::string config = daemon_.state_dir() + "/corral.toml";
    auto printed = run_program({corrald, "token", "-c", config});
    EXPECT_EQ(printed.status, 0) << printed.err;
    EXPECT_EQ(printed.out, daemon_.admin_token() + "\n");
}

TEST_F(Security, ARotatedTokenStopsWorkingAtOnce) {
    const auto old_token = daemon_.admin_token();
    ASSERT_EQ(http(daemon_.web(), "GET", "/api/v1/jobs").status, 200u);
    auto rotated = run_program({corrald, "token", "--rotate", "-c", daemon_.state_dir() + "/corral.toml"});
    ASSERT_EQ(rotated.status, 0) << rotated.err;
    const auto new_token = daemon_.admin_token();
    EXPECT_EQ(rotated.out, new_token + "\n");
    EXPECT_NE(new_token, old_token);
    address old_address{daemon_.port(), {}, old_token};
    EXPECT_EQ(http(old_address, "GET", "/api/v1/jobs").status, 401u)
        << "the running corrald re-read the file";
    EXPECT_EQ(http(daemon_.web(), "GET", "/api/v1/jobs").status, 200u);
}

TEST_F(Security, AHostThatNamesAnotherServerIsRefused) {
    // A DNS-rebinding page reaches 127.0.0.1 under its own name, and the browser sends that name.
    auto rebound =
        http(daemon_.web(), "POST", "/api/v1/jobs", job_body(), {{"Host", "attacker.example:8470"}});
    EXPECT_EQ(rebound.status, 421u) << rebound.body;
    EXPECT_EQ(rebound.json().at("error").at("code"), "misdirected_request");
    EXPECT_EQ(http(daemon_.web(), "GET", "/healthz", {}, {{"Host", "attacker.example"}}).status, 421u);
    EXPECT_EQ(jobs_seen(), 0u);
    // Its own address, localhost and the configured server names are fine, with or without a port.
    const std::vector<std::string> hosts{"127.0.0.1",
                                         "127.0.0.1:" + std::to_string(daemon_.port()),
                                         "localhost:1",
                                         "LOCALHOST",
                                         "corral.test"};
    for (const auto& host : hosts) {
        EXPECT_EQ(http(daemon_.web(), "GET", "/api/v1/jobs", {}, {{"Host", host}}).status, 200u) << host;
    }
    EXPECT_EQ(http(daemon_.web(), "GET", "/healthz", {}, {{"Host", "a b"}}).status, 400u);
}

TEST_F(Security, AForeignOriginChangesNothing) {
    const std::map<std::string, std::string> foreign{{"Origin", "http://127.0.0.2:8000"}};
    EXPECT_EQ(http(daemon_.web(), "POST", "/api/v1/jobs", job_body(), foreign).status, 403u);
    EXPECT_EQ(http(daemon_.web(), "POST", "/api/v1/queue/drain", {}, foreign).status, 403u);
    EXPECT_EQ(http(daemon_.web(), "GET", "/api/v1/jobs", {}, foreign).status, 403u);
    EXPECT_EQ(http(daemon_.web(), "GET", "/api/v1/jobs", {}, {{"Origin", "null"}}).status, 403u);
    EXPECT_THROW(ws_client(daemon_.web(), "/api/v1/stream", foreign), std::exception);
    EXPECT_NO_THROW(ws_client(daemon_.web(), "/api/v1/stream"))
        << "a WebSocket client that is no page connects";
    EXPECT_EQ(jobs_seen(), 0u);
    EXPECT_FALSE(http(daemon_.local(), "GET", "/api/v1/queue").json().at("draining").as_bool());
    // corrald's own origin (a page it served) is fine.
    const std::map<std::string, std::string> own{
        {"Origin", "http://127.0.0.1:" + std::to_string(daemon_.port())},
        {"Host", "127.0.0.1:" + std::to_string(daemon_.port())}};
    EXPECT_EQ(http(daemon_.web(), "POST", "/api/v1/jobs", job_body(), own).status, 201u);
}

TEST_F(Security, JsonRoutesTakeJsonOnly) {
    const std::map<std::string, std::string> text{{"Content-Type", "text/plain"}};
    auto plain = http(daemon_.web(), "POST", "/api/v1/jobs", job_body(), text);
    EXPECT_EQ(plain.status, 415u) << plain.body;
    EXPECT_NE(plain.body.find("application/json"), std::string::npos) << plain.body;
    EXPECT_EQ(http(daemon_.web(), "POST", "/api/v1/jobs", job_body(), {{"Content-Type", ""}}).status, 415u);
    EXPECT_EQ(
        http(daemon_.web(), "POST", "/api/v1/jobs/batch", R"({"jobs": [)" + job_body() + "]}", text).status,
        415u);
    EXPECT_EQ(jobs_seen(), 0u);
    EXPECT_EQ(http(daemon_.web(),
                   "POST",
                   "/api/v1/jobs",
                   job_body(),
                   {{"Content-Type", "application/json; charset=utf-8"}})
                  .status,
              201u);
    // A job's stdin takes bytes, not JSON or a form.
    auto job = http(daemon_.web(),
                    "POST",
                    "/api/v1/jobs",
                    R"({"command": [")" + fake_child + R"(", "echo"], "stdin": "pipe"})");
    const auto id = std::to_string(job.json().at("id").as_int64());
    EXPECT_EQ(http(daemon_.web(),
                   "POST",
                   "/api/v1/jobs/" + id + "/stdin",
                   "a=b",
                   {{"Content-Type", "application/x-www-form-urlencoded"}})
                  .status,
              415u);
    EXPECT_EQ(http(daemon_.web(), "POST", "/api/v1/jobs/" + id + "/stdin?close=true", "hi\n").status, 200u);
}

TEST(SecurityConfig, TheAnonymousRoleIsAnExplicitOptIn) {
    daemon_process d(daemon_process::default_config("[auth]\nanonymous_role = \"user\"\n"));
    ASSERT_TRUE(d.ready()) << d.log();
    address bare{d.port(), {}, {}};
    auto r = http(bare, "POST", "/api/v1/jobs", R"({"command": [")" + fake_child + R"(", "exit", "0"]})");
    EXPECT_EQ(r.status, 201u) << r.body;
    EXPECT_EQ(r.json().at("owner"), "anonymous");
    // Still no drive-by calls from other sites.
    EXPECT_EQ(http(bare, "GET", "/api/v1/jobs", {}, {{"Origin", "http://evil.example"}}).status, 403u);
}

TEST(SecurityConfig, AnEmptyLocalRoleAndAWildcardOriginAreRefused) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("corral-security-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = (dir / "corral.toml").string();
    std::ofstream(file) << "[pod]\nstate_dir = \"" << dir.string()
                        << "\"\n[api]\ncors_origins = [\"*\", \"http://ok.example\"]\ncors_origin = \"*\"\n";
    auto r = run_program({corrald, "check", "-c", file});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("api.cors_origins: \"*\" would let every web page"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("api.cors_origin: replaced by cors_origins"), std::string::npos) << r.err;
    // An empty local role would leave a socket peer with no role at all (corrald crashed on it).
    std::ofstream(file) << "[pod]\nstate_dir = \"" << dir.string() << "\"\n[auth]\nlocal_role = \"\"\n";
    r = run_program({corrald, "check", "-c", file});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("auth.local_role: must name a role"), std::string::npos) << r.err;
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace corral::test
