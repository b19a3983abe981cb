// The runner seed's runner_test.py and lines_test.py (research/seeds-inventory.md §3.2), translated,
// and the cases where corral does what the seed could not: a cwd override, a socket that never comes,
// a process that ignores SIGTERM, an alias whose process has exited, and the coroutine equivalents.
#include "corral/runner/registry.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "corral/runner/channel_io.hpp"
#include "corral/runner/poller.hpp"
#include "corral/runner/runner.hpp"
#include "helpers/test_support.hpp"

namespace corral::runner {
namespace {

using namespace std::chrono_literals;
using test::fake_child;
namespace fs = std::filesystem;

/// What `ch` has within a few seconds: the first non-empty read, or "" when it ended or said nothing.
std::string read_reply(channel& ch) {
    poller p;
    p.add(ch);
    for (const auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
        for (auto& e : p.poll(100ms)) {
            return e.data;
        }
    }
    return {};
}

/// Everything `ch` sends until it ends.
std::string read_to_end(channel& ch) {
    std::string all;
    poller p;
    p.add(ch);
    for (const auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
        for (auto& e : p.poll(100ms)) {
            all += e.data;
            if (e.ended) {
                return all;
            }
        }
    }
    return all + "<no end>";
}

class Runner : public ::testing::Test {
  protected:
    std::string path(const std::string& name) const { return tmp_.file(name); }
    void write_file(const std::string& name, const std::string& text) const { std::ofstream(path(name)) << text; }
    app_options socket_options(const std::string& name) const {
        app_options o;
        o.type = channel_type::socket;
        o.socket = path(name);
        return o;
    }

    test::temp_dir tmp_;
    const fs::path& dir_ = tmp_.path();
};

TEST_F(Runner, CatEchoesWhatIsWritten) {
    runner r;
    r.update_config({{"cat", {.command = {"cat"}}}});
    auto ch = r.start("cat");
    ch->write("hello, world");
    EXPECT_EQ(read_reply(*ch), "hello, world");
}

TEST_F(Runner, RegisteredWithAddAndAShellStyleCommand) {
    runner r;
    r.add("echo", fake_child + " print 'hello, world'");
    auto ch = r.start("echo");
    EXPECT_EQ(read_to_end(*ch), "hello, world\n");
}

TEST_F(Runner, CatOverAUnixSocket) {
    runner r;
    r.add("echo", fake_child + " serve-unix " + path("socket"), socket_options("socket"));
    auto ch = r.start("echo");
    ch->write("hello, world");
    EXPECT_EQ(read_reply(*ch), "hello, world");
}

TEST_F(Runner, CwdFromTheConfigAndAnOverrideAtStartIsHonoured) {
    write_file("file", "hello, world\n");
    fs::create_directories(dir_ / "other");
    std::ofstream(dir_ / "other" / "file") << "from the override\n";
    runner r;
    app_options o;
    o.cwd = dir_.string();
    r.add("cat", "cat file", o);
    EXPECT_EQ(read_to_end(*r.start("cat")), "hello, world\n");
    // The seed read cwd from the config only, and printed "hello, world" here as well.
    auto ch = r.start("cat", {.alias = "cat2", .overrides = {.cwd = (dir_ / "other").string()}});
    EXPECT_EQ(read_to_end(*ch), "from the override\n");
}

TEST_F(Runner, AliasesRunOneAppTwiceAndExtraArgsFollowTheCommand) {
    write_file("file1", "one\n");
    write_file("file2", "two\n");
    runner r;
    app_options o;
    o.cwd = dir_.string();
    r.add("cat", "cat", o);
    auto one = r.start("cat", {.alias = "cat1", .with_args = {"file1"}});
    auto two = r.start("cat", {.alias = "cat2", .with_args = {"file2"}});
    EXPECT_EQ(read_to_end(*one), "one\n");
    EXPECT_EQ(read_to_end(*two), "two\n");
    EXPECT_EQ(r.get_channel("cat1"), one);
    EXPECT_EQ(r.get_channel("cat"), nullptr);
}

TEST_F(Runner, TerminateForgetsTheAliasAndItsChannelFailsClearly) {
    runner r;
    r.add("cat", "cat");
    r.add("sock", fake_child + " serve-unix " + path("socket"), socket_options("socket"));
    for (const char* app : {"cat", "sock"}) {
        auto ch = r.start(app);
        r.terminate(app);
        EXPECT_EQ(r.get_channel(app), nullptr);
        EXPECT_FALSE(r.is_running(app));
        EXPECT_THROW(ch->read(), endpoint_closed) << app;
        EXPECT_THROW(ch->write("x"), endpoint_closed) << app;
        // And it starts again under the same alias.
        auto again = r.start(app);
        again->write("back\n");
        EXPECT_EQ(read_reply(*again), "back\n") << app;
    }
}

TEST_F(Runner, ClosingTheWritingSideAloneLetsAProcessAnswerAtItsEnd) {
    runner r;
    r.add("sort", "sort");
    r.add("sock", fake_child + " serve-unix " + path("socket"), socket_options("socket"));
    auto sorted = r.start("sort");
    sorted->write("b\na\n");
    sorted->close_write();
    EXPECT_EQ(read_to_end(*sorted), "a\nb\n");
    EXPECT_THROW(sorted->write("c\n"), endpoint_closed);
    auto echoed = r.start("sock");
    echoed->write("last words");
    echoed->close_write();
    EXPECT_EQ(read_to_end(*echoed), "last words");
    EXPECT_THROW(echoed->write("more"), endpoint_closed);
}

TEST_F(Runner, TerminateIsUnknownForAnAliasNeverStarted) {
    runner r;
    try {
        r.terminate("nobody");
        ADD_FAILURE() << "no error";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::process_not_found));
        EXPECT_NE(std::string(e.what()).find("'nobody'"), std::string::npos) << e.what();
    }
}

TEST_F(Runner, AStaleFileAtTheSocketPathIsReplacedAndASocketGivenAtStartIsUsed) {
    write_file("stale", "an old file, not a socket");
    runner r;
    r.add("sock", fake_child + " serve-unix " + path("stale"), socket_options("elsewhere"));
    auto ch = r.start("sock", {.overrides = {.socket = path("stale")}});
    ch->write("fresh");
    EXPECT_EQ(read_reply(*ch), "fresh");
}

TEST_F(Runner, WaitsForASocketThatComesLate) {
    runner r;
    r.add("late", fake_child + " sleep 100 serve-unix " + path("socket"), socket_options("socket"));
    auto ch = r.start("late");
    ch->write("late but there");
    EXPECT_EQ(read_reply(*ch), "late but there");
}

TEST_F(Runner, ASocketWaitFailsAtOnceWhenTheProcessDiesFirst) {
    runner r;
    auto o = socket_options("socket");
    o.socket_wait = 60s;  // the seed waited for ever here; the exit ends the wait, not this
    r.add("dies", fake_child + " exit 3", o);
    const auto started = std::chrono::steady_clock::now();
    try {
        r.start("dies");
        ADD_FAILURE() << "no error";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::spawn_failed));
        EXPECT_NE(std::string(e.what()).find("exited with code 3"), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
    EXPECT_FALSE(r.is_running("dies"));
}

TEST_F(Runner, ASocketWaitTimesOutAndStopsAProcessThatNeverListens) {
    runner r;
    auto o = socket_options("socket");
    o.socket_wait = 200ms;
    r.add("mute", fake_child + " pidfile " + path("pids") + " sleep 60000", o);
    try {
        r.start("mute");
        ADD_FAILURE() << "no error";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::timed_out));
        EXPECT_NE(std::string(e.what()).find("did not listen"), std::string::npos) << e.what();
    }
    std::ifstream pids(path("pids"));
    pid_t pid = 0;
    ASSERT_TRUE(pids >> pid);
    EXPECT_FALSE(test::alive(pid));
}

TEST_F(Runner, StartRefusesARunningAliasAndEnsureRunningLeavesItAlone) {
    runner r;
    r.add("cat", "cat");
    auto first = r.start("cat");
    try {
        r.start("cat");
        ADD_FAILURE() << "no error";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::process_exists));
        EXPECT_NE(std::string(e.what()).find("already running"), std::string::npos) << e.what();
    }
    EXPECT_EQ(r.ensure_running("cat"), first);
}

TEST_F(Runner, EnsureRunningTwiceRunsTheFirstCommandOnlyWhileItLives) {
    runner r;
    r.add("hello", fake_child + " print hello sleep 60000");
    r.add("goodbye", fake_child + " print goodbye");
    auto ch = r.ensure_running("hello", {.alias = "greeter"});
    r.ensure_running("goodbye", {.alias = "greeter"});
    EXPECT_EQ(read_reply(*ch), "hello\n");
    // Once its process has exited an alias is free again (the seed kept it "running" for ever).
    r.add("short", fake_child + " print once");
    auto once = r.ensure_running("short");
    EXPECT_EQ(read_to_end(*once), "once\n");
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         r.is_running("short") && std::chrono::steady_clock::now() < deadline;) {
        std::this_thread::sleep_for(5ms);
    }
    ASSERT_FALSE(r.is_running("short"));
    auto twice = r.ensure_running("short");
    EXPECT_NE(twice, once);
    EXPECT_EQ(read_to_end(*twice), "once\n");
    EXPECT_THROW(once->read(), endpoint_closed);  // replaced: the old channel is closed
}

TEST_F(Runner, AnUnknownAppIsAClearError) {
    runner r;
    try {
        r.start("nothing");
        ADD_FAILURE() << "no error";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::process_not_found));
    }
    EXPECT_THROW(r.add("bad", "cat 'unclosed"), boost::system::system_error);
    EXPECT_THROW(r.add("empty", "  "), boost::system::system_error);
}

TEST_F(Runner, UpdateConfigReplacesADefinitionWhole) {
    runner r;
    app_options line;
    line.line_buffered = true;
    line.cwd = "/nonexistent";
    r.update_config({{"cat", {.command = {"cat"}, .options = line}}});
    r.update_config({{"cat", {.command = {"cat"}}}});  // no cwd, no line buffering any more
    auto ch = r.start("cat");
    ch->write("te");
    EXPECT_EQ(read_reply(*ch), "te");
}

TEST_F(Runner, LineBufferingGivesWholeLinesAndTheLastPartOneOnce) {
    runner r;
    app_options line;
    line.line_buffered = true;
    r.add("cat", "cat", line);
    auto ch = r.start("cat");
    ch->write("test\n");
    EXPECT_EQ(read_reply(*ch), "test\n");
    ch->write("te");
    EXPECT_EQ(ch->read(), "");
    ch->write("st\nx");
    EXPECT_EQ(read_reply(*ch), "test\n");
    // An override turns line buffering off for one start (the seed's buffering=None).
    auto raw = r.start("cat", {.alias = "raw", .overrides = {.line_buffered = false}});
    raw->write("te");
    EXPECT_EQ(read_reply(*raw), "te");

    r.add("partial", fake_child + " write test", line);
    auto partial = r.start("partial");
    EXPECT_EQ(read_to_end(*partial), "test");
}

TEST_F(Runner, TerminateGivesUpOnSigtermAndKillsByThePlan) {
    runner r;
    app_options o;
    o.stop = proc::stop_plan::parse("TERM:200ms,KILL").value();
    r.add("stubborn", fake_child + " ignore-term print ready sleep 60000", o);
    auto ch = r.start("stubborn");
    EXPECT_EQ(read_reply(*ch), "ready\n");  // SIGTERM is ignored by now
    const auto status = r.terminate("stubborn");
    EXPECT_EQ(status, proc::exit_status(proc::signaled{SIGKILL})) << status.describe();
}

// setpgrp: with a process group of its own a process survives a signal to the caller's group. The
// caller's group is this test's own forked process's, so the signal reaches nothing else.
TEST_F(Runner, AProcessGroupOfItsOwnKeepsAProcessFromTheCallersGroupSignal) {
    const pid_t helper = ::fork();
    ASSERT_GE(helper, 0);
    if (helper == 0) {
        ::setpgid(0, 0);
        ::signal(SIGINT, SIG_IGN);
        int failed = 0;
        try {
            runner r;
            r.add("cat", "cat");
            auto shared = r.start("cat", {.alias = "shared"});
            auto own = r.start("cat", {.alias = "own", .overrides = {.setpgrp = true}});
            failed |= ::getpgid(*r.pid("shared")) == ::getpgrp() ? 0 : 1;
            failed |= ::getpgid(*r.pid("own")) == *r.pid("own") ? 0 : 2;
            ::killpg(0, SIGINT);
            for (int i = 0; i < 1000 && r.is_running("shared"); ++i) {
                ::usleep(10'000);
            }
            failed |= r.is_running("shared") ? 4 : 0;
            own->write("test\n");
            failed |= read_reply(*own) == "test\n" ? 0 : 8;
        } catch (...) {
            failed |= 16;
        }
        std::_Exit(failed);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(helper, &status, 0), helper);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: not in the caller's group, 2: no group of its own, "
                                         "4: survived the group's SIGINT, 8: the own-group one died, 16: threw";
}

// The coroutine side: the registry on a program's own io_context, and channels awaited.
TEST_F(Runner, CoroutinesStartWriteReadAndTerminateWithoutBlockingTheThread) {
    net::io_context ioc;
    auto launcher = proc::launcher::create(ioc.get_executor()).value();
    registry reg(*launcher);
    ASSERT_TRUE(reg.add("cat", "cat"));
    ASSERT_TRUE(reg.add("sock", fake_child + " serve-unix " + path("socket"), socket_options("socket")));
    auto got = test::run_coro(ioc, [](registry& r) -> net::awaitable<std::string> {
        std::string seen;
        for (std::string app : {"cat", "sock"}) {
            auto started = co_await r.start(app);
            auto ch = started.value();
            std::string big = std::string(200'000, 'x') + "|" + app;  // more than a pipe holds
            co_await write_all(*ch, std::move(big));
            std::string back;
            while (!back.ends_with(app)) {
                back += co_await read_some(*ch);
            }
            seen += std::to_string(back.size()) + " ";
            poller p;
            p.add(*ch);
            const std::optional<std::chrono::milliseconds> short_wait = 20ms;
            auto nothing = co_await p.wait(short_wait);
            seen += nothing.empty() ? "quiet " : "noise ";
            std::string ping = "ping";
            co_await write_all(*ch, std::move(ping));
            auto events = co_await p.wait();
            seen += events.empty() ? "none " : events.front().data + " ";
            auto ended = co_await r.terminate(app);
            seen += ended && (ended->is_signaled() || ended->success()) ? "stopped " : "? ";
        }
        co_return seen;
    }(reg));
    EXPECT_EQ(got, "200004 quiet ping stopped 200005 quiet ping stopped ");
}

TEST_F(Runner, TerminateAllStopsEveryAliasAtOnce) {
    net::io_context ioc;
    auto launcher = proc::launcher::create(ioc.get_executor()).value();
    registry reg(*launcher);
    app_options o;
    o.stop = proc::stop_plan::parse("TERM:300ms,KILL").value();
    ASSERT_TRUE(reg.add("stubborn", fake_child + " ignore-term sleep 60000", o));
    auto left = test::run_coro(ioc, [](registry& r) -> net::awaitable<int> {
        for (std::string alias : {"a", "b", "c"}) {
            start_request request{.alias = alias};
            std::string app = "stubborn";
            auto started = co_await r.start(std::move(app), std::move(request));
            started.value();
        }
        co_await r.terminate_all();
        co_return int(r.is_running("a")) + int(r.is_running("b")) + int(r.is_running("c")) +
            int(r.get_channel("a") != nullptr);
    }(reg));
    EXPECT_EQ(left, 0);
}

}  // namespace
}  // namespace corral::runner
