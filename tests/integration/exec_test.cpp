// `corral exec` as a user runs it: the real binary, real signals, real process trees.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "helpers/test_support.hpp"

extern char** environ;

namespace corral {
namespace {

const std::string cli = CORRAL_CLI_PATH;

struct cli_result {
    int status = -1;  // exit code, or 128 + signal
    std::string out;
    std::string err;
    long max_rss_kib = 0;
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class ExecTest : public ::testing::Test {
  protected:
    // Starts corral with stdout/stderr going to files (or /dev/null for stdout when `discard_out`).
    pid_t start(const std::vector<std::string>& args,
                const std::string& stdin_file = "/dev/null",
                bool discard_out = false) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, stdin_file.c_str(), O_RDONLY, 0);
        const std::string out = discard_out ? "/dev/null" : dir_.file("out");
        posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(
            &fa, 2, dir_.file("err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        pid_t pid = spawn_cli(args, fa);
        posix_spawn_file_actions_destroy(&fa);
        return pid;
    }

    // Starts `corral ARGS...` with the given file actions; the test keeps nothing else open in it.
    static pid_t spawn_cli(const std::vector<std::string>& args, const posix_spawn_file_actions_t& fa) {
        std::vector<std::string> argv{cli};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> ptrs;
        for (auto& a : argv) {
            ptrs.push_back(a.data());
        }
        ptrs.push_back(nullptr);
        pid_t pid = -1;
        EXPECT_EQ(posix_spawn(&pid, cli.c_str(), &fa, nullptr, ptrs.data(), environ), 0);
        return pid;
    }

    cli_result finish(pid_t pid) {
        cli_result r;
        int status = 0;
        rusage usage{};
        ::wait4(pid, &status, 0, &usage);
        r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r.out = slurp(dir_.file("out"));
        r.err = slurp(dir_.file("err"));
        r.max_rss_kib = usage.ru_maxrss;
        return r;
    }

    cli_result run(const std::vector<std::string>& args) { return finish(start(args)); }

    static std::vector<std::string> fake(std::vector<std::string> actions) {
        std::vector<std::string> v{"--", test::fake_child};
        v.insert(v.end(), actions.begin(), actions.end());
        return v;
    }
    static std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
    }

    test::temp_dir dir_;
};

TEST_F(ExecTest, ExitsWithTheCommandsStatusAndKeepsStreamsApart) {
    auto r = run(concat({"exec"}, fake({"print", "to-stdout", "eprint", "to-stderr", "exit", "3"})));
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(r.out, "to-stdout\n");
    EXPECT_EQ(r.err, "to-stderr\n");
}

TEST_F(ExecTest, CommandWithoutDoubleDashAndMergedStreams) {
    auto r = run({"exec", "--merge", test::fake_child, "print", "1", "eprint", "2"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "1\n2\n");
    EXPECT_EQ(r.err, "");
}

TEST_F(ExecTest, DeathBySignalGives128PlusSignal) {
    EXPECT_EQ(run(concat({"exec"}, fake({"signal", "15"}))).status, 128 + SIGTERM);
}

TEST_F(ExecTest, TimeoutStopsTheTreeAndExits124) {
    auto r = run(concat({"exec", "--timeout", "200ms", "--stop-plan", "TERM:100ms", "--json"},
                        fake({"pidfile", dir_.file("pids"), "ignore-term", "daemonize", "sleep", "100000"})));
    EXPECT_EQ(r.status, 124);
    auto summary = boost::json::parse(r.out).as_object();
    EXPECT_EQ(summary.at("state"), "timed_out");
    EXPECT_EQ(summary.at("exit").at("signal"), "KILL");
    for (pid_t pid : test::read_pids(dir_.file("pids"))) {
        EXPECT_TRUE(test::gone_within(pid)) << pid;
    }
}

TEST_F(ExecTest, MissingCommandExits127WithTheReason) {
    auto r = run({"exec", "--", "no-such-command-corral"});
    EXPECT_EQ(r.status, 127);
    EXPECT_NE(r.err.find("'no-such-command-corral': command not found"), std::string::npos) << r.err;
    auto bad_cwd = run(concat({"exec", "-C", "/no/such/dir"}, fake({})));
    EXPECT_EQ(bad_cwd.status, 126);
    EXPECT_NE(bad_cwd.err.find("cannot change directory to '/no/such/dir'"), std::string::npos)
        << bad_cwd.err;
}

TEST_F(ExecTest, UsageErrorsAreClearAndExit2) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"exec"}, "no command given"},
        {{"exec", "--bogus", "x"}, "unrecognised option '--bogus'"},
        {{"exec", "--timeout", "soon", "x"}, "--timeout: duration 'soon'"},
        {{"exec", "--stop-plan", "TERM:1s,NOPE", "x"}, "unknown signal 'NOPE'"},
        {{"exec", "-e", "NOEQUALS", "x"}, "--env: 'NOEQUALS' is not NAME=VALUE"},
        {{"exec", "--output-cap", "lots", "x"}, "--output-cap"},
        {{"exec", "--tree", "magic", "x"}, "--tree: 'magic'"},
        {{"exec", "--shell", "echo", "x"}, "not both"},
        {{"frobnicate"}, "unknown command 'frobnicate'"},
    };
    for (const auto& [args, message] : cases) {
        auto r = run(args);
        EXPECT_EQ(r.status, 2) << args[0];
        EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    }
}

TEST_F(ExecTest, UnusableFilesAreClearErrors) {
    auto out = run(concat({"exec", "-o", "/no/such/dir/out.log"}, fake({"print", "x"})));
    EXPECT_EQ(out.status, 125);
    EXPECT_NE(out.err.find("cannot open output file '/no/such/dir/out.log'"), std::string::npos) << out.err;
    auto in = run(concat({"exec", "--stdin", "/no/such/input"}, fake({"echo"})));
    EXPECT_EQ(in.status, 126);
    EXPECT_NE(in.err.find("cannot open stdin file '/no/such/input'"), std::string::npos) << in.err;
}

TEST_F(ExecTest, HelpExplainsTheOptionsAndExitStatuses) {
    auto r = run({"exec", "--help"});
    EXPECT_EQ(r.status, 0);
    for (const char* text : {"Usage: corral exec", "--stop-plan", "--pty", "--timeout", "124", "Examples:"}) {
        EXPECT_NE(r.out.find(text), std::string::npos) << text;
    }
}

TEST_F(ExecTest, JsonSummaryDescribesTheJob) {
    auto r = run(concat({"exec", "--json", "--quiet"}, fake({"print", "hello", "exit", "4"})));
    EXPECT_EQ(r.status, 4);
    auto summary = boost::json::parse(r.out).as_object();  // only the summary: --quiet
    EXPECT_EQ(summary.at("state"), "failed");
    EXPECT_EQ(summary.at("exit").at("code"), 4);
    EXPECT_EQ(summary.at("output").at("bytes"), 6);
    EXPECT_EQ(summary.at("reason"), "exited with code 4");
    EXPECT_TRUE(summary.at("pid").is_int64());
}

TEST_F(ExecTest, OutputFileGetsEverything) {
    auto r =
        run(concat({"exec", "-q", "-o", dir_.file("copy")}, fake({"spew", "1000000", "eprint", "last"})));
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(slurp(dir_.file("copy")).size(), 1000000u + 5);
}

TEST_F(ExecTest, ForwardsItsStdinWhenAsked) {
    std::ofstream(dir_.file("in")) << "line one\nline two\n";
    auto r = finish(start(concat({"exec", "--stdin", "-"}, fake({"echo"})), dir_.file("in")));
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "line one\nline two\n");
}

TEST_F(ExecTest, EnvironmentAndDirectoryOptions) {
    auto r = run(concat({"exec", "-e", "GREETING=hi there", "-C", "/"}, fake({"env", "GREETING", "cwd"})));
    EXPECT_EQ(r.out, "hi there\n/\n");
}

class ExecInterruptTest : public ExecTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ExecInterruptTest, CtrlCStopsTheWholeTree) {
    pid_t corral = start(concat(
        {"exec", "--tree", GetParam(), "--stop-plan", "TERM:300ms"},
        fake({"pidfile", dir_.file("pids"), "ignore-term", "daemonize", "fork", "5", "sleep", "100000"})));
    auto pids = test::wait_for_pids(dir_.file("pids"), 7);
    ASSERT_EQ(pids.size(), 7u);
    ::kill(corral, SIGINT);
    auto r = finish(corral);
    EXPECT_EQ(r.status, 128 + SIGKILL);  // TERM is ignored, so the plan ends in KILL
    EXPECT_NE(r.err.find("stopping the job's process tree"), std::string::npos) << r.err;
    for (pid_t pid : pids) {
        EXPECT_TRUE(test::gone_within(pid)) << "pid " << pid << " survived";
    }
}

TEST_P(ExecInterruptTest, SecondCtrlCKillsAtOnce) {
    pid_t corral =
        start(concat({"exec", "--tree", GetParam(), "--stop-plan", "TERM:600s"},
                     fake({"pidfile", dir_.file("pids"), "ignore-term", "fork", "3", "sleep", "100000"})));
    auto pids = test::wait_for_pids(dir_.file("pids"), 4);
    ASSERT_EQ(pids.size(), 4u);
    ::kill(corral, SIGTERM);
    // The second signal only once the first has been taken (corral says so), not after a guess.
    bool first_taken = false;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
         !first_taken && std::chrono::steady_clock::now() < until;
         std::this_thread::sleep_for(std::chrono::milliseconds(5))) {
        first_taken = slurp(dir_.file("err")).find("stopping the job's process tree") != std::string::npos;
    }
    ASSERT_TRUE(first_taken) << "corral did not act on SIGTERM within 20 s: " << slurp(dir_.file("err"));
    ::kill(corral, SIGINT);
    auto r = finish(corral);  // without the escalation this would wait ten minutes
    EXPECT_EQ(r.status, 128 + SIGKILL);
    EXPECT_NE(r.err.find("killing the job's process tree now"), std::string::npos) << r.err;
    for (pid_t pid : pids) {
        EXPECT_TRUE(test::gone_within(pid)) << "pid " << pid << " survived";
    }
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, ExecInterruptTest, ::testing::Values("auto", "pgroup"));

TEST_F(ExecTest, ClosedStdoutStopsTheJob) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    pid_t pid = spawn_cli({"exec", "--", test::fake_child, "spew", "100000000000"}, fa);
    posix_spawn_file_actions_destroy(&fa);
    ASSERT_GT(pid, 0);
    ::close(fds[1]);
    char buf[4096];
    ASSERT_GT(::read(fds[0], buf, sizeof buf), 0);  // it is running and printing
    ::close(fds[0]);                                // like `| head -1`
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 128 + SIGKILL);
}

TEST_F(ExecTest, OneGibibyteOfOutputKeepsMemorySmall) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "AddressSanitizer's quarantine inflates RSS; the release build checks this";
#else
    auto r = finish(start(concat({"exec"}, fake({"spew", std::to_string(1LL << 30)})), "/dev/null", true));
    EXPECT_EQ(r.status, 0);
    EXPECT_LE(r.max_rss_kib, 64 * 1024) << "peak RSS " << r.max_rss_kib << " KiB";
#endif
}

}  // namespace
}  // namespace corral
