#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "corral/core/asio.hpp"
#include "corral/core/error_info.hpp"
#include "corral/proc/child.hpp"
#include "corral/proc/spawn_options.hpp"

namespace corral::proc {

struct launcher_state;
struct spawned;

/// How the launcher finds and kills a child's whole process tree.
enum class tree_mode {
    automatic,      ///< cgroup v2 where the host allows it, else the process group + subreaper
    cgroup,         ///< require a cgroup v2 leaf per child (fail to start otherwise)
    process_group,  ///< each child's session/process group, with PR_SET_CHILD_SUBREAPER for escapees
};

/// "automatic", "cgroup" or "process_group" (also used to print test parameters).
std::string_view to_string(tree_mode mode);
inline void PrintTo(tree_mode mode, std::ostream* os) {
    *os << to_string(mode);
}

struct launcher_options {
    tree_mode tree = tree_mode::automatic;
    /// In process-group mode, make this process the child subreaper (PR_SET_CHILD_SUBREAPER) while
    /// the launcher lives, so that orphans of the jobs' trees (a `setsid` daemon a job leaves behind)
    /// come to it, can be found and are reaped. It is process-wide: an embedding program's unrelated
    /// orphans would become its zombies too, so it is an opt-in. corrald and `corral exec` opt in.
    /// Without it a tree's orphans go to init (or the nearest subreaper): killing a tree still
    /// reaches its process group and session, but not what left both. Ignored with cgroup v2, which
    /// sees every descendant.
    bool subreaper = false;
};

/**
 * Starts children. One launcher per program: it detects at start-up whether cgroup v2 can be used
 * (found through /proc/self/mountinfo, so hybrid v1+v2 hosts work) and otherwise uses process
 * groups (and, if asked, becomes the subreaper for its descendants: launcher_options::subreaper).
 *
 * Spawning is our own small posix_spawn-style spawner (clone with CLONE_VM|CLONE_PIDFD), so its cost
 * does not grow with the parent's size; the child starts its own session, joins its cgroup leaf,
 * sets up stdio, cwd and rlimits, closes every other descriptor and execs. spawn() blocks until the
 * exec (CLONE_VFORK); start() awaits it without blocking the thread. See docs/architecture.md and
 * docs/adr/0002-start-without-vfork.md.
 *
 * @par Thread safety
 * Use from one executor (the core's).
 */
class launcher {
  public:
    /**
     * Actionable errors: errc::unsupported when options.tree == tree_mode::cgroup and the host has no
     * usable cgroup v2 hierarchy.
     */
    static result_info<std::unique_ptr<launcher>> create(net::any_io_executor executor,
                                                         launcher_options options = {});
    ~launcher();
    launcher(const launcher&) = delete;
    launcher& operator=(const launcher&) = delete;

    /**
     * Starts a child. The error is reported before anything counts as started.
     * Actionable errors: errc::executable_not_found, errc::invalid_spec, errc::spawn_failed (the
     * message names the stage — stdin file, chdir, cgroup, rlimit, exec — and the OS reason).
     */
    result_info<child> spawn(const spawn_options& options);

    /**
     * Starts a child like spawn(), without blocking the thread while the child sets itself up and
     * execs: clone without CLONE_VFORK, then an asynchronous wait until the child has exec'd (or
     * failed, with the same errors as spawn()). The thread serves other work meanwhile, and the
     * child runs on whichever CPU is free. Falls back to spawn() where the child cannot run beside
     * us safely (no raw system calls on this architecture). If the coroutine is cancelled or
     * destroyed before the exec, the child is killed and reaped.
     */
    net::awaitable<result_info<child>> start(spawn_options options);

    /// The mechanism in use: tree_mode::cgroup or tree_mode::process_group.
    tree_mode mechanism() const;
    /// For logs and `corral exec --verbose`: "cgroup v2 at /sys/fs/cgroup/unified/corral-123".
    std::string describe() const;
    /// cgroup mode: removes the empty cgroup directories of earlier corral processes that have exited
    /// (after their leftover processes were killed, for instance). Otherwise nothing.
    void remove_stale_cgroups() const;

  private:
    struct spawn_plan;
    result_info<std::unique_ptr<spawn_plan>> prepare(const spawn_options& options);
    child adopt(spawn_plan& plan, spawned& sp);

    launcher(net::any_io_executor executor, std::shared_ptr<launcher_state> s);
    net::any_io_executor executor_;
    std::shared_ptr<launcher_state> state_;
};

}  // namespace corral::proc
