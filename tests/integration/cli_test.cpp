// The real `corral` CLI against a real corrald over its Unix socket.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

const std::string cli = CORRAL_CLI_PATH;
const std::string full_client = CORRAL_CLIENT_PATH;

class Cli : public ::testing::Test {
  protected:
    explicit Cli(const std::string& extra_config = {})
        : daemon_(daemon_process::default_config(extra_config)) {}
    void SetUp() override { ASSERT_TRUE(daemon_.ready()) << daemon_.log(); }
    void TearDown() override {
        if (HasFailure())
            std::cerr << "corrald's log:\n" << daemon_.log();
    }
    program_result corral(std::vector<std::string> args, const std::string& input = {}) {
        args.insert(args.begin(), cli);
        return run_program(args, {{"CORRAL_SOCKET", daemon_.socket_path()}}, input);
    }
    daemon_process daemon_;
};

TEST_F(Cli, RunStreamsBothStreamsAndExitsWithTheJobStatus) {
    auto r = corral({"run", "--", fake_child, "print", "to-out", "eprint", "to-err", "exit", "7"});
    EXPECT_EQ(r.status, 7) << r.err;
    EXPECT_EQ(r.out, "to-out\n");
    EXPECT_EQ(r.err, "to-err\n");
    auto killed = corral({"run", "--timeout", "200ms", "--", fake_child, "sleep", "60000"});
    EXPECT_EQ(killed.status, 124);
    auto shell = corral({"run", "-c", "exit 4"});
    EXPECT_EQ(shell.status, 4);
}

// Bytes no two of which 1000 apart are alike within a line: a page sent out of order or twice shows.
std::string numbered_lines(std::size_t bytes) {
    std::string text;
    for (std::size_t i = 0; text.size() < bytes; ++i) {
        text += std::to_string(i * 7919) + std::string(100, static_cast<char>('a' + i % 26)) + "\n";
    }
    return text;
}

TEST_F(Cli, RunPassesLargeOutputWholeIntoAPipeAndIntoAFile) {
    // Past corrald's memory for a job (so pages come from its file, sent with sendfile) and split
    // by a line on stderr; into a pipe the CLI splices the pages through, into a file it copies them.
    temp_dir dir;
    const auto text = numbered_lines(12 << 20);
    std::ofstream(dir.file("big")) << text;  // written and closed at the end of this line
    const auto script = "cat " + dir.file("big") + "; echo middle >&2; cat " + dir.file("big");
    auto piped = corral({"run", "--", "/bin/sh", "-c", script});
    EXPECT_EQ(piped.status, 0) << piped.err;
    EXPECT_EQ(piped.err, "middle\n");
    EXPECT_EQ(piped.out.size(), 2 * text.size());
    EXPECT_TRUE(piped.out == text + text) << "the output came back changed";
    auto to_file =
        run_program({"/bin/sh", "-c", cli + " run -- cat " + dir.file("big") + " > " + dir.file("copy")},
                    {{"CORRAL_SOCKET", daemon_.socket_path()}});
    EXPECT_EQ(to_file.status, 0) << to_file.err;
    std::ifstream copy(dir.file("copy"));
    const std::string copied((std::istreambuf_iterator<char>(copy)), std::istreambuf_iterator<char>());
    EXPECT_EQ(copied.size(), text.size());
    EXPECT_TRUE(copied == text) << "the output came back changed";
}

TEST_F(Cli, SubmitWaitShowAndLs) {
    auto submitted = corral({"submit", "--label", "kind=test", "--", fake_child, "exit", "2"});
    ASSERT_EQ(submitted.status, 0) << submitted.err;
    const auto id = submitted.out.substr(0, submitted.out.find('\n'));
    EXPECT_EQ(corral({"wait", id}).status, 2);
    EXPECT_EQ(corral({"show", id, "--field", "state"}).out, "failed\n");
    auto ls = corral({"ls"});
    EXPECT_NE(ls.out.find("ID"), std::string::npos);
    EXPECT_NE(ls.out.find("failed"), std::string::npos);
    auto json = boost::json::parse(corral({"ls", "--json", "--state", "failed"}).out);
    ASSERT_EQ(json.as_array().size(), 1u);
    EXPECT_EQ(json.as_array()[0].at("labels").at("kind"), "test");
}

TEST_F(Cli, ServicesAreAddedWithTypedKeysAndRemoved) {
    // Everything after the name is the command, its own options included.
    auto added = corral({"svc", "add", "ticker", "--set", "restart=always", "--set", R"(ready_line="^tick")", "--",
                         fake_child, "print", "tick", "sleep", "60000"});
    ASSERT_EQ(added.status, 0) << added.err;
    EXPECT_NE(added.out.find("ticker: added"), std::string::npos) << added.out;
    std::string state;
    for (int i = 0; i < 500 && state != "running"; ++i) {
        auto shown = boost::json::parse(corral({"svc", "show", "ticker", "--json"}).out);
        state = std::string(shown.at("state").as_string());
        EXPECT_EQ(shown.at("restart"), "always");
        EXPECT_EQ(shown.at("ready"), "line");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(state, "running");
    auto again = corral({"svc", "add", "ticker", "--", "true"});
    EXPECT_NE(again.status, 0);
    EXPECT_NE(again.err.find("a service named 'ticker' exists"), std::string::npos) << again.err;
    auto bad = corral({"svc", "add", "odd", "--set", "restart=sometimes", "--", "true"});
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.err.find("restart: expected one of"), std::string::npos) << bad.err;
    EXPECT_NE(corral({"svc", "add", "odd", "--set", "nonsense", "--", "true"}).status, 0);
    auto removed = corral({"svc", "rm", "ticker"});
    EXPECT_EQ(removed.status, 0) << removed.err;
    EXPECT_NE(corral({"svc", "ls"}).out.find("no services"), std::string::npos);
}

TEST_F(Cli, ConnectionOptionsMayComeBeforeTheCommand) {
    auto before =
        run_program({cli, "--socket", daemon_.socket_path(), "submit", "--", fake_child, "exit", "3"});
    ASSERT_EQ(before.status, 0) << before.err;
    const auto id = before.out.substr(0, before.out.find('\n'));
    const auto token_file = daemon_.state_dir() + "/admin.token";
    auto after = run_program({cli,
                              "wait",
                              id,
                              "--url",
                              "http://127.0.0.1:" + std::to_string(daemon_.port()),
                              "--token-file",
                              token_file});
    EXPECT_EQ(after.status, 3) << after.err;
    auto joined = run_program({cli,
                               "--url=http://127.0.0.1:" + std::to_string(daemon_.port()),
                               "--token-file=" + token_file,
                               "show",
                               id,
                               "--field",
                               "state"});
    EXPECT_EQ(joined.out, "failed\n") << joined.err;
    // Over TCP without a token the CLI says what is missing.
    auto refused = run_program({cli, "--url=http://127.0.0.1:" + std::to_string(daemon_.port()), "show", id},
                               {{"CORRAL_TOKEN", ""}});
    EXPECT_EQ(refused.status, 125);
    EXPECT_NE(refused.err.find("corrald token"), std::string::npos) << refused.err;
}

TEST_F(Cli, TailFollowsAndKillStopsTheTree) {
    auto submitted = corral({"submit", "-c", "echo started; sleep 60"});
    const auto id = submitted.out.substr(0, submitted.out.find('\n'));
    auto tail = corral({"tail", id});
    // A plain tail prints what there is now; give the job a moment to print its first line.
    for (int i = 0; i < 100 && tail.out.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        tail = corral({"tail", id});
    }
    EXPECT_EQ(tail.out, "started\n");
    EXPECT_EQ(corral({"kill", id}).status, 0);
    auto followed = corral({"tail", "-f", id});  // returns because the job ends
    EXPECT_EQ(followed.out, "started\n");
    EXPECT_EQ(corral({"show", id, "--field", "state"}).out, "killed\n");
    EXPECT_EQ(corral({"kill", id}).status, 1);  // already finished: says so
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Starts `corral run ARGS…` in the background, its stdout and stderr in `dir`'s "out" and "err", and
/// waits (up to 10 s) until its job has printed "started".
pid_t started_run(const std::string& socket_path, std::vector<std::string> argv, const test::temp_dir& dir) {
    const auto out = dir.file("out");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, dir.file("err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    argv.insert(argv.begin(), {cli, "run"});
    std::vector<char*> args;
    for (auto& a : argv) {
        args.push_back(a.data());
    }
    args.push_back(nullptr);
    std::string socket = "CORRAL_SOCKET=" + socket_path;
    std::vector<char*> env{socket.data(), nullptr};
    pid_t pid = -1;
    EXPECT_EQ(posix_spawn(&pid, cli.c_str(), &fa, nullptr, args.data(), env.data()), 0);
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 500 && slurp(out) != "started\n"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(slurp(out), "started\n") << slurp(dir.file("err"));
    return pid;
}

/// The exit status of `pid` (128 + the signal that ended it), or -1 when it did not end within 10 s (it
/// is killed then).
int exit_status_within_10s(pid_t pid) {
    int status = 0;
    for (int i = 0; i < 500; ++i) {
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
}

/// `corral run --on-interrupt POLICY` of a job that prints "started" and sleeps: Ctrl-C once it has
/// printed. Returns its exit status, or -1 when it did not end within 10 s (it is killed then).
int interrupted_run(const std::string& socket_path, const std::string& policy, const test::temp_dir& dir) {
    const pid_t pid = started_run(
        socket_path, {"--on-interrupt", policy, "--", fake_child, "print", "started", "sleep", "60000"}, dir);
    ::kill(pid, SIGINT);
    return exit_status_within_10s(pid);
}

TEST_F(Cli, RunEndsWithAClearErrorWhenCorraldDiesUnderIt) {
    // Asio's `||` waits for the first success: an error in following the output must still end
    // `corral run`, not leave it waiting for a Ctrl-C.
    test::temp_dir dir;
    // (A job that outlives its daemon sleeps on: not for long.)
    const pid_t pid =
        started_run(daemon_.socket_path(), {"--", fake_child, "print", "started", "sleep", "15000"}, dir);
    ASSERT_EQ(slurp(dir.file("out")), "started\n");
    daemon_.signal(SIGKILL);
    const int status = exit_status_within_10s(pid);
    ASSERT_NE(status, -1) << "corral run still waits, 10 s after corrald died";
    EXPECT_EQ(status, 125);
    EXPECT_NE(slurp(dir.file("err")).find("corrald"), std::string::npos) << slurp(dir.file("err"));
}

TEST_F(Cli, CtrlCDuringRunKillsTheJobOnAConnectionOfItsOwn) {
    // `corral run` follows the output with a long-poll; the kill that Ctrl-C sends goes on another
    // connection (on the same one it would be a second request in flight on one socket, answered
    // after the poll).
    test::temp_dir dir;
    const int status = interrupted_run(daemon_.socket_path(), "kill", dir);
    ASSERT_NE(status, -1) << "corral run did not end within 10 s of Ctrl-C: " << slurp(dir.file("err"));
    EXPECT_NE(status, 0);
    auto jobs = boost::json::parse(corral({"ls", "--json"}).out);
    ASSERT_EQ(jobs.as_array().size(), 1u);
    EXPECT_EQ(jobs.as_array()[0].at("state"), "killed") << jobs;
}

TEST_F(Cli, CtrlCDuringRunMayDetachAndLeaveTheJobRunning) {
    // Detached, corral run ends at once: the page of output it had asked for is not waited for.
    test::temp_dir dir;
    const int status = interrupted_run(daemon_.socket_path(), "detach", dir);
    ASSERT_NE(status, -1) << "corral run did not end within 10 s of Ctrl-C: " << slurp(dir.file("err"));
    EXPECT_EQ(status, 0) << slurp(dir.file("err"));
    EXPECT_NE(slurp(dir.file("err")).find("keeps running"), std::string::npos) << slurp(dir.file("err"));
    auto jobs = boost::json::parse(corral({"ls", "--json"}).out);
    ASSERT_EQ(jobs.as_array().size(), 1u);
    EXPECT_EQ(jobs.as_array()[0].at("state"), "running") << jobs;
    EXPECT_EQ(corral({"kill", std::to_string(jobs.as_array()[0].at("id").as_int64())}).status, 0);
}

TEST_F(Cli, StdinIsForwarded) {
    auto submitted = corral({"submit", "--stdin", "pipe", "--", fake_child, "echo"});
    const auto id = submitted.out.substr(0, submitted.out.find('\n'));
    EXPECT_EQ(corral({"stdin", id, "hello", "there"}).status, 0);
    EXPECT_EQ(corral({"stdin", "--close", id}, "piped\n").status, 0);
    EXPECT_EQ(corral({"wait", id}).status, 0);
    EXPECT_EQ(corral({"tail", id}).out, "hello there\npiped\n");
}

TEST_F(Cli, ClearErrors) {
    auto no_daemon = run_program({cli, "ls", "--socket", "/nonexistent/corral.sock"});
    EXPECT_EQ(no_daemon.status, 125);
    EXPECT_NE(no_daemon.err.find("cannot reach corrald"), std::string::npos) << no_daemon.err;
    EXPECT_NE(no_daemon.err.find("corrald run"), std::string::npos) << no_daemon.err;
    EXPECT_EQ(corral({"show", "999"}).status, 1);
    EXPECT_EQ(corral({"show", "abc"}).status, 2);
    EXPECT_EQ(corral({"run"}).status, 2);
    auto bad_env = corral({"run", "--env", "novalue", "--", "true"});
    EXPECT_EQ(bad_env.status, 2);
    EXPECT_NE(bad_env.err.find("NAME=VALUE"), std::string::npos);
    auto help = corral({"run", "--help"});
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.out.find("--on-interrupt"), std::string::npos);
}

// `corral` answers kill, submit and show --field/--json itself (apps/corral/front). With no full
// client to hand anything to, those still work, and they print what corral-client prints and exit as
// it exits.
TEST_F(Cli, TheFrontAnswersOneShotCommandsAsTheFullClientDoes) {
    const std::map<std::string, std::string> alone{{"CORRAL_SOCKET", daemon_.socket_path()},
                                                   {"CORRAL_CLIENT", "/nonexistent/corral-client"}};
    auto front = [&](std::vector<std::string> args) {
        args.insert(args.begin(), cli);
        return run_program(args, alone);
    };
    auto full = [&](std::vector<std::string> args) {
        args.insert(args.begin(), full_client);
        return run_program(args, {{"CORRAL_SOCKET", daemon_.socket_path()}});
    };
    // The front is alone: what it hands on fails, saying what it tried.
    auto handed_on = front({"ls"});
    EXPECT_EQ(handed_on.status, 127);
    EXPECT_NE(
        handed_on.err.find("cannot run the full client (corral-client); tried /nonexistent/corral-client"),
        std::string::npos)
        << handed_on.err;

    const std::string odd = "a \"quoted\" word\twith\\ escapes \u00e9";
    auto submitted = front({"submit", "--", fake_child, "print", odd, "sleep", "60000"});
    ASSERT_EQ(submitted.status, 0) << submitted.err;
    const auto id = submitted.out.substr(0, submitted.out.find('\n'));
    EXPECT_EQ(submitted.out, id + "\n");
    // Running, its one line printed: nothing in its JSON changes from here on.
    std::string state, output;
    for (int i = 0; i < 500 && (state != "running\n" || output.find("\"bytes\":0,") != std::string::npos);
         ++i) {
        state = front({"show", id, "--field", "state"}).out;
        output = front({"show", id, "--field", "output"}).out;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(state, "running\n");
    ASSERT_EQ(output.find("\"bytes\":0,"), std::string::npos) << output;
    EXPECT_EQ(front({"show", "--json", id}).out, full({"show", "--json", id}).out);
    auto job = boost::json::parse(front({"--socket", daemon_.socket_path(), "show", "--json", id}).out);
    EXPECT_EQ(job.at("command"), (boost::json::array{fake_child, "print", odd, "sleep", "60000"})) << job;
    for (const char* field : {"pid", "state", "command", "labels", "exit", "owner"}) {
        const auto f = front({"show", "--field=" + std::string(field), id});
        EXPECT_EQ(f.status, 0) << f.err;
        EXPECT_EQ(f.out, full({"show", id, "--field", field}).out) << field;
    }
    // Errors: the same words and the same exit statuses.
    for (const std::vector<std::string>& args : {std::vector<std::string>{"show", "--field", "nope", id},
                                                 std::vector<std::string>{"show", "--json", "999999"},
                                                 std::vector<std::string>{"kill", "999999"}}) {
        const auto f = front(args);
        const auto c = full(args);
        EXPECT_EQ(f.status, c.status) << args[0];
        EXPECT_EQ(f.err, c.err) << args[0];
        EXPECT_NE(f.status, 0) << args[0];
    }

    const auto killed = front({"kill", id});
    EXPECT_EQ(killed.status, 0) << killed.err;
    EXPECT_EQ(killed.out + killed.err, "");
    EXPECT_EQ(full({"wait", id}).status, 128 + SIGTERM);
    EXPECT_EQ(front({"show", id, "--field", "state"}).out, "killed\n");
    const auto again = front({"kill", id});  // already over: says so, as the full client does
    EXPECT_EQ(again.status, 1);
    EXPECT_EQ(again.err, full({"kill", id}).err);

    // Without `--`, the command starts at the first word; words after it that look like options are its own.
    auto plain = front({"submit", fake_child, "print", "--json"});
    ASSERT_EQ(plain.status, 0) << plain.err;
    const auto plain_id = plain.out.substr(0, plain.out.find('\n'));
    EXPECT_EQ(full({"wait", plain_id}).status, 0);
    EXPECT_EQ(front({"show", "--field", "command", plain_id}).out,
              boost::json::serialize(boost::json::array{fake_child, "print", "--json"}) + "\n");
}

TEST_F(Cli, TheFrontHandsOnEverythingElse) {
    const std::map<std::string, std::string> alone{{"CORRAL_SOCKET", daemon_.socket_path()},
                                                   {"CORRAL_CLIENT", "/nonexistent/corral-client"}};
    // Options, other forms and URLs are the full client's: alone, the front cannot run them.
    using words = std::vector<std::string>;
    for (const words& args : {words{"kill", "-s", "KILL", "1"},
                              words{"kill"},
                              words{"kill", "x1"},
                              words{"show", "1"},
                              words{"show", "--field", "pid"},
                              words{"submit", "--label", "a=b", "--", "true"},
                              words{"submit", "--"},
                              words{"submit", "--help"},
                              words{"--url", "http://127.0.0.1:1", "kill", "1"},
                              words{"--version"}}) {
        std::vector<std::string> argv{cli};
        argv.insert(argv.end(), args.begin(), args.end());
        EXPECT_EQ(run_program(argv, alone).status, 127) << args[0] << " " << args.back();
    }
    auto url = alone;
    url["CORRAL_URL"] = "http://127.0.0.1:" + std::to_string(daemon_.port());
    EXPECT_EQ(run_program({cli, "kill", "1"}, url).status, 127);
    // With the full client there, the same commands work through it.
    auto submitted = corral({"submit", "--label", "kind=handed-on", "--", fake_child, "sleep", "60000"});
    ASSERT_EQ(submitted.status, 0) << submitted.err;
    const auto id = submitted.out.substr(0, submitted.out.find('\n'));
    EXPECT_EQ(corral({"show", id, "--field", "labels"}).out, "{\"kind\":\"handed-on\"}\n");
    EXPECT_NE(corral({"show", id}).out.find("owner:"), std::string::npos);
    EXPECT_EQ(corral({"kill", "-s", "KILL", id}).status, 0);
    EXPECT_EQ(corral({"wait", id}).status, 128 + SIGKILL);
    // A daemon that is not there: nothing was sent, so the full client tries and explains.
    for (const char* command : {"kill", "show --json", "submit"}) {
        std::vector<std::string> argv{cli, "--socket", "/nonexistent/corral.sock"};
        std::istringstream split(command);
        for (std::string w; split >> w;)
            argv.push_back(w);
        argv.push_back(std::string(command) == "submit" ? "true" : "1");
        const auto r = run_program(argv);
        EXPECT_EQ(r.status, 125) << command;
        EXPECT_NE(r.err.find("cannot reach corrald at the socket /nonexistent/corral.sock"),
                  std::string::npos)
            << r.err;
        EXPECT_NE(r.err.find("corrald run"), std::string::npos) << r.err;
    }
}

TEST_F(Cli, WorksOverHttpWithUrl) {
    auto r = run_program(
        {cli, "run", "--url", "http://127.0.0.1:" + std::to_string(daemon_.port()), "-c", "echo via-tcp"},
        {{"CORRAL_TOKEN", daemon_.admin_token()}});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "via-tcp\n");
}

class CliTasks : public Cli {
  protected:
    CliTasks()
        : Cli("[[task]]\nname = \"say\"\ndescription = \"Prints its text\"\ncommand = [\"" + fake_child +
              "\", \"print\", \"{text}\"]\n[[task.args]]\nname = \"text\"\nrequired = true\n") {}
};

TEST_F(CliTasks, TasksRunByNameAndTheQueueDrainsAndResumes) {
    auto tasks = corral({"tasks"});
    EXPECT_EQ(tasks.status, 0) << tasks.err;
    EXPECT_NE(tasks.out.find("say - Prints its text"), std::string::npos) << tasks.out;
    EXPECT_NE(tasks.out.find("text"), std::string::npos) << tasks.out;
    EXPECT_EQ(corral({"tasks", "--names"}).out, "say\n");
    auto run = corral({"run", "--task", "say", "text=hello there"});
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(run.out, "hello there\n");
    auto unknown = corral({"submit", "--task", "say", "txt=x"});
    EXPECT_EQ(unknown.status, 125);
    EXPECT_NE(unknown.err.find("unknown argument"), std::string::npos) << unknown.err;
    auto mixed = corral({"submit", "--task", "say", "--cwd", "/tmp", "text=x"});
    EXPECT_EQ(mixed.status, 2);
    EXPECT_NE(mixed.err.find("--cwd cannot be used with --task"), std::string::npos) << mixed.err;

    auto drain = corral({"queue", "--drain"});
    EXPECT_EQ(drain.status, 0) << drain.err;
    EXPECT_NE(drain.out.find("draining"), std::string::npos) << drain.out;
    auto submitted = corral({"submit", "--task", "say", "text=later"});
    ASSERT_EQ(submitted.status, 0) << submitted.err;
    const auto id = submitted.out.substr(0, submitted.out.find('\n'));
    auto queue = corral({"queue"});
    // Its id, then priority 2: the socket's peer has the admin role (auth.local_role), whose jobs run at 2.
    EXPECT_NE(queue.out.find(id + "    2"), std::string::npos) << queue.out;
    EXPECT_NE(queue.out.find("say"), std::string::npos) << queue.out;
    EXPECT_EQ(corral({"queue", "--resume"}).status, 0);
    EXPECT_EQ(corral({"wait", id}).status, 0);
    EXPECT_EQ(corral({"tail", id}).out, "later\n");
    auto audit = boost::json::parse(corral({"audit", "--json", "--last", "3"}).out);
    const auto& entries = audit.at("entries").as_array();
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].at("action"), "resume");
    EXPECT_EQ(entries[1].at("action"), "submit");
    EXPECT_EQ(entries[2].at("action"), "drain");
    EXPECT_EQ(corral({"queue", "--drain", "--resume"}).status, 2);
}

}  // namespace
}  // namespace corral::test
