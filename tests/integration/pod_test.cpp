// corrald as a pod: config validation, environment overrides, graceful and forced shutdown.
#include <gtest/gtest.h>

#include <csignal>
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
const std::string corrald = CORRALD_PATH;
const std::string fc = "\"" + std::string(FAKE_CHILD_PATH) + "\"";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

json::object service_named(const daemon_process& d, const std::string& name) {
    auto r = http(d.local(), "GET", "/api/v1/services/" + name);
    return r.status == 200 ? r.json().as_object() : json::object{};
}

bool becomes(const daemon_process& d, const std::string& name, const std::string& state) {
    for (int i = 0; i < 1000; ++i) {
        auto s = service_named(d, name);
        if (s.contains("state") && s.at("state").as_string() == state) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}


program_result check_config(const std::string& text, const std::map<std::string, std::string>& env = {}) {
    auto dir = std::filesystem::temp_directory_path() / ("corral-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    { std::ofstream(dir / "c.toml") << text; }
    auto r = run_program({corrald, "check", "-c", (dir / "c.toml").string()}, env);
    std::filesystem::remove_all(dir);
    return r;
}

TEST(PodConfig, EveryProblemIsReportedAtOnceWithItsKeyAndLine) {
    auto r = check_config(
        "[jobs]\nconcurrency = \"many\"\nbogus = 1\n[pod]\nstop_wait = \"soon\"\n"
        "[[http]]\nlisten = \"nowhere\"\n[extra]\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find(":2: jobs.concurrency: expected a whole number"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(":3: jobs.bogus: unknown key"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(":5: pod.stop_wait:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(":7: http[1].listen:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("extra: unknown section"), std::string::npos) << r.err;
}

TEST(PodConfig, SyntaxErrorsNameTheLine) {
    auto r = check_config("[jobs\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find(":1:"), std::string::npos) << r.err;
}

TEST(PodConfig, DefaultsAndEnvironmentOverrides) {
    auto r = check_config(
        "", {{"CORRAL_WEB__LISTEN", "127.0.0.1:9999"}, {"CORRAL_POD__STATE_DIR", "/tmp/somewhere"}});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("1 store: SQLite /tmp/somewhere/corral.db (sync normal)"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("4 web: 127.0.0.1:9999"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("5 cli: unix:/tmp/somewhere/corral.sock"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("6 console: the console on unix:/tmp/somewhere/console.sock"), std::string::npos) << r.out;
    auto moved = check_config("", {{"CORRAL_CONSOLE__LISTEN", "127.0.0.1:8471"}});
    EXPECT_NE(moved.out.find("6 console: the console on 127.0.0.1:8471"), std::string::npos) << moved.out;
    auto memory = check_config("[store]\nbackend = \"memory\"\n", {{"CORRAL_STORE__SYNC", "full"}});
    EXPECT_EQ(memory.status, 0) << memory.err;
    EXPECT_NE(memory.out.find("store: memory only"), std::string::npos) << memory.out;
    EXPECT_NE(memory.out.find("1 jobs:"), std::string::npos) << memory.out;
    // ASEXOR's and WAMP's sections and listeners too, by label.
    auto asexor = check_config("[asexor]\n[[asexor.raw]]\nlabel = \"asexor-raw\"\nlisten = \"127.0.0.1:8485\"\n"
                               "[wamp]\n[[wamp.rawsocket]]\nlabel = \"wamp-raw\"\nlisten = \"127.0.0.1:9090\"\n",
                               {{"CORRAL_ASEXOR_RAW__LISTEN", "127.0.0.1:18485"},
                                {"CORRAL_ASEXOR_RAW__DELEGATED", "true"},
                                {"CORRAL_WAMP_RAW__LISTEN", "unix:/tmp/wamp.sock"},
                                {"CORRAL_WAMP__REALM", "elsewhere"}});
    EXPECT_EQ(asexor.status, 0) << asexor.err;
    EXPECT_NE(asexor.out.find("asexor-raw: ASEXOR raw socket on 127.0.0.1:18485, delegated"), std::string::npos) << asexor.out;
    EXPECT_NE(asexor.out.find("wamp-raw: WAMP RawSocket on unix:/tmp/wamp.sock"), std::string::npos) << asexor.out;
    EXPECT_NE(asexor.out.find("wamp: realm elsewhere"), std::string::npos) << asexor.out;
    auto bad = check_config("", {{"CORRAL_NOPE__KEY", "1"}, {"CORRAL_JOBS__CONCURRENCY", "lots"}});
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("CORRAL_NOPE__KEY: no section"), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("jobs.concurrency"), std::string::npos) << bad.err;
}

program_result check_with(const std::vector<std::string>& components) {
    temp_dir dir;
    { std::ofstream(dir.file("c.toml")) << "[pod]\nstate_dir = \"/tmp/corral-cl\"\n"; }
    std::vector<std::string> argv{corrald, "check", "-c", dir.file("c.toml")};
    argv.insert(argv.end(), components.begin(), components.end());
    return run_program(argv);
}

TEST(PodCommandLine, ComponentsComeAfterTheFilesWithTypedValuesAndEscapes) {
    auto r = check_with({"http:label=api2,listen=127.0.0.1:9000,max_connections=5",
                         "console:label=ops,listen=unix:/tmp/a\\,b.sock,prompt=corral> ",
                         "service:name=cache,command=sleep 100,ready_port=6380"});
    EXPECT_EQ(r.status, 0) << r.err;
    // The defaults (web, cli, console) first, then the command line's, in order, numbered on.
    EXPECT_NE(r.out.find("3 services: cache\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("4 web: 127.0.0.1:8470\n5 cli: unix:/tmp/corral-cl/corral.sock\n6 api2: 127.0.0.1:9000\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("7 console: the console on unix:/tmp/corral-cl/console.sock\n"
                         "8 ops: the console on unix:/tmp/a,b.sock\n"),
              std::string::npos)
        << r.out;
    // Values are the component's types: a number where it wants one, else an error naming the argument.
    auto bad = check_with({"http:label=h,listen=127.0.0.1:0,max_connections=many", "ftp:listen=1", "console:listen"});
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("command line: http:label=h,listen=127.0.0.1:0,max_connections=many: http[3].max_connections: "
                           "expected a whole number"),
              std::string::npos)
        << bad.err;
    EXPECT_NE(bad.err.find("'ftp:listen=1': expected KIND:key=value,... where KIND is one of http, console, service"),
              std::string::npos)
        << bad.err;
    EXPECT_NE(bad.err.find("'console:listen': 'listen' is not key=value"), std::string::npos) << bad.err;
    auto kinds = run_program({corrald, "components"});
    EXPECT_EQ(kinds.status, 0);
    EXPECT_NE(kinds.out.find("  service           a long-running process corrald keeps alive"), std::string::npos) << kinds.out;
    EXPECT_NE(kinds.out.find("keys: name, command,"), std::string::npos) << kinds.out;
}

TEST(PodCommandLine, ARealCorraldServesWhatTheCommandLineAdds) {
    daemon_process d(daemon_process::default_config(),
                     {"console:label=extra,listen=unix:@STATE@/extra.sock,banner=added on the command line",
                      "service:name=idle,command=" + fake_child + " sleep 60000"});
    ASSERT_TRUE(d.ready()) << d.log();
    EXPECT_TRUE(d.wait_for_log("service idle: ready")) << d.log();
    EXPECT_NE(d.log().find("(extra) started: " + d.state_dir() + "/extra.sock"), std::string::npos) << d.log();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(), 0);
}

TEST(Pod, FailsWithNonZeroStatusWhenAListenerCannotStart) {
    daemon_process first(daemon_process::default_config());
    ASSERT_TRUE(first.ready());
    daemon_process second("[pod]\nstate_dir = \"@STATE@\"\n[[http]]\nlabel = \"web\"\nlisten = \"127.0.0.1:" +
                          std::to_string(first.port()) + "\"\n");
    EXPECT_FALSE(second.ready());
    EXPECT_EQ(second.wait_exit(), 1);
    EXPECT_NE(second.log().find("corrald exits with status 1: component 4 (web) failed to start: "), std::string::npos)
        << second.log();
}

TEST(Pod, SigtermLetsRunningJobsFinishWithinStopWait) {
    daemon_process d(daemon_process::default_config());
    ASSERT_TRUE(d.ready());
    address web = d.web();
    auto job = http(web,
                    "POST",
                    "/api/v1/jobs",
                    R"({"shell": "sleep 0.5; echo done > )" + d.state_dir() + R"(/marker"})");
    ASSERT_EQ(job.status, 201u);
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(), 0) << d.log();
    EXPECT_TRUE(std::filesystem::exists(d.state_dir() + "/marker"))
        << "the running job was not allowed to finish";
}

TEST(Pod, StopWaitEndsWithStopPlansAndASecondSignalForces) {
    daemon_process d(
        "[pod]\nstate_dir = \"@STATE@\"\nstop_wait = \"300ms\"\n[[http]]\nlabel = \"web\"\nlisten = "
        "\"127.0.0.1:0\"\n");
    ASSERT_TRUE(d.ready());
    address web = d.web();
    auto job = http(web,
                    "POST",
                    "/api/v1/jobs",
                    R"({"command": [")" + fake_child +
                        R"(", "ignore-term", "sleep", "60000"], "stop": "TERM:30s,KILL"})");
    ASSERT_EQ(job.status, 201u);
    const auto pid = started_pid(web, job.json().at("id").as_int64());
    ASSERT_GT(pid, 0);
    d.signal(SIGTERM);
    ASSERT_TRUE(d.wait_for_log("applying stop plans"));
    d.signal(SIGTERM);  // the job ignores TERM with 30 s of grace: the second signal kills it now
    EXPECT_EQ(d.wait_exit(std::chrono::seconds(10)), 130) << d.log();
    EXPECT_TRUE(gone_within(static_cast<pid_t>(pid)));
}

TEST(Pod, SighupReloadsTasksAuthAndServicesAndNamesWhatWaitsForARestart) {
    const auto tokens =
        std::filesystem::temp_directory_path() / ("corral-reload-tokens-" + std::to_string(::getpid()));
    std::ofstream(tokens) << "alice:user:" << auth::hash_token("alice-secret") << "\n";
    auto config = [&](const std::string& concurrency, const std::string& task, const std::string& service) {
        return daemon_process::default_config(
            "[jobs]\nconcurrency = " + concurrency + "\n[auth]\ntokens_file = \"" + tokens.string() +
            "\"\n[auth.roles.user]\ncommands = true\n[auth.roles.admin]\nadmin = true\n"
            "[[task]]\nname = \"" +
            task + "\"\ncommand = [\"echo\", \"" + task +
            "\"]\n"
            "[[service]]\nname = \"kept\"\ncommand = [" +
            fc +
            ", \"sleep\", \"60000\"]\n"
            "[[service]]\nname = \"" +
            service + "\"\ncommand = [" + fc + ", \"sleep\", \"60000\"]\n");
    };
    daemon_process d(config("2", "hello", "old"));
    ASSERT_TRUE(d.ready()) << d.log();
    ASSERT_TRUE(becomes(d, "old", "running")) << d.log();
    ASSERT_TRUE(becomes(d, "kept", "running")) << d.log();
    const auto kept_run = service_named(d, "kept").at("job").as_int64();
    const address alice{d.port(), {}, "alice-secret"};
    const address bob{d.port(), {}, "bob-secret"};
    EXPECT_NE(http(alice, "GET", "/api/v1/tasks").body.find("\"hello\""), std::string::npos);
    EXPECT_EQ(http(bob, "GET", "/api/v1/tasks").status, 401u);

    // The file changes: a task and a service replaced, a token added, and [jobs], which needs a restart.
    std::ofstream(tokens, std::ios::app) << "bob:admin:" << auth::hash_token("bob-secret") << "\n";
    std::ofstream(d.state_dir() + "/corral.toml")
        << replace_all(config("3", "bye", "new"), "@STATE@", d.state_dir());
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_log("reload: reloaded")) << d.log();
    EXPECT_NE(d.log().find("services (1 added: new, 1 removed: old, 0 changed, 1 unchanged)"),
              std::string::npos)
        << d.log();
    EXPECT_NE(d.log().find("tasks (1)"), std::string::npos) << d.log();
    EXPECT_NE(d.log().find("auth (roles: admin"), std::string::npos) << d.log();
    EXPECT_TRUE(d.wait_for_log("reload: changed but not reloaded (a restart applies them): jobs")) << d.log();
    const auto listed = http(bob, "GET", "/api/v1/tasks");
    EXPECT_EQ(listed.status, 200u) << "the new token works at once";
    EXPECT_NE(listed.body.find("\"bye\""), std::string::npos) << listed.body;
    EXPECT_EQ(listed.body.find("\"hello\""), std::string::npos) << listed.body;
    EXPECT_TRUE(becomes(d, "new", "running")) << d.log();
    EXPECT_TRUE(service_named(d, "old").empty()) << "a service gone from the file is removed";
    EXPECT_EQ(service_named(d, "kept").at("job").as_int64(), kept_run)
        << "an unchanged service is left alone";
    auto run = http(bob, "POST", "/api/v1/jobs", R"({"task": "bye"})");
    EXPECT_EQ(run.status, 201u) << run.body;

    // A broken file changes nothing, and says so.
    std::ofstream(d.state_dir() + "/corral.toml") << "[jobs]\nconcurrency = \"many\"\n";
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_log("reload: the configuration is invalid, so the running one stays")) << d.log();
    EXPECT_NE(http(bob, "GET", "/api/v1/tasks").body.find("\"bye\""), std::string::npos);
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(), 0) << d.log();
    std::filesystem::remove(tokens);
}

TEST(Pod, ServicesStopInReverseOrderWithinStopWaitEvenWhenOneIgnoresTerm) {
    daemon_process d("[pod]\nstate_dir = \"@STATE@\"\nstop_wait = \"500ms\"\n"
                     "[[http]]\nlabel = \"cli\"\nlisten = \"unix:@STATE@/corral.sock\"\n"
                     "[[service]]\nname = \"base\"\ncommand = [" + fc + ", \"sleep\", \"60000\"]\n"
                     "[[service]]\nname = \"stubborn\"\nafter = [\"base\"]\nstop = \"TERM:30s,KILL\"\n"
                     "command = [" + fc + ", \"ignore-term\", \"sleep\", \"60000\"]\n");
    ASSERT_TRUE(d.ready()) << d.log();
    ASSERT_TRUE(becomes(d, "stubborn", "running")) << d.log();
    const auto pid = started_pid(d.local(), service_named(d, "stubborn").at("job").as_int64());
    ASSERT_GT(pid, 0);
    const auto asked = std::chrono::steady_clock::now();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(std::chrono::seconds(20)), 0) << d.log();
    // stop_wait, not the 30 s of grace its stop plan would give it.
    EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(10));
    EXPECT_TRUE(gone_within(static_cast<pid_t>(pid)));
    const auto log = d.log();
    EXPECT_LT(log.find("service stubborn: stopping"), log.find("service base: stopping")) << log;
}

}  // namespace
}  // namespace corral::test
