#include "corral/proc/launcher.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "child_impl.hpp"
#include "clone_spawn_linux.hpp"
#include "launcher_state.hpp"
#include "process_tree.hpp"
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
        // Orphans of our children's trees come to us instead of init, so they can be found and reaped.
        if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
            spdlog::warn("PR_SET_CHILD_SUBREAPER failed: {}", std::strerror(errno));
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
    return state_->fallback_reason.empty()
               ? "process group + subreaper"
               : fmt::format("process group + subreaper (cgroup v2 unavailable: {})",
                             state_->fallback_reason);
}

result_info<child> launcher::spawn(const spawn_options& options) {
    auto argv = build_argv(options);
    if (!argv) {
        return argv.error();
    }
    const std::uint64_t id = state_->next_id++;
    environment env = options.env;
    std::string tag;
    if (state_->mode == tree_mode::process_group) {
        tag = fmt::format("CORRAL_TREE={}.{}", ::getpid(), id);
        env.set("CORRAL_TREE", tag.substr(12));
    }
    auto env_strings = build_environment(env);
    auto program = find_program(argv->front(), env_strings, options.cwd);
    if (!program) {
        return program.error();
    }
    auto io = make_stdio(options);
    if (!io) {
        return io.error();
    }
    std::optional<cgroup_leaf> leaf;
    if (state_->cgroup) {
        auto l = state_->cgroup->make_leaf(id);
        if (!l) {
            return l.error();
        }
        leaf.emplace(std::move(*l));
    }

    auto argv_ptrs = pointers(*argv);
    auto env_ptrs = pointers(env_strings);
    child_setup setup;
    setup.path = program->c_str();
    setup.argv = argv_ptrs.data();
    setup.envp = env_ptrs.data();
    setup.cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
    setup.stdio = io->child;
    setup.cgroup_procs_fd = leaf ? leaf->procs_fd() : -1;
    setup.controlling_terminal = io->pty;
    add_limits(options.limits, setup);

    spawned sp;
    if (!clone_and_exec(setup, sp)) {
        return describe_failure(setup, options);
    }
    io->child_owned.clear();  // the child has its copies; ours would hold pipes open forever

    std::unique_ptr<process_tree> tree;
    if (leaf) {
        tree = std::make_unique<cgroup_tree>(std::move(*leaf), sp.pid);
    } else {
        state_->leaders.insert(sp.pid);
        tree = std::make_unique<pgroup_tree>(state_, sp.pid, tag);
    }
    return child(std::make_unique<child::impl>(
        executor_, sp.pid, std::move(sp.pidfd), std::move(tree), state_, std::move(*io)));
}

}  // namespace corral::proc
