// Stopping takes the whole tree, whatever the processes in it do: every scenario must leave no survivor.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include <gtest/gtest.h>

#include "corral/proc/launcher.hpp"
#include "helpers/test_support.hpp"
#include "proc/proc_table_linux.hpp"

namespace corral::proc {
namespace {

using namespace std::chrono_literals;
using test::run_coro;

struct scenario {
    const char* name;
    std::vector<std::string> actions;  // after "pidfile PATH"
    std::size_t processes;             // pids the tree writes, leader included
    bool ignores_term;
};

const scenario scenarios[] = {
    {"Forks", {"fork", "19", "sleep", "100000"}, 20, false},
    {"IgnoresTerm", {"ignore-term", "fork", "5", "sleep", "100000"}, 6, true},
    {"SetsidEscapee", {"daemonize", "sleep", "100000"}, 2, false},
    {"EscapeeIgnoringTerm", {"ignore-term", "daemonize", "fork", "3", "sleep", "100000"}, 5, true},
};

// Readable parameter names in test listings (ctest shows them).
void PrintTo(const scenario& s, std::ostream* os) {
    *os << s.name;
}

class TreeKillTest : public ::testing::TestWithParam<std::tuple<tree_mode, scenario>> {
  protected:
    void SetUp() override {
        auto l = launcher::create(ioc_.get_executor(), {.tree = std::get<0>(GetParam()), .subreaper = true});
        if (!l && std::get<0>(GetParam()) == tree_mode::cgroup) {
            CORRAL_SKIP_WITHOUT_CGROUP(l.error().what());
        }
        ASSERT_TRUE(l) << l.error().what();
        launcher_ = std::move(*l);
    }

    child start(const std::vector<std::string>& actions) {
        spawn_options o;
        o.argv = {test::fake_child, "pidfile", dir_.file("pids")};
        o.argv.insert(o.argv.end(), actions.begin(), actions.end());
        auto c = launcher_->spawn(o);
        if (!c) {
            throw std::runtime_error(c.error().what());
        }
        return std::move(*c);
    }

    net::io_context ioc_;
    std::unique_ptr<launcher> launcher_;
    test::temp_dir dir_;
};

// Zombie children of this process: in process-group mode we are the subreaper, so the tree's dead
// end up as ours and must be reaped, or a long-running daemon fills the process table.
std::vector<pid_t> our_zombies() {
    std::vector<pid_t> zombies;
    for (const auto& p : read_proc_table()) {
        if (p.ppid == ::getpid() && p.state == 'Z') {
            zombies.push_back(p.pid);
        }
    }
    return zombies;
}

TEST_P(TreeKillTest, StopLeavesNoSurvivorAndNoZombie) {
    const auto& sc = std::get<1>(GetParam());
    std::vector<pid_t> pids;
    {
        auto c = start(sc.actions);
        pids = test::wait_for_pids(dir_.file("pids"), sc.processes);
        ASSERT_EQ(pids.size(), sc.processes);
        EXPECT_FALSE(c.tree_empty());

        auto stopped = run_coro(ioc_, c.stop(stop_plan({{SIGTERM, 300ms}})));
        EXPECT_TRUE(stopped);
        EXPECT_TRUE(c.tree_empty());
        auto status = run_coro(ioc_, c.wait());
        EXPECT_EQ(status, exit_status(signaled{sc.ignores_term ? SIGKILL : SIGTERM}));
    }
    for (pid_t pid : pids) {
        EXPECT_TRUE(test::gone_within(pid)) << "pid " << pid << " survived";
    }
    EXPECT_EQ(our_zombies(), std::vector<pid_t>{});
}

TEST_P(TreeKillTest, KillNowLeavesNoSurvivor) {
    const auto& sc = std::get<1>(GetParam());
    auto c = start(sc.actions);
    auto pids = test::wait_for_pids(dir_.file("pids"), sc.processes);
    ASSERT_EQ(pids.size(), sc.processes);
    EXPECT_TRUE(run_coro(ioc_, c.stop(stop_plan::kill_now())));
    EXPECT_EQ(run_coro(ioc_, c.wait()), exit_status(signaled{SIGKILL}));
    for (pid_t pid : pids) {
        EXPECT_TRUE(test::gone_within(pid)) << "pid " << pid << " survived";
    }
}

TEST_P(TreeKillTest, DestroyingARunningChildKillsItsTree) {
    const auto& sc = std::get<1>(GetParam());
    std::vector<pid_t> pids;
    {
        auto c = start(sc.actions);
        pids = test::wait_for_pids(dir_.file("pids"), sc.processes);
        ASSERT_EQ(pids.size(), sc.processes);
    }
    for (pid_t pid : pids) {
        EXPECT_TRUE(test::gone_within(pid)) << "pid " << pid << " survived";
    }
}

TEST_P(TreeKillTest, LeftoversAfterTheLeaderExitsAreStillFound) {
    // The leader starts the scenario's helpers in the background and exits at once.
    auto c = start({"ignore-term", "daemonize", "fork", "2", "exit", "0"});
    auto pids = test::wait_for_pids(dir_.file("pids"), 4);
    ASSERT_EQ(pids.size(), 4u);
    EXPECT_EQ(run_coro(ioc_, c.wait()), exit_status(exited{0}));
    EXPECT_FALSE(c.tree_empty());
    EXPECT_TRUE(run_coro(ioc_, c.stop(stop_plan({{SIGTERM, 100ms}}))));
    for (pid_t pid : pids) {
        EXPECT_TRUE(test::gone_within(pid)) << "pid " << pid << " survived";
    }
}

std::string name(const ::testing::TestParamInfo<std::tuple<tree_mode, scenario>>& info) {
    return std::string(std::get<0>(info.param) == tree_mode::cgroup ? "Cgroup" : "ProcessGroup") +
           std::get<1>(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(Scenarios,
                         TreeKillTest,
                         ::testing::Combine(::testing::Values(tree_mode::cgroup, tree_mode::process_group),
                                            ::testing::ValuesIn(scenarios)),
                         name);

}  // namespace
}  // namespace corral::proc

namespace corral::proc {
namespace {

TEST(TreeKill, OwnChildrenListsTheChildrenOfEveryThread) {
    // Process-group mode decides that a tree is gone from our children alone (orphans come to us):
    // a child made by another thread must be listed too.
    auto make_child = [] {
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::pause();
            ::_exit(0);
        }
        return pid;
    };
    pid_t from_thread = -1;
    std::thread([&] { from_thread = make_child(); }).join();
    const pid_t from_main = make_child();
    auto children = own_children();
    ASSERT_TRUE(children) << "no /proc/self/task/*/children here";
    EXPECT_NE(std::find(children->begin(), children->end(), from_thread), children->end());
    EXPECT_NE(std::find(children->begin(), children->end(), from_main), children->end());
    for (pid_t pid : {from_thread, from_main}) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    children = own_children();
    ASSERT_TRUE(children);
    EXPECT_EQ(std::find(children->begin(), children->end(), from_main), children->end());
}

TEST(TreeKill, AProcessGroupTreeIsEmptyOnceItsOrphansEnd) {
    // The leader starts three helpers and exits: they are orphans, ours (the subreaper), so the
    // tree is not empty. Once they end, it is, and the next look needs no scan of /proc.
    net::io_context ioc;
    auto l = launcher::create(ioc.get_executor(), {.tree = tree_mode::process_group, .subreaper = true});
    ASSERT_TRUE(l) << l.error().what();
    test::temp_dir dir;
    spawn_options o;
    o.argv = {test::fake_child, "pidfile", dir.file("pids"), "fork", "3", "exit", "0"};
    auto c = std::move(*(*l)->spawn(o));
    auto pids = test::wait_for_pids(dir.file("pids"), 4);
    ASSERT_EQ(pids.size(), 4u);
    EXPECT_EQ(run_coro(ioc, c.wait()), exit_status(exited{0}));
    EXPECT_FALSE(c.tree_empty());
    for (std::size_t i = 1; i < pids.size(); ++i) {
        ::kill(pids[i], SIGKILL);  // the helpers (pids[0], the leader, is reaped): our zombies now
    }
    bool empty = false;
    for (auto until = std::chrono::steady_clock::now() + 10s;
         !empty && std::chrono::steady_clock::now() < until;) {
        empty = c.tree_empty();  // the first look that finds only zombies reaps them
        if (!empty) {
            std::this_thread::sleep_for(10ms);  // the next look; the deadline decides
        }
    }
    ASSERT_TRUE(empty) << "killed helpers still count as the tree 10 s later";
    EXPECT_TRUE(c.tree_empty());
    for (pid_t pid : pids) {
        EXPECT_TRUE(test::gone_within(pid)) << "pid " << pid << " lives on";
    }
    EXPECT_EQ(our_zombies(), std::vector<pid_t>{});
}

/// Makes the test binary a subreaper for one test, and puts back what it was (the other tests in this
/// binary must not inherit it: their orphans would become our zombies).
class subreaper_for_this_test {
  public:
    subreaper_for_this_test() {
        ::prctl(PR_GET_CHILD_SUBREAPER, &was_);
        ok_ = ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
    }
    ~subreaper_for_this_test() { ::prctl(PR_SET_CHILD_SUBREAPER, was_); }
    bool ok() const { return ok_; }

  private:
    int was_ = 0;
    bool ok_ = false;
};

int subreaper_now() {
    int on = 0;
    ::prctl(PR_GET_CHILD_SUBREAPER, &on);
    return on;
}

TEST(TreeKill, ALauncherIsASubreaperOnlyWhenAskedAndOnlyWhileItLives) {
    // PR_SET_CHILD_SUBREAPER is process-wide: an embedding program's own orphans would become our
    // zombies, so only an opt-in sets it (corrald and corral exec opt in), and the launcher clears
    // what it set when it goes.
    ASSERT_EQ(subreaper_now(), 0) << "an earlier test left this process a subreaper";
    net::io_context ioc;
    {
        auto plain = launcher::create(ioc.get_executor(), {.tree = tree_mode::process_group});
        ASSERT_TRUE(plain) << plain.error().what();
        EXPECT_EQ(subreaper_now(), 0);
        EXPECT_EQ((*plain)->describe(), "process group (not a subreaper)");
    }
    {
        auto reaping =
            launcher::create(ioc.get_executor(), {.tree = tree_mode::process_group, .subreaper = true});
        ASSERT_TRUE(reaping) << reaping.error().what();
        EXPECT_EQ(subreaper_now(), 1);
        EXPECT_EQ((*reaping)->describe(), "process group + subreaper");
    }
    EXPECT_EQ(subreaper_now(), 0) << "the launcher left the process a subreaper";
    {
        // A program that is a subreaper already stays one: the launcher did not set it.
        subreaper_for_this_test already;
        ASSERT_TRUE(already.ok());
        {
            auto reaping =
                launcher::create(ioc.get_executor(), {.tree = tree_mode::process_group, .subreaper = true});
            ASSERT_TRUE(reaping);
        }
        EXPECT_EQ(subreaper_now(), 1);
    }
}

TEST(TreeKill, CgroupModeReapsItsDeadWhenTheProcessIsASubreaper) {
    // An embedding program (or a container's init) may already be a subreaper: the tree's orphans
    // then come to us, and the cgroup tree must reap them.
    subreaper_for_this_test subreaper;
    ASSERT_TRUE(subreaper.ok());
    net::io_context ioc;
    auto l = launcher::create(ioc.get_executor(), {tree_mode::cgroup});
    if (!l) {
        CORRAL_SKIP_WITHOUT_CGROUP(l.error().what());
    }
    test::temp_dir dir;
    std::vector<pid_t> pids;
    {
        spawn_options o;
        o.argv = {test::fake_child, "pidfile", dir.file("pids"), "daemonize", "fork", "4", "sleep", "100000"};
        auto c = std::move(*(*l)->spawn(o));
        pids = test::wait_for_pids(dir.file("pids"), 6);
        ASSERT_EQ(pids.size(), 6u);
        EXPECT_TRUE(run_coro(ioc, c.stop(stop_plan::kill_now())));
        run_coro(ioc, c.wait());
    }
    for (pid_t pid : pids) {
        EXPECT_TRUE(test::gone_within(pid)) << "pid " << pid << " survived";
    }
    EXPECT_EQ(our_zombies(), std::vector<pid_t>{});
}

}  // namespace
}  // namespace corral::proc
