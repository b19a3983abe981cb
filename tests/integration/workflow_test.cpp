// Job workflows against a real corrald: dependencies and retries over REST, finish hooks that run a
// command and POST to a real HTTP server on loopback, their defaults from the config, and the CLI's
// `submit --after/--retry/--each` and `wait` on many jobs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

namespace json = boost::json;
const std::string cli = CORRAL_CLI_PATH;

/// A webhook receiver: a real HTTP server on 127.0.0.1 that answers every POST with `status` and
/// keeps what it was sent.
class hook_receiver {
  public:
    explicit hook_receiver(unsigned status) : status_(status) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 16) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            throw std::runtime_error("hook_receiver: cannot listen");
        }
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~hook_receiver() {
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
    std::vector<std::string> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    bool wait_for(std::size_t n) {
        for (int i = 0; i < 1000; ++i) {
            if (requests().size() >= n) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

  private:
    void serve() {
        for (;;) {
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) {
                return;
            }
            std::string in;
            char buf[4096];
            for (;;) {
                const auto head_end = in.find("\r\n\r\n");
                if (head_end != std::string::npos) {
                    auto at = in.find("Content-Length: ");
                    const auto length = at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
                    if (in.size() >= head_end + 4 + length) {
                        break;
                    }
                }
                const auto n = ::read(c, buf, sizeof buf);
                if (n <= 0) {
                    break;
                }
                in.append(buf, static_cast<std::size_t>(n));
            }
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(in);
            }
            const auto reply = "HTTP/1.1 " + std::to_string(status_) + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            (void)!::write(c, reply.data(), reply.size());
            ::close(c);
        }
    }
    unsigned status_;
    int fd_ = -1;
    unsigned short port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::string> requests_;
};

class Workflow : public ::testing::Test {
  protected:
    explicit Workflow(const std::string& extra = "[jobs]\nconcurrency = 4\n")
        : daemon_(daemon_process::default_config(extra)) {}
    void SetUp() override { ASSERT_TRUE(daemon_.ready()) << daemon_.log(); }
    void TearDown() override {
        if (HasFailure())
            std::cerr << "corrald's log:\n" << daemon_.log();
    }
    address web() const { return daemon_.web(); }
    long long submit(const std::string& body) {
        auto r = http(web(), "POST", "/api/v1/jobs", body);
        EXPECT_EQ(r.status, 201u) << r.body;
        return r.status == 201 ? r.json().at("id").as_int64() : 0;
    }
    json::object wait_done(long long id) {
        return http(web(), "GET", "/api/v1/jobs/" + std::to_string(id) + "/wait?timeout=30").json().as_object();
    }
    std::vector<json::object> audit_of(long long id) {
        std::vector<json::object> out;
        const auto page = http(web(), "GET", "/api/v1/audit?job=" + std::to_string(id)).json();
        for (const auto& e : page.at("entries").as_array()) {
            out.push_back(e.as_object());
        }
        return out;
    }
    /// Waits for an audit entry of `action` about job `id` (hooks run after the job's end).
    std::optional<json::object> audited(long long id, const std::string& action) {
        for (int i = 0; i < 500; ++i) {
            for (auto& e : audit_of(id)) {
                if (e.at("action").as_string() == action) {
                    return e;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return std::nullopt;
    }
    program_result corral(std::vector<std::string> args, const std::string& input = {}) {
        args.insert(args.begin(), cli);
        return run_program(args, {{"CORRAL_SOCKET", daemon_.socket_path()}}, input);
    }
    std::string command(const std::vector<std::string>& args) {
        json::array argv{json::value(fake_child)};
        for (const auto& a : args) {
            argv.emplace_back(a);
        }
        return json::serialize(argv);
    }
    daemon_process daemon_;
};

TEST_F(Workflow, TheRestApiShowsTheChainTheAttemptsAndEachAttemptsOutput) {
    const auto head = submit(R"({"command": )" + command({"sleep", "200", "print", "head"}) + "}");
    const auto next = submit(R"({"command": )" + command({"print", "next"}) + R"(, "after": ")" + std::to_string(head) + "\"}");
    const auto flaky = submit(R"({"command": )" + command({"print", "try", "exit", "1"}) +
                              R"(, "retry": {"attempts": 2, "backoff": "50ms"}, "after_any": [)" + std::to_string(head) + "]}");
    auto waiting = http(web(), "GET", "/api/v1/jobs/" + std::to_string(next)).json();
    EXPECT_EQ(waiting.at("state"), "waiting") << waiting;
    EXPECT_EQ(waiting.at("after"), (json::array{head}));
    auto done = wait_done(next);
    EXPECT_EQ(done.at("state"), "succeeded") << done;
    auto retried = wait_done(flaky);
    EXPECT_EQ(retried.at("state"), "failed");
    EXPECT_EQ(retried.at("attempt"), 2);
    ASSERT_EQ(retried.at("attempts").as_array().size(), 1u);
    EXPECT_EQ(retried.at("after_any"), (json::array{head}));
    const auto base = "/api/v1/jobs/" + std::to_string(flaky) + "/output?format=raw&attempt=";
    for (const char* k : {"1", "2"}) {
        auto out = http(web(), "GET", base + k);
        EXPECT_EQ(out.status, 200u);
        EXPECT_EQ(out.body, "try\n") << "attempt " << k;
        EXPECT_EQ(out.headers["x-corral-eof"], "true");
    }
    EXPECT_EQ(http(web(), "GET", "/api/v1/jobs/" + std::to_string(flaky) + "/output?format=raw").body, "try\ntry\n");
    auto beyond = http(web(), "GET", base + "3");
    EXPECT_EQ(beyond.status, 400u);
    EXPECT_NE(beyond.body.find("attempts 1 to 2"), std::string::npos) << beyond.body;
}

TEST_F(Workflow, BadWorkflowFieldsAreRefusedWithTheirNames) {
    for (auto [body, message] : std::initializer_list<std::pair<std::string, std::string>>{
             {R"({"command": ["true"], "after": [999999]})", "there is no job 999999 yet"},
             {R"({"command": ["true"], "after": "1,x"})", "after: 'x' is not a job id"},
             {R"({"command": ["true"], "retry": {"attempts": 0}})", "retry.attempts"},
             {R"({"command": ["true"], "retry": {"attempts": 2, "on": ["killed"]}})", "a kill is never retried"},
             {R"({"command": ["true"], "on_finish": {"url": "gopher://x"}})", "not an http"}}) {
        auto r = http(web(), "POST", "/api/v1/jobs", body);
        EXPECT_EQ(r.status, 400u) << body;
        EXPECT_NE(r.body.find(message), std::string::npos) << body << " → " << r.body;
    }
}

TEST_F(Workflow, FinishHooksRunACommandAndPostTheJobAndAFailingHookChangesNothing) {
    temp_dir dir;
    const auto env_file = (dir.path() / "hook-env").string();
    hook_receiver ok(200);
    hook_receiver failing(503);
    json::object hook{{"command", json::array{"sh", "-c", "echo \"$CORRAL_JOB_ID $CORRAL_JOB_STATE $CORRAL_JOB_EXIT\" > " + env_file}},
                      {"url", ok.url()},
                      {"secret", "s3cret"}};
    const auto id = submit(json::serialize(json::object{{"command", json::parse(command({"exit", "4"}))}, {"on_finish", hook}}));
    EXPECT_EQ(wait_done(id).at("state"), "failed");
    ASSERT_TRUE(ok.wait_for(1));
    const auto request = ok.requests().front();
    EXPECT_NE(request.find("POST /hook HTTP/1.1"), std::string::npos) << request;
    EXPECT_NE(request.find("X-Corral-Secret: s3cret"), std::string::npos) << request;
    const auto body = json::parse(request.substr(request.find("\r\n\r\n") + 4));
    EXPECT_EQ(body.at("id"), id);
    EXPECT_EQ(body.at("state"), "failed");
    ASSERT_TRUE(audited(id, "on_finish"));
    std::string line;
    for (int i = 0; i < 100 && line.empty(); ++i) {
        std::ifstream in(env_file);
        std::getline(in, line);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(line, std::to_string(id) + " failed 4");
    // A hook that keeps failing is tried as often as it says, audited as failed, and the job's own
    // state stays as it ended.
    const auto other = submit(json::serialize(json::object{
        {"command", json::parse(command({"print", "fine"}))},
        {"on_finish", json::object{{"url", failing.url()}, {"attempts", 2}}}}));
    EXPECT_EQ(wait_done(other).at("state"), "succeeded");
    auto failed = audited(other, "on_finish_failed");
    ASSERT_TRUE(failed);
    EXPECT_NE(std::string(failed->at("detail").as_string()).find("failed after 2 tries: answered 503"), std::string::npos)
        << json::serialize(*failed);
    EXPECT_EQ(failing.requests().size(), 2u);
    EXPECT_EQ(http(web(), "GET", "/api/v1/jobs/" + std::to_string(other)).json().at("state"), "succeeded");
}

TEST_F(Workflow, TheCliSubmitsAfterOthersWithRetriesAndManyFromItsInput) {
    auto first = corral({"submit", "--", fake_child, "sleep", "100"});
    ASSERT_EQ(first.status, 0) << first.err;
    const auto head = std::stoll(first.out);
    auto then = corral({"submit", "--after", std::to_string(head), "--retry", "3", "--retry-backoff", "10ms", "--", fake_child, "exit", "2"});
    ASSERT_EQ(then.status, 0) << then.err;
    auto waited = corral({"wait", std::to_string(head), then.out.substr(0, then.out.size() - 1)});
    EXPECT_EQ(waited.status, 2) << "the worst exit status: " << waited.err;
    auto shown = corral({"show", "--json", then.out.substr(0, then.out.size() - 1)});
    auto j = json::parse(shown.out);
    EXPECT_EQ(j.at("attempt"), 3);
    EXPECT_EQ(j.at("after"), (json::array{head}));
    // One job per line, {} replaced, and one wait with a summary of how they ended.
    std::string lines;
    for (int i = 1; i <= 40; ++i) {
        lines += std::to_string(i) + "\n";
    }
    auto each = corral({"submit", "--each", "--wait", "--", fake_child, "print", "line {}", "exit", "0"}, lines);
    EXPECT_EQ(each.status, 0) << each.err;
    EXPECT_NE(each.err.find("40 job(s): 40 succeeded"), std::string::npos) << each.err;
    auto bad = corral({"submit", "--each", "--", fake_child}, "");
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("no input lines"), std::string::npos) << bad.err;
    EXPECT_EQ(corral({"run", "--each", "--", "true"}, "x\n").status, 2);
}

TEST_F(Workflow, SubmitEachTakesTenThousandLinesThroughTheBatchApi) {
    ASSERT_EQ(corral({"queue", "--drain"}).status, 0);  // they stay queued: this is about submitting
    temp_dir dir;
    const auto file = (dir.path() / "lines").string();
    {
        std::ofstream out(file);
        for (int i = 0; i < 10'000; ++i) {
            out << "item-" << i << "\n";
        }
    }
    auto each = corral({"submit", "--each", "--from", file, "--json", "--", "echo", "{}"});
    ASSERT_EQ(each.status, 0) << each.err;
    const auto ids = json::parse(each.out).as_array();
    ASSERT_EQ(ids.size(), 10'000u);
    for (std::size_t i : {0u, 4321u, 9999u}) {
        auto job = http(web(), "GET", "/api/v1/jobs/" + std::to_string(ids[i].as_int64())).json();
        EXPECT_EQ(job.at("command"), (json::array{"echo", "item-" + std::to_string(i)})) << job;
        EXPECT_EQ(job.at("state"), "queued");
    }
    EXPECT_EQ(ids.back().as_int64() - ids.front().as_int64(), 9'999);
}

class WorkflowDefaults : public Workflow {
  protected:
    WorkflowDefaults()
        : Workflow("[jobs]\nconcurrency = 2\non_finish = { command = [\"sh\", \"-c\", \"echo $CORRAL_JOB_ID >> @STATE@/hooked\"] }\n"
                   "[[task]]\nname = \"flaky\"\ncommand = [\"" + fake_child + "\", \"exit\", \"5\"]\n"
                   "retry = { attempts = 3, backoff = \"10ms\" }\n") {}
};

TEST_F(WorkflowDefaults, ATaskRetriesByItsOwnPolicyAndEveryJobGetsTheDefaultHook) {
    auto r = http(web(), "POST", "/api/v1/jobs", R"({"task": "flaky"})");
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto id = r.json().at("id").as_int64();
    auto done = wait_done(id);
    EXPECT_EQ(done.at("state"), "failed");
    EXPECT_EQ(done.at("attempt"), 3) << done;
    // A request's own policy replaces the task's.
    auto once = http(web(), "POST", "/api/v1/jobs", R"({"task": "flaky", "retry": 1})");
    ASSERT_EQ(once.status, 201u) << once.body;
    EXPECT_EQ(wait_done(once.json().at("id").as_int64()).at("attempt"), 1);
    ASSERT_TRUE(audited(id, "on_finish"));
    std::ifstream in(daemon_.state_dir() + "/hooked");
    std::string first;
    std::getline(in, first);
    EXPECT_EQ(first, std::to_string(id)) << "the default hook ran once, after the last attempt";
}

class ScheduleDaemon : public Workflow {
  protected:
    ScheduleDaemon()
        : Workflow("[jobs]\nconcurrency = 2\n[[schedule]]\nname = \"tick\"\nevery = \"1s\"\ncommand = [\"" + fake_child +
                   "\", \"print\", \"tick\"]\n[[schedule]]\nname = \"nightly\"\ncron = \"30 2 * * *\"\ntime_zone = \"Europe/Berlin\"\n"
                   "shell = \"echo nightly\"\n") {}
    std::vector<json::object> ticks() {
        std::vector<json::object> out;
        const auto page = http(web(), "GET", "/api/v1/jobs?label=schedule=tick&limit=1000").json();
        for (const auto& j : page.at("jobs").as_array()) {
            out.push_back(j.as_object());
        }
        return out;
    }
};

TEST_F(ScheduleDaemon, AOneSecondScheduleSubmitsItsJobsAndTheApiAndCliShowWhenTheyComeNext) {
    for (int i = 0; i < 300 && ticks().size() < 2; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto jobs = ticks();
    ASSERT_GE(jobs.size(), 2u);
    EXPECT_EQ(jobs[0].at("owner"), "corral");
    EXPECT_EQ(jobs[0].at("labels").at("schedule"), "tick");
    // One second apart on their grid, as recorded (not timed here).
    EXPECT_LT(std::string(jobs[0].at("created").as_string()), std::string(jobs[1].at("created").as_string()));
    auto list = http(web(), "GET", "/api/v1/schedules").json();
    const auto& all = list.at("schedules").as_array();
    ASSERT_EQ(all.size(), 2u);
    const auto& nightly = all[0].as_object();
    EXPECT_EQ(nightly.at("name"), "nightly");
    EXPECT_EQ(nightly.at("when"), "cron 30 2 * * * (Europe/Berlin)");
    ASSERT_EQ(nightly.at("next_runs").as_array().size(), 3u);
    const std::string first(nightly.at("next_runs").as_array()[0].as_string());
    EXPECT_TRUE(first.ends_with("T01:30:00.000Z") || first.ends_with("T00:30:00.000Z")) << first << ": 02:30 in Berlin";
    // Added and removed at run time, over the API and from the CLI.
    auto added = http(web(), "POST", "/api/v1/schedules", R"({"name": "later", "cron": "@yearly", "time_zone": "UTC", "command": ["true"]})");
    EXPECT_EQ(added.status, 201u) << added.body;
    EXPECT_EQ(http(web(), "POST", "/api/v1/schedules", R"({"name": "later", "every": "1h", "command": ["true"]})").status, 409u);
    auto bad = http(web(), "POST", "/api/v1/schedules", R"({"name": "odd", "cron": "61 * * * *", "command": ["true"]})");
    EXPECT_EQ(bad.status, 400u);
    EXPECT_NE(bad.body.find("minute: '61'"), std::string::npos) << bad.body;
    auto shown = corral({"schedules"});
    EXPECT_EQ(shown.status, 0) << shown.err;
    EXPECT_NE(shown.out.find("later  cron @yearly (UTC)"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("next: " + std::to_string(2027 + (first.starts_with("2027") ? 1 : 0))), std::string::npos) << shown.out;
    auto cli_add = corral({"schedules", "add", "often", "--every", "1h", "--overlap", "queue", "--", fake_child, "print", "x"});
    EXPECT_EQ(cli_add.status, 0) << cli_add.err;
    EXPECT_EQ(corral({"schedules", "rm", "often", "later"}).status, 0);
    auto config_one = corral({"schedules", "rm", "tick"});
    EXPECT_EQ(config_one.status, 1);
    EXPECT_NE(config_one.err.find("is in the config file"), std::string::npos) << config_one.err;
    EXPECT_EQ(http(web(), "DELETE", "/api/v1/schedules/nothing").status, 404u);
}

TEST_F(ScheduleDaemon, SighupTakesTheConfigsNewSchedules) {
    // tick goes, nightly stays, hourly comes; one added at run time stays through the reload.
    ASSERT_EQ(http(web(), "POST", "/api/v1/schedules", R"({"name": "mine", "every": "1h", "command": ["true"]})").status, 201u);
    std::string text = daemon_process::default_config(
        "[jobs]\nconcurrency = 2\n[[schedule]]\nname = \"nightly\"\ncron = \"30 2 * * *\"\ntime_zone = \"Europe/Berlin\"\n"
        "shell = \"echo nightly\"\n[[schedule]]\nname = \"hourly\"\ncron = \"@hourly\"\ncommand = [\"true\"]\n");
    for (auto at = text.find("@STATE@"); at != std::string::npos; at = text.find("@STATE@")) {
        text.replace(at, 7, daemon_.state_dir());
    }
    std::ofstream(daemon_.state_dir() + "/corral.toml") << text;
    daemon_.signal(SIGHUP);
    ASSERT_TRUE(daemon_.wait_for_log("reload: reloaded")) << daemon_.log();
    EXPECT_NE(daemon_.log().find("schedules (1 added: hourly, 1 removed: tick, 0 changed, 1 unchanged)"), std::string::npos)
        << daemon_.log();
    std::vector<std::string> names;
    const auto listed = http(web(), "GET", "/api/v1/schedules").json();  // named: a range-for over a temporary's member dangles
    for (const auto& one : listed.at("schedules").as_array()) {
        names.emplace_back(one.at("name").as_string());
    }
    EXPECT_EQ(names, (std::vector<std::string>{"hourly", "mine", "nightly"}));
    // No tick is submitted after the reload (it fired every second before).
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto before = ticks().size();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_EQ(ticks().size(), before);
}

}  // namespace
}  // namespace corral::test
