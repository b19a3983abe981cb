#include "corral/proc/launcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "child_impl.hpp"
#include "clone_spawn_linux.hpp"
#include "launcher_state.hpp"
#include "pidfd_linux.hpp"
#include "process_tree.hpp"
#include "raw_syscall_linux.hpp"
#include "spawn_prep.hpp"

namespace corral::proc {
namespace {

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

void add_limits(const resource_limits& limits, child_setup& setup) {
    auto add = [&](int resource, const std::optional<std::uint64_t>& value) {
        if (value) {
            rlimit l{static_cast<rlim_t>(*value), static_cast<rlim_t>(*value)};
            setup.limits[static_cast<std::size_t>(setup.limit_count++)] = {resource, l};
        }
    };
    add(RLIMIT_CPU, limits.cpu_seconds);
    add(RLIMIT_AS, limits.address_space);
    add(RLIMIT_NOFILE, limits.open_files);
    add(RLIMIT_NPROC, limits.processes);
}

error_info describe_failure(const child_setup& setup, const spawn_options& options) {
    const char* reason = std::strerror(setup.error);
    switch (setup.failed_stage) {
        case spawn_stage::exec:
            return {make_error_code(setup.error == ENOENT ? errc::executable_not_found : errc::spawn_failed),
                    fmt::format("cannot execute '{}': {}", setup.path, reason)};
        case spawn_stage::chdir:
            return {make_error_code(errc::spawn_failed),
                    fmt::format("cannot change directory to '{}': {}", options.cwd, reason)};
        default:
            return {make_error_code(errc::spawn_failed),
                    fmt::format("cannot {} in the child: {}", stage_name(setup.failed_stage), reason)};
    }
}

}  // namespace

std::string_view to_string(tree_mode mode) {
    switch (mode) {
        case tree_mode::automatic:
            return "automatic";
        case tree_mode::cgroup:
            return "cgroup";
        case tree_mode::process_group:
            return "process_group";
    }
    return "?";
}

result_info<std::unique_ptr<launcher>> launcher::create(net::any_io_executor executor,
                                                        launcher_options options) {
    auto s = std::make_shared<launcher_state>();
    std::string fallback_reason;
    if (options.tree != tree_mode::process_group) {
        auto root = cgroup_root::create();
        if (root) {
            s->cgroup = std::move(*root);
            s->mode = tree_mode::cgroup;
        } else if (options.tree == tree_mode::cgroup) {
            return root.error();
        } else {
            fallback_reason = root.error().message;
        }
    }
    if (s->mode == tree_mode::process_group) {
        int already = 0;
        if (options.subreaper && ::prctl(PR_GET_CHILD_SUBREAPER, &already) == 0 && already == 0) {
            // Orphans of our children's trees come to us instead of init, so they can be found and reaped.
            if (::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0) {
                s->made_subreaper = true;
            } else {
                spdlog::warn("PR_SET_CHILD_SUBREAPER failed: {}", std::strerror(errno));
            }
        }
        s->fallback_reason = fallback_reason;
    }
    auto l = std::unique_ptr<launcher>(new launcher(std::move(executor), std::move(s)));
    spdlog::debug("process trees: {}", l->describe());
    return l;
}

launcher::launcher(net::any_io_executor executor, std::shared_ptr<launcher_state> s)
    : executor_(std::move(executor)), state_(std::move(s)) {}

launcher::~launcher() = default;

tree_mode launcher::mechanism() const {
    return state_->mode;
}

void launcher::remove_stale_cgroups() const {
    if (state_->cgroup) {
        state_->cgroup->remove_stale_siblings();
    }
}

std::string launcher::describe() const {
    if (state_->mode == tree_mode::cgroup) {
        return fmt::format("cgroup v2, one leaf per job under {}", state_->cgroup->path());
    }
    int subreaper = 0;
    ::prctl(PR_GET_CHILD_SUBREAPER, &subreaper);
    const char* how = subreaper ? "process group + subreaper" : "process group (not a subreaper)";
    return state_->fallback_reason.empty()
               ? std::string(how)
               : fmt::format("{} (cgroup v2 unavailable: {})", how, state_->fallback_reason);
}

launcher_state::~launcher_state() {
    if (made_subreaper) {
        ::prctl(PR_SET_CHILD_SUBREAPER, 0);  // as it was: the program's own orphans go to init again
    }
}

// Everything prepared in the parent for one spawn. The child reads it until it execs, so while a
// spawn is in flight it stays where it is (on the heap).
struct launcher::spawn_plan {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::string program;
    std::string tag;  // process-group mode: CORRAL_TREE=<pid>.<id>
    std::vector<char*> argv_ptrs;
    std::vector<char*> env_ptrs;
    stdio_fds io;
    std::optional<cgroup_leaf> leaf;
    child_setup setup;
};

result_info<std::unique_ptr<launcher::spawn_plan>> launcher::prepare(const spawn_options& options) {
    auto plan = std::make_unique<spawn_plan>();
    auto argv = build_argv(options);
    if (!argv) {
        return argv.error();
    }
    plan->argv = std::move(*argv);
    const std::uint64_t id = state_->next_id++;
    environment env = options.env;
    if (state_->mode == tree_mode::process_group) {
        plan->tag = fmt::format("CORRAL_TREE={}.{}", ::getpid(), id);
        env.set("CORRAL_TREE", plan->tag.substr(12));
    }
    plan->env = build_environment(env);
    if (!options.new_session && options.pty) {
        return error_info{make_error_code(errc::invalid_spec),
                          "a PTY needs a session of its own: new_session cannot be false with pty"};
    }
    auto program = find_program(plan->argv.front(), plan->env, options.cwd);
    if (!program) {
        return program.error();
    }
    plan->program = std::move(*program);
    auto io = make_stdio(options);
    if (!io) {
        return io.error();
    }
    plan->io = std::move(*io);
    if (state_->cgroup) {
        auto l = state_->cgroup->make_leaf(id);
        if (!l) {
            return l.error();
        }
        plan->leaf.emplace(std::move(*l));
    }

    plan->argv_ptrs = pointers(plan->argv);
    plan->env_ptrs = pointers(plan->env);
    auto& setup = plan->setup;
    setup.path = plan->program.c_str();
    setup.argv = plan->argv_ptrs.data();
    setup.envp = plan->env_ptrs.data();
    setup.cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
    setup.stdio = plan->io.child;
    setup.cgroup_procs_fd = plan->leaf ? plan->leaf->procs_fd() : -1;
    setup.controlling_terminal = plan->io.pty;
    setup.new_session = options.new_session;
    add_limits(options.limits, setup);
    return plan;
}

child launcher::adopt(spawn_plan& plan, spawned& sp) {
    std::unique_ptr<process_tree> tree;
    if (plan.leaf) {
        tree = std::make_unique<cgroup_tree>(std::move(*plan.leaf), sp.pid);
    } else {
        state_->leaders.insert(sp.pid);
        tree = std::make_unique<pgroup_tree>(state_, sp.pid, plan.tag);
    }
    return child(std::make_unique<child::impl>(
        executor_, sp.pid, std::move(sp.pidfd), std::move(tree), state_, std::move(plan.io)));
}

result_info<child> launcher::spawn(const spawn_options& options) {
    auto plan = prepare(options);
    if (!plan) {
        return plan.error();
    }
    spawned sp;
    if (!clone_and_exec((*plan)->setup, sp)) {
        return describe_failure((*plan)->setup, options);
    }
    (*plan)->io.child_owned.clear();  // the child has its copies; ours would hold pipes open forever
    return adopt(**plan, sp);
}

namespace {

void reap(const spawned& sp) {
    siginfo_t info{};
    while (::waitid(P_PIDFD, static_cast<id_t>(sp.pidfd.get()), &info, WEXITED) < 0 && errno == EINTR) {
    }
}

// A child started by clone_started() that may still run in our memory. If the coroutine that waits
// for its exec ends early (cancelled, or destroyed at shutdown), this kills and reaps the child, and
// first waits, here, until it has let go of our memory, so the plan and stack are not freed under it.
// It counts as one of the launcher's busy children meanwhile.
class in_flight {
  public:
    in_flight(launcher_state& state, const spawned& sp, int watch)
        : state_(state), child_(sp), watch_(watch) {
        ++state_.busy;
        if (state_.mode == tree_mode::process_group) {
            // A leader from now on, so that other trees' checks do not take it for a stray process of
            // theirs (and scan all of /proc to be sure) while it execs.
            state_.leaders.insert(child_.pid);
        }
    }
    in_flight(const in_flight&) = delete;
    in_flight& operator=(const in_flight&) = delete;
    ~in_flight() {
        if (armed_) {
            send_signal(child_.pidfd.get(), SIGKILL);
            wait_until_released(-1);
            reap(child_);
            state_.leaders.erase(child_.pid);
        }
        --state_.busy;
    }
    /// True once the child has exec'd or exited (the watch reads end-of-file); waits up to
    /// `timeout_ms` for it (-1: for as long as it takes).
    bool wait_until_released(int timeout_ms) const {
        pollfd p{watch_, POLLIN, 0};
        int r;
        while ((r = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
        }
        return r > 0;
    }
    void disarm() { armed_ = false; }

  private:
    launcher_state& state_;
    const spawned& child_;
    int watch_;
    bool armed_ = true;
};

// How long an idle launcher waits for the exec on the spot (see start()).
constexpr int idle_exec_wait_ms = 2;

}  // namespace

net::awaitable<result_info<child>> launcher::start(spawn_options options) {
    if (!has_raw_syscall) {
        co_return spawn(options);
    }
    auto plan_or = prepare(options);
    if (!plan_or) {
        co_return plan_or.error();
    }
    auto plan = std::move(*plan_or);
    int watch_fds[2];
    if (::pipe2(watch_fds, O_CLOEXEC) != 0) {
        co_return error_info{make_error_code(errc::spawn_failed),
                             fmt::format("cannot make a pipe to watch the exec: {}", std::strerror(errno))};
    }
    unique_fd watch_write(watch_fds[1]);
    child::pipe watch(executor_, watch_fds[0]);
    plan->setup.exec_watch_fd = watch_write.get();
    child_stack stack = state_->take_stack();
    if (!stack) {
        co_return error_info{make_error_code(errc::spawn_failed),
                             fmt::format("cannot map a stack for the child: {}", std::strerror(errno))};
    }
    spawned sp;
    if (!clone_started(plan->setup, stack, sp)) {
        co_return describe_failure(plan->setup, options);
    }
    const bool alone = state_->busy == 0;
    in_flight guard(*state_, sp, watch.native_handle());
    watch_write.reset();           // the child's copy is now the only one: it closes at its exec
    plan->io.child_owned.clear();  // and it has its own copies of these

    // With no other child to look after, the thread waits for the exec right here, a little: asleep,
    // it leaves its CPU to the child at once (as CLONE_VFORK did), and a lone job's first output
    // comes sooner than through the reactor. A slow exec still ends up waited for asynchronously.
    bool released = alone && guard.wait_until_released(idle_exec_wait_ms);
    if (!released) {
        auto [ec] = co_await watch.async_wait(child::pipe::wait_read, use_nothrow);
        if (ec) {
            co_return error_info{
                make_error_code(errc::spawn_failed),
                fmt::format("the spawn was cancelled: {}", ec.message())};  // the guard kills it
        }
        guard.wait_until_released(-1);  // readable means end-of-file: nothing else is ever written
    }
    guard.disarm();
    state_->give_back_stack(std::move(stack));
    if (plan->setup.failed_stage != spawn_stage::none) {
        reap(sp);
        state_->leaders.erase(sp.pid);
        co_return describe_failure(plan->setup, options);
    }
    co_return adopt(*plan, sp);
}

}  // namespace corral::proc
