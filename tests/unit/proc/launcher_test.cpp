#include "corral/proc/launcher.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "helpers/test_support.hpp"
#include "proc/cgroup_linux.hpp"
#include "proc/proc_table_linux.hpp"

namespace corral::proc {
namespace {

using test::fake_child;
using test::run_coro;

struct outcome {
    std::optional<exit_status> status;
    std::string out;
    std::string err;
};

// Reads everything from a pipe until EOF (or EIO on a PTY).
net::awaitable<std::string> read_all(std::optional<child::pipe>& p) {
    std::string data;
    if (!p) {
        co_return data;
    }
    char buf[4096];
    for (;;) {
        auto [ec, n] = co_await p->async_read_some(net::buffer(buf), use_nothrow);
        data.append(buf, n);
        if (ec) {
            co_return data;
        }
    }
}

net::awaitable<outcome> collect(child c) {
    outcome o;
    o.out = co_await read_all(c.stdout_pipe());
    o.err = co_await read_all(c.stderr_pipe());
    o.status = co_await c.wait();
    co_return o;
}

class LauncherTest : public ::testing::TestWithParam<tree_mode> {
  protected:
    void SetUp() override {
        auto l = launcher::create(ioc_.get_executor(), {.tree = GetParam(), .subreaper = true});
        if (!l && GetParam() == tree_mode::cgroup) {
            CORRAL_SKIP_WITHOUT_CGROUP(l.error().what());
        }
        ASSERT_TRUE(l) << l.error().what();
        launcher_ = std::move(*l);
    }

    // The daemon's way: start() (the thread goes on while the child execs). spawn(), which blocks
    // until the exec, has its own test below.
    result_info<child> spawn(const spawn_options& o) {
        auto started = [&]() -> net::awaitable<std::optional<result_info<child>>> {
            co_return co_await launcher_->start(
                o);  // (optional: co_spawn needs a default-constructible result)
        };
        return std::move(*run_coro(ioc_, started()));
    }

    outcome run(spawn_options o) {
        auto c = spawn(o);
        if (!c) {
            throw std::runtime_error(c.error().what());
        }
        return run_coro(ioc_, collect(std::move(*c)));
    }

    static spawn_options fake(std::vector<std::string> args) {
        spawn_options o;
        o.argv = {fake_child};
        o.argv.insert(o.argv.end(), args.begin(), args.end());
        return o;
    }

    net::io_context ioc_;
    std::unique_ptr<launcher> launcher_;
};

TEST_P(LauncherTest, ReportsExitCodeAndKeepsStreamsApart) {
    auto o = run(fake({"print", "to-out", "eprint", "to-err", "exit", "3"}));
    EXPECT_EQ(o.out, "to-out\n");
    EXPECT_EQ(o.err, "to-err\n");
    ASSERT_TRUE(o.status);
    EXPECT_EQ(*o.status, exit_status(exited{3}));
    EXPECT_EQ(o.status->shell_code(), 3);
}

TEST_P(LauncherTest, ReportsDeathBySignalAsData) {
    auto o = run(fake({"signal", std::to_string(SIGSEGV)}));
    ASSERT_TRUE(o.status);
    ASSERT_TRUE(o.status->is_signaled());
    EXPECT_EQ(std::get<signaled>(o.status->state()).signal, SIGSEGV);
    EXPECT_EQ(o.status->shell_code(), 128 + SIGSEGV);
}

TEST_P(LauncherTest, MergedOutputKeepsArrivalOrder) {
    auto opts = fake({"print", "1", "eprint", "2", "print", "3", "eprint", "4"});
    opts.output = output_mode::merged;
    auto o = run(opts);
    EXPECT_EQ(o.out, "1\n2\n3\n4\n");
    EXPECT_EQ(o.err, "");
}

TEST_P(LauncherTest, ChildSeesOnlyDescriptorsZeroToTwo) {
    // Leak bait: a socket and a plain fd without CLOEXEC in the parent.
    int bait = ::open("/dev/null", O_RDONLY);
    int sock = ::socket(AF_INET, SOCK_STREAM, 0);
    auto o = run(fake({"fds"}));
    ::close(bait);
    ::close(sock);
    EXPECT_EQ(o.out, "0 1 2\n");
}

TEST_P(LauncherTest, RunsInTheGivenDirectoryWithoutMovingTheParent) {
    test::temp_dir dir;
    auto before = std::filesystem::current_path();
    auto opts = fake({"cwd"});
    opts.cwd = dir.path().string();
    EXPECT_EQ(run(opts).out, std::filesystem::canonical(dir.path()).string() + "\n");
    EXPECT_EQ(std::filesystem::current_path(), before);
}

TEST_P(LauncherTest, EnvironmentInheritsExtendsAndReplaces) {
    ::setenv("CORRAL_TEST_INHERITED", "from-parent", 1);
    auto inherit = fake({"env", "CORRAL_TEST_INHERITED", "env", "CORRAL_TEST_ADDED"});
    inherit.env.set("CORRAL_TEST_ADDED", "added");
    EXPECT_EQ(run(inherit).out, "from-parent\nadded\n");

    auto unset = fake({"env", "CORRAL_TEST_INHERITED"});
    unset.env.unset("CORRAL_TEST_INHERITED");
    EXPECT_EQ(run(unset).out, "<unset>\n");

    auto replace = fake({"env", "CORRAL_TEST_INHERITED", "env", "ONLY"});
    replace.env.inherit = false;
    replace.env.set("ONLY", "this");
    EXPECT_EQ(run(replace).out, "<unset>\nthis\n");
}

TEST_P(LauncherTest, StdinDefaultsToDevNull) {
    EXPECT_EQ(run(fake({"echo", "print", "done"})).out, "done\n");
}

TEST_P(LauncherTest, StdinFromAFile) {
    test::temp_dir dir;
    std::ofstream(dir.file("in")) << "file contents\n";
    auto opts = fake({"echo"});
    opts.input = input_mode::file;
    opts.stdin_file = dir.file("in");
    EXPECT_EQ(run(opts).out, "file contents\n");
}

TEST_P(LauncherTest, AFifoAsStdinFileDoesNotBlockTheSpawn) {
    // Opening a FIFO that has no writer blocks; the spawn must not (it runs on the core's thread).
    test::temp_dir dir;
    ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
    auto opts = fake({"echo", "print", "eof-seen"});
    opts.input = input_mode::file;
    opts.stdin_file = dir.file("fifo");
    auto o = run(opts);
    EXPECT_EQ(o.out, "eof-seen\n");  // no writer: the job reads end-of-file
    EXPECT_EQ(o.status, exit_status(exited{0}));
}

TEST_P(LauncherTest, StdinPipeCanBeWrittenAndClosedLater) {
    auto opts = fake({"echo", "print", "eof-seen"});
    opts.input = input_mode::pipe;
    auto c = spawn(opts);
    ASSERT_TRUE(c) << c.error().what();
    auto talk = [](child ch) -> net::awaitable<std::string> {
        std::string hello = "hello through stdin\n";
        co_await net::async_write(*ch.stdin_pipe(), net::buffer(hello), net::use_awaitable);
        ch.close_stdin();
        auto out = co_await read_all(ch.stdout_pipe());
        co_await ch.wait();
        co_return out;
    };
    EXPECT_EQ(run_coro(ioc_, talk(std::move(*c))), "hello through stdin\neof-seen\n");
}

TEST_P(LauncherTest, PtyModeLooksLikeATerminal) {
    auto plain = run(fake({"isatty"}));
    EXPECT_EQ(plain.out, "notty\n");
    auto opts = fake({"isatty", "eprint", "err-too"});
    opts.pty = true;
    auto o = run(opts);
    EXPECT_EQ(o.out, "tty\r\nerr-too\r\n");  // the terminal's ONLCR turns \n into \r\n
    EXPECT_EQ(o.status, exit_status(exited{0}));
}

TEST_P(LauncherTest, AppliesResourceLimits) {
    auto opts = fake({"limits"});
    opts.limits.cpu_seconds = 7;
    opts.limits.address_space = 1ULL << 32;
    opts.limits.open_files = 64;
    opts.limits.processes = 500;
    EXPECT_EQ(run(opts).out, "7 4294967296 64 500\n");
}

TEST_P(LauncherTest, NoShellUnlessAsked) {
    // The metacharacters reach the program as one argument, nothing interprets them.
    EXPECT_EQ(run(fake({"print", "$(echo hacked); `id` | cat"})).out, "$(echo hacked); `id` | cat\n");
    spawn_options sh;
    sh.shell_command = "echo $((6 * 7))";
    EXPECT_EQ(run(sh).out, "42\n");
}

TEST_P(LauncherTest, FindsProgramsInPathOfTheChildEnvironment) {
    spawn_options o;
    o.argv = {"fake_child", "print", "found"};
    o.env.set("PATH", std::filesystem::path(fake_child).parent_path().string());
    EXPECT_EQ(run(o).out, "found\n");
}

TEST_P(LauncherTest, MissingProgramIsAClearErrorBeforeStart) {
    spawn_options o;
    o.argv = {"no-such-program-corral"};
    auto c = spawn(o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, make_error_code(errc::executable_not_found));
    EXPECT_NE(c.error().message.find("no-such-program-corral"), std::string::npos);

    o.argv = {"/nonexistent/prog"};
    c = spawn(o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, make_error_code(errc::executable_not_found));
    EXPECT_NE(c.error().message.find("No such file or directory"), std::string::npos) << c.error().message;
}

TEST_P(LauncherTest, BadCwdAndUnexecutableFilesAreClearErrors) {
    auto opts = fake({});
    opts.cwd = "/nonexistent-dir";
    auto c = spawn(opts);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, make_error_code(errc::spawn_failed));
    EXPECT_NE(c.error().message.find("cannot change directory to '/nonexistent-dir'"), std::string::npos)
        << c.error().message;

    test::temp_dir dir;
    std::ofstream(dir.file("script")) << "echo hi\n";  // not executable
    spawn_options o;
    o.argv = {dir.file("script")};
    c = spawn(o);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("Permission denied"), std::string::npos) << c.error().message;

    opts = fake({});
    opts.input = input_mode::file;
    opts.stdin_file = "/nonexistent-input";
    c = spawn(opts);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("/nonexistent-input"), std::string::npos);

    c = spawn(spawn_options{});
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, make_error_code(errc::invalid_spec));
}

TEST_P(LauncherTest, ChildLeadsItsOwnSession) {
    auto o = run(fake({"print", "x"}));  // warm-up: spawning works
    auto opts = fake({"sleep", "10000"});
    auto c = spawn(opts);
    ASSERT_TRUE(c);
    EXPECT_EQ(::getsid(c->pid()), c->pid());
    EXPECT_EQ(::getpgid(c->pid()), c->pid());
    c->signal_tree(SIGKILL);
    auto status = run_coro(ioc_, c->wait());
    EXPECT_EQ(status, exit_status(signaled{SIGKILL}));
}

TEST_P(LauncherTest, WithoutANewSessionTheChildStaysInOursAndItsTreeIsNotOurGroup) {
    auto opts = fake({"fork", "1", "sleep", "10000"});
    opts.new_session = false;
    opts.output = output_mode::inherit;  // nothing piped: stdout and stderr are ours
    auto c = spawn(opts);
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->stdout_pipe());
    EXPECT_FALSE(c->stderr_pipe());
    EXPECT_EQ(::getsid(c->pid()), ::getsid(0));
    EXPECT_EQ(::getpgid(c->pid()), ::getpgrp());
    // Stopping its tree must not signal our own group: we are still here to see the result.
    EXPECT_TRUE(run_coro(ioc_, c->stop(stop_plan::parse("TERM:2s,KILL").value())));
    EXPECT_EQ(run_coro(ioc_, c->wait()), exit_status(signaled{SIGTERM}));
}

TEST_P(LauncherTest, StdoutOnlyLeavesStderrToTheParentAndAPtyNeedsItsOwnSession) {
    auto opts = fake({"print", "out", "eprint", "err-goes-to-the-test-log"});
    opts.output = output_mode::stdout_only;
    auto o = run(opts);
    EXPECT_EQ(o.out, "out\n");
    EXPECT_EQ(o.err, "");
    auto pty = fake({"print", "x"});
    pty.pty = true;
    pty.new_session = false;
    auto c = spawn(pty);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, make_error_code(errc::invalid_spec));
}

TEST_P(LauncherTest, BlockingSpawnReportsLikeStart) {
    auto c = launcher_->spawn(fake({"print", "blocking", "exit", "4"}));
    ASSERT_TRUE(c) << c.error().what();
    auto o = run_coro(ioc_, collect(std::move(*c)));
    EXPECT_EQ(o.out, "blocking\n");
    EXPECT_EQ(o.status, exit_status(exited{4}));

    auto opts = fake({});
    opts.cwd = "/nonexistent-dir";
    c = launcher_->spawn(opts);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, make_error_code(errc::spawn_failed));
    EXPECT_NE(c.error().message.find("cannot change directory to '/nonexistent-dir'"), std::string::npos);
}

TEST_P(LauncherTest, ManyStartsInFlightAtOnceEachGetTheirOwnChild) {
    // Every start() suspends until its child has exec'd; 16 at once share the thread, each with its
    // own stack and plan, and each child prints its own argument.
    auto one = [this](int i) -> net::awaitable<std::string> {
        auto options = fake({"print", std::to_string(i)});  // g++ 12: no braced list inside co_await
        auto c = co_await launcher_->start(options);
        if (!c) {
            co_return "error: " + c.error().what();
        }
        co_return (co_await collect(std::move(*c))).out;
    };
    std::vector<std::string> outs(16);
    int done = 0;
    for (int i = 0; i < 16; ++i) {
        net::co_spawn(ioc_, one(i), [&outs, &done, i](std::exception_ptr, std::string out) {
            outs[static_cast<std::size_t>(i)] = std::move(out);
            ++done;
        });
    }
    for (int i = 0; i < 600 && done < 16; ++i) {
        ioc_.run_one_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(done, 16);
    for (int i = 0; i < 16; ++i) {
        EXPECT_EQ(outs[static_cast<std::size_t>(i)], std::to_string(i) + "\n");
    }
}

TEST_P(LauncherTest, AStartAbandonedBeforeTheExecKillsAndReapsItsChild) {
    auto ioc = std::make_unique<net::io_context>();
    auto made = launcher::create(ioc->get_executor(), {.tree = GetParam(), .subreaper = true});
    ASSERT_TRUE(made) << made.error().what();
    auto l = std::move(*made);
    // Another child alive: an idle launcher would wait for the exec on the spot, not suspend.
    auto spawned = l->spawn(fake({"sleep", "100000"}));
    ASSERT_TRUE(spawned) << spawned.error().what();
    std::optional<child> other(std::move(*spawned));
    bool completed = false;
    auto start_and_note = [&](spawn_options o) -> net::awaitable<void> {
        auto c = co_await l->start(o);
        completed = true;
    };
    net::co_spawn(*ioc, start_and_note(fake({"sleep", "100000"})), net::detached);
    const auto before = *own_children();
    ioc->run_one();  // start() runs up to its wait for the exec
    ASSERT_FALSE(completed);
    auto children = *own_children();
    std::erase_if(children,
                  [&](pid_t p) { return std::find(before.begin(), before.end(), p) != before.end(); });
    ASSERT_EQ(children.size(), 1U);
    const pid_t pid = children.front();

    other.reset();  // (killed and reaped: it must not outlive its io_context)
    ioc.reset();    // destroys the suspended coroutine, as a shutdown would
    EXPECT_FALSE(completed);
    EXPECT_EQ(::kill(pid, 0), -1) << "the child was left running or unreaped";
}

TEST_P(LauncherTest, ReportsItsMechanism) {
    EXPECT_EQ(launcher_->mechanism(),
              GetParam() == tree_mode::cgroup ? tree_mode::cgroup : tree_mode::process_group);
    EXPECT_FALSE(launcher_->describe().empty());
}

TEST(CgroupLeaves, AreReusedOnceEmptyAndAllRemovedWithTheLauncher) {
    net::io_context ioc;
    auto made = launcher::create(ioc.get_executor(), {tree_mode::cgroup});
    if (!made) {
        CORRAL_SKIP_WITHOUT_CGROUP(made.error().what());
    }
    auto l = std::move(*made);
    spawn_options o;
    o.argv = {"/bin/cat", "/proc/self/cgroup"};
    auto cgroup_of_a_job = [&] {
        auto c = l->spawn(o);
        EXPECT_TRUE(c) << c.error().what();
        auto text = run_coro(ioc, collect(std::move(*c))).out;
        const auto at = text.find("0::");
        return at == std::string::npos ? std::string() : text.substr(at + 3, text.find('\n', at) - at - 3);
    };
    const auto first = cgroup_of_a_job();
    ASSERT_NE(first.find("/job-"), std::string::npos) << first;
    EXPECT_EQ(cgroup_of_a_job(), first);  // the empty leaf went back to the pool and came out again

    {
        // Two at once need two leaves.
        spawn_options sleeper;
        sleeper.argv = {fake_child, "sleep", "100000"};
        auto a = l->spawn(sleeper);
        auto b = l->spawn(sleeper);
        ASSERT_TRUE(a && b);
        auto leaf_of = [](pid_t pid) {
            std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
            std::string line;
            while (std::getline(in, line) && !line.starts_with("0::")) {
            }
            return line;
        };
        EXPECT_NE(leaf_of(a->pid()), leaf_of(b->pid()));
        a->signal_tree(SIGKILL);
        b->signal_tree(SIGKILL);
        run_coro(ioc, a->wait());
        run_coro(ioc, b->wait());
    }  // both leaves back in the pool

    std::string mount;
    {
        std::ifstream in("/proc/self/mountinfo");
        mount = find_cgroup2_mount({std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()});
    }
    const auto root = mount + first.substr(0, first.rfind('/'));
    ASSERT_TRUE(std::filesystem::exists(root)) << root;
    l.reset();
    EXPECT_FALSE(std::filesystem::exists(root)) << root << " outlived its launcher";
}

INSTANTIATE_TEST_SUITE_P(Mechanisms,
                         LauncherTest,
                         ::testing::Values(tree_mode::cgroup, tree_mode::process_group),
                         [](const auto& p) {
                             return p.param == tree_mode::cgroup ? "Cgroup" : "ProcessGroup";
                         });

}  // namespace
}  // namespace corral::proc
