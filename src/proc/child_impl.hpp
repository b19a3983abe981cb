#pragma once

#include <memory>
#include <optional>

#include "corral/proc/child.hpp"
#include "launcher_state.hpp"
#include "process_tree.hpp"
#include "spawn_prep.hpp"
#include "unique_fd.hpp"

namespace corral::proc {

struct child::impl {
    impl(net::any_io_executor executor,
         pid_t pid,
         unique_fd pidfd,
         std::unique_ptr<process_tree> tree,
         std::shared_ptr<launcher_state> state,
         stdio_fds io);
    ~impl();

    bool leader_gone();
    /// Collects the exit status if the child has exited; never blocks.
    bool try_reap();
    /// Waits for the child to exit and collects its status.
    void reap_blocking();

    net::any_io_executor executor;
    pid_t pid;
    child::pipe pidfd;
    std::unique_ptr<process_tree> tree;
    std::shared_ptr<launcher_state> state;
    std::optional<child::pipe> in, out, err;
    bool pty;
    std::optional<exit_status> status;
};

}  // namespace corral::proc
