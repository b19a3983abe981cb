#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cgroup_linux.hpp"
#include "clone_spawn_linux.hpp"
#include "corral/proc/launcher.hpp"
#include "unique_fd.hpp"

namespace corral::proc {

/// What the launcher and its children share. Lives as long as the last of them.
struct launcher_state {
    tree_mode mode = tree_mode::process_group;
    std::optional<cgroup_root> cgroup;
    std::uint64_t next_id = 1;
    /// Children alive (spawned and not yet released by their owner) and spawns in flight.
    std::size_t busy = 0;

    // process-group mode only: our leaders, and orphans adopted as subreaper (pid -> pidfd), which we
    // must reap ourselves. Only processes seen alive with a tree tag are adopted, so we never reap a
    // child that belongs to someone else in an embedding program.
    std::set<pid_t> leaders;
    std::map<pid_t, unique_fd> orphans;
    std::string fallback_reason;  // why cgroup v2 is not used, for describe()
    bool made_subreaper = false;  // it set PR_SET_CHILD_SUBREAPER, and clears it when it goes

    // Stacks of finished spawns (launcher::start), kept for the next ones: unmapping after every spawn
    // costs a TLB shootdown. At most max_free_stacks; one per spawn in flight is made as needed.
    static constexpr std::size_t max_free_stacks = 8;
    std::vector<child_stack> free_stacks;
    child_stack take_stack() {
        if (free_stacks.empty()) {
            return child_stack::make();
        }
        child_stack s = std::move(free_stacks.back());
        free_stacks.pop_back();
        return s;
    }
    void give_back_stack(child_stack s) {
        if (free_stacks.size() < max_free_stacks) {
            free_stacks.push_back(std::move(s));
        }
    }

    /// Reaps adopted orphans that have exited. Never blocks.
    void reap_orphans();

    launcher_state() = default;
    launcher_state(const launcher_state&) = delete;
    launcher_state& operator=(const launcher_state&) = delete;
    ~launcher_state();
};

}  // namespace corral::proc
