#include "corral/jobs/job_runner.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <fstream>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include "corral/core/log_exceptions.hpp"
#include "helpers/test_support.hpp"
#include "proc/proc_table_linux.hpp"

namespace corral::jobs {
namespace {

using namespace std::chrono_literals;
using test::run_coro;

// Every behaviour twice: pipes read on the core's thread (as quiet jobs are), and on the reader
// thread from the first byte (as chatty ones are after job_runner::options::hand_over_after).
class JobRunnerTest : public ::testing::TestWithParam<std::uint64_t> {
  protected:
    job& add(std::vector<std::string> actions, job_spec spec = {}) {
        spec.process.argv = {test::fake_child};
        spec.process.argv.insert(spec.process.argv.end(), actions.begin(), actions.end());
        auto log = output::output_log::create(ioc_.get_executor(), spec.output);
        return table_.add("tester", std::move(spec), std::move(*log));
    }

    std::string output_of(const job& j) {
        std::string all;
        for (const auto& r : j.log->read(0, 1 << 30).records) {
            all += r.bytes;
        }
        return all;
    }

    // Runs the job; once it has started, calls `during` (to stop it, write stdin, ...).
    void run(job& j, std::function<net::awaitable<void>()> during = nullptr) {
        auto both = [&]() -> net::awaitable<void> {
            using namespace boost::asio::experimental::awaitable_operators;
            auto side = [&]() -> net::awaitable<void> {
                while (j.state == job_state::queued) {
                    net::steady_timer t(ioc_, 1ms);
                    co_await t.async_wait(net::use_awaitable);
                }
                if (during) {
                    co_await during();
                }
            };
            co_await (runner_.run(j) && side());
        };
        run_coro(ioc_, both());
    }

    net::io_context ioc_;
    std::unique_ptr<proc::launcher> launcher_ = std::move(*proc::launcher::create(ioc_.get_executor(), {.subreaper = true}));
    job_table table_;
    job_runner runner_{*launcher_, table_, job_runner::options{.hand_over_after = GetParam()}};
};

TEST_P(JobRunnerTest, SuccessfulJobRecordsEverything) {
    std::vector<job_event> events;
    table_.subscribe([&](const job&, job_event e) { events.push_back(e); });
    auto& j = add({"print", "hello", "eprint", "warning"});
    EXPECT_EQ(j.state, job_state::queued);
    run(j);
    EXPECT_EQ(j.state, job_state::succeeded);
    EXPECT_EQ(j.exit, proc::exit_status(proc::exited{0}));
    EXPECT_EQ(j.reason, "exited with code 0");
    EXPECT_TRUE(j.started && j.finished && *j.started <= *j.finished);
    EXPECT_GT(j.pid, 0);
    EXPECT_TRUE(j.log->closed());
    EXPECT_EQ(j.log->end_offset(), 14u);
    EXPECT_EQ(events, (std::vector<job_event>{job_event::queued, job_event::started, job_event::finished}));
    auto recs = j.log->read(0).records;
    std::string out, err;
    for (auto& r : recs) {
        (r.source == output::stream::out ? out : err) += r.bytes;
    }
    EXPECT_EQ(out, "hello\n");
    EXPECT_EQ(err, "warning\n");
}

TEST_P(JobRunnerTest, NonZeroExitFails) {
    auto& j = add({"exit", "4"});
    run(j);
    EXPECT_EQ(j.state, job_state::failed);
    EXPECT_EQ(j.shell_code(), 4);
    EXPECT_EQ(j.reason, "exited with code 4");
}

TEST_P(JobRunnerTest, SpawnFailureFailsWithTheReason) {
    job_spec spec;
    spec.process.cwd = "/no/such/dir";
    auto& j = add({}, spec);
    run(j);
    EXPECT_EQ(j.state, job_state::failed);
    EXPECT_FALSE(j.exit);
    EXPECT_NE(j.reason.find("/no/such/dir"), std::string::npos) << j.reason;
    EXPECT_EQ(j.shell_code(), 127);
    EXPECT_EQ(j.start_error, make_error_code(errc::spawn_failed));
    EXPECT_TRUE(j.log->closed());
}

TEST_P(JobRunnerTest, TimeoutStopsTheTree) {
    test::temp_dir dir;
    job_spec spec;
    spec.timeout = 200ms;
    spec.stop = proc::stop_plan({{SIGTERM, 200ms}});
    auto& j = add({"pidfile", dir.file("pids"), "ignore-term", "daemonize", "sleep", "100000"}, spec);
    run(j);
    EXPECT_EQ(j.state, job_state::timed_out);
    EXPECT_EQ(j.reason, "timed out after 200ms");
    EXPECT_EQ(j.exit, proc::exit_status(proc::signaled{SIGKILL}));
    for (pid_t pid : test::read_pids(dir.file("pids"))) {
        EXPECT_TRUE(test::gone_within(pid));
    }
}

TEST_P(JobRunnerTest, StopRequestKillsAndSecondRequestEscalates) {
    job_spec spec;
    spec.stop = proc::stop_plan({{SIGTERM, 60s}});  // would wait a minute without escalation
    auto& j = add({"ignore-term", "print", "ready", "sleep", "100000"}, spec);
    run(j, [&]() -> net::awaitable<void> {
        co_await j.log->wait_for(0);
        EXPECT_TRUE(runner_.stop(j, stop_reason::request));
        net::steady_timer t(ioc_, 100ms);
        co_await t.async_wait(net::use_awaitable);
        EXPECT_EQ(j.state, job_state::running);  // TERM is ignored
        EXPECT_TRUE(runner_.stop(j, stop_reason::request));
    });
    EXPECT_EQ(j.state, job_state::killed);
    EXPECT_EQ(j.reason, "stopped on request");
    EXPECT_EQ(j.exit, proc::exit_status(proc::signaled{SIGKILL}));
    EXPECT_FALSE(runner_.stop(j, stop_reason::request));  // finished: invalid_state
}

// The first signal of the plan is sent by stop() itself, not later by the job's control coroutine:
// a kill request's reply (and the caller's clock) comes after the tree has been signalled.
TEST_P(JobRunnerTest, AStopRequestHasSignalledTheTreeWhenItReturns) {
    job_spec spec;
    spec.stop = proc::stop_plan({{SIGTERM, 60s}});
    auto& j = add({"block-term", "print", "ready", "sleep", "100000"}, spec);
    auto term_pending = [&] {
        std::ifstream status("/proc/" + std::to_string(j.pid) + "/status");
        for (std::string line; std::getline(status, line);) {
            if (line.starts_with("ShdPnd:")) {
                return (std::stoull(line.substr(7), nullptr, 16) >> (SIGTERM - 1) & 1) != 0;
            }
        }
        return false;
    };
    run(j, [&]() -> net::awaitable<void> {
        co_await j.log->wait_for(0);
        EXPECT_FALSE(term_pending());
        EXPECT_TRUE(runner_.stop(j, stop_reason::request));
        EXPECT_TRUE(term_pending());  // before anything else has run on this thread
        net::steady_timer t(ioc_, 100ms);
        co_await t.async_wait(net::use_awaitable);
        EXPECT_EQ(j.state, job_state::running);  // sent once: still blocked, still pending
        EXPECT_TRUE(runner_.stop(j, stop_reason::request));
    });
    EXPECT_EQ(j.state, job_state::killed);
    EXPECT_EQ(j.exit, proc::exit_status(proc::signaled{SIGKILL}));
}

TEST_P(JobRunnerTest, OutputCapStopsTheJob) {
    job_spec spec;
    spec.output.cap = 100'000;
    spec.output.policy = output::cap_policy::stop_job;
    auto& j = add({"spew", "100000000"}, spec);
    run(j);
    EXPECT_EQ(j.state, job_state::killed);
    EXPECT_EQ(j.reason, "output passed its cap of 100000 bytes");
    EXPECT_EQ(j.log->end_offset(), 100'000u);
}

TEST_P(JobRunnerTest, StdinCanBeWrittenAndClosed) {
    job_spec spec;
    spec.process.input = proc::input_mode::pipe;
    auto& j = add({"echo", "print", "closed"}, spec);
    run(j, [&]() -> net::awaitable<void> {
        auto r = co_await runner_.write_stdin(j, "typed\n");
        EXPECT_TRUE(r);
        EXPECT_TRUE(runner_.close_stdin(j));
    });
    EXPECT_EQ(output_of(j), "typed\nclosed\n");
    EXPECT_EQ(j.state, job_state::succeeded);
}

TEST_P(JobRunnerTest, ProcessesLeftBehindByTheLeaderAreStopped) {
    test::temp_dir dir;
    job_spec spec;
    spec.stop = proc::stop_plan({{SIGTERM, 100ms}});
    // The daemonized grandchild keeps stdout open: without the clean-up the job would never end.
    auto& j =
        add({"pidfile", dir.file("pids"), "ignore-term", "daemonize", "print", "bye", "exit", "0"}, spec);
    run(j);
    EXPECT_EQ(j.state, job_state::succeeded);
    EXPECT_EQ(output_of(j), "bye\n");
    auto pids = test::read_pids(dir.file("pids"));
    EXPECT_EQ(pids.size(), 2u);
    for (pid_t pid : pids) {
        EXPECT_TRUE(test::gone_within(pid));
    }
}

TEST_P(JobRunnerTest, QueuedJobCanBeCancelled) {
    auto& j = add({"exit", "0"});
    EXPECT_TRUE(runner_.stop(j, stop_reason::request));
    EXPECT_EQ(j.state, job_state::killed);
    run(j);  // does nothing now
    EXPECT_EQ(j.state, job_state::killed);
    EXPECT_EQ(j.pid, 0);
}

TEST_P(JobRunnerTest, AJobCancelledWhileItsProcessStartsNeverCountsAsStarted) {
    std::vector<job_event> events;
    table_.subscribe([&](const job&, job_event e) { events.push_back(e); });
    // Another child alive: an idle launcher would wait for the exec on the spot, not suspend.
    proc::spawn_options sleeper;
    sleeper.argv = {test::fake_child, "sleep", "100000"};
    auto other = launcher_->spawn(sleeper);
    ASSERT_TRUE(other) << other.error().what();
    auto& j = add({"sleep", "100000"});
    bool done = false;
    const auto before = *proc::own_children();
    net::co_spawn(ioc_, runner_.run(j), [&](std::exception_ptr) { done = true; });
    ioc_.run_one();  // run() is now waiting for the exec of its process
    ASSERT_FALSE(done);
    auto after = *proc::own_children();
    std::erase_if(after, [&](pid_t p) { return std::find(before.begin(), before.end(), p) != before.end(); });
    ASSERT_EQ(after.size(), 1U);
    ASSERT_EQ(j.state, job_state::queued);
    EXPECT_TRUE(runner_.stop(j, stop_reason::request));
    EXPECT_EQ(j.state, job_state::killed);
    for (int i = 0; i < 200 && !done; ++i) {
        ioc_.run_one_for(50ms);
    }
    ASSERT_TRUE(done);
    EXPECT_EQ(j.state, job_state::killed);
    EXPECT_EQ(j.reason, "cancelled before it started");
    EXPECT_EQ(j.pid, 0);
    EXPECT_EQ(events, (std::vector<job_event>{job_event::queued, job_event::finished}));
    EXPECT_EQ(::kill(after.front(), 0), -1) << "its process was left running or unreaped";
    other->signal_tree(SIGKILL);
    run_coro(ioc_, other->wait());
}

TEST_P(JobRunnerTest, ChattyPipesArriveWholeAndInOrder) {
    // Past hand_over_after the pipes move to the reader thread mid-stream: nothing may be lost,
    // doubled or reordered at the seam.
    auto& j = add({"spew", "3000000", "spew", "2000000", "err"});
    run(j);
    EXPECT_EQ(j.state, job_state::succeeded);
    std::string out, err;
    for (auto& r : j.log->read(0, 1 << 30).records) {
        (r.source == output::stream::out ? out : err) += r.bytes;
    }
    std::string line(63, 'x');
    line += '\n';
    std::string expected;
    while (expected.size() < 3000000) {
        expected += line;
    }
    EXPECT_EQ(out.size(), 3000000u);
    EXPECT_EQ(err.size(), 2000000u);
    EXPECT_TRUE(out == expected.substr(0, 3000000)) << "stdout differs";
    EXPECT_TRUE(err == expected.substr(0, 2000000)) << "stderr differs";
}

INSTANTIATE_TEST_SUITE_P(Pipes,
                         JobRunnerTest,
                         ::testing::Values(job_runner::options{}.hand_over_after, 0),
                         [](const ::testing::TestParamInfo<std::uint64_t>& p) {
                             return p.param == 0 ? "OnReaderThread" : "HandedOverWhenChatty";
                         });

}  // namespace
}  // namespace corral::jobs

namespace corral::jobs {
namespace {

TEST(JobRunnerDrain, AnOutputPipeHeldByAnUnseenProcessEndsTheJobAfterTheBound) {
    // Process-group mode cannot find a process that left the job's session and group and cleared its
    // environment; it keeps the job's pipes open. The job used to stay running for as long.
    net::io_context ioc;
    auto launcher = proc::launcher::create(ioc.get_executor(), {.tree = proc::tree_mode::process_group, .subreaper = true});
    ASSERT_TRUE(launcher) << launcher.error().what();
    job_table table;
    job_runner runner{**launcher, table, job_runner::options{.drain_output = std::chrono::milliseconds(300)}};
    test::temp_dir dir;
    job_spec spec;
    spec.process.argv = {test::fake_child, "pidfile", dir.file("pids"), "vanish", "60000", "print", "done"};
    auto log = output::output_log::create(ioc.get_executor(), spec.output);
    auto& j = table.add("tester", std::move(spec), std::move(*log));
    run_coro(ioc, runner.run(j), std::chrono::seconds(30));
    EXPECT_EQ(j.state, job_state::succeeded) << j.reason;
    EXPECT_TRUE(j.output_abandoned);
    EXPECT_NE(j.reason.find("output pipe stayed open"), std::string::npos) << j.reason;
    EXPECT_EQ(j.log->read(0).records.at(0).bytes, "done\n");
    // The vanished process is ours to clean up (we are its subreaper): its pid is the file's last line.
    std::ifstream pids(dir.file("pids"));
    pid_t pid = 0;
    for (pid_t p; pids >> p;) {
        pid = p;
    }
    ASSERT_GT(pid, 0);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

}  // namespace
}  // namespace corral::jobs
