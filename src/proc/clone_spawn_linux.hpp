#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>

#include "unique_fd.hpp"

namespace corral::proc {

/// The step of the child's set-up that failed, for the error message.
enum class spawn_stage { none, setsid, cgroup, terminal, stdio, chdir, rlimit, close_fds, exec };

/// Everything the child needs, prepared by the parent: the child allocates nothing and calls no libc
/// function that could take a lock (it runs in the parent's memory until exec).
struct child_setup {
    const char* path = nullptr;
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* cwd = nullptr;             ///< nullptr: keep the parent's
    std::array<int, 3> stdio{-1, -1, -1};  ///< become the child's 0, 1, 2
    int cgroup_procs_fd = -1;              ///< the child writes "0" here to join its cgroup leaf
    bool controlling_terminal = false;     ///< stdio[1] is a PTY slave to make the controlling terminal
    bool new_session = true;               ///< setsid(); false stays in the parent's session and group
    struct limit {
        int resource;
        rlimit value;
    };
    std::array<limit, 4> limits{};
    int limit_count = 0;
    int exec_watch_fd = -1;  ///< clone_started(): kept open (CLOEXEC) until the exec; -1 otherwise

    // Written by the child when a stage fails (shared memory: CLONE_VM).
    int error = 0;
    spawn_stage failed_stage = spawn_stage::none;
};

struct spawned {
    pid_t pid = -1;
    unique_fd pidfd;
};

/**
 * clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD): the parent is suspended until the child has exec'd or
 * failed, so a failure is known (setup.error, setup.failed_stage) when this returns. On failure the
 * child has already exited and is reaped here. Returns false on failure (errno-style in setup.error).
 */
bool clone_and_exec(child_setup& setup, spawned& out);

/// A mapped stack for one child in flight (64 KiB), unmapped on destruction.
class child_stack {
  public:
    static child_stack make();  ///< empty (!*this) when mmap fails; errno says why
    child_stack() = default;
    child_stack(child_stack&& o) noexcept;
    child_stack& operator=(child_stack&& o) noexcept;
    ~child_stack();
    explicit operator bool() const { return base_ != nullptr; }
    char* top() const;

  private:
    char* base_ = nullptr;
};

/**
 * clone(CLONE_VM | CLONE_PIDFD) without CLONE_VFORK: returns as soon as the child exists, and the
 * calling thread goes on while the child sets itself up and execs. Until then the child still runs in
 * our memory: `setup` and `stack` must stay as they are until `setup.exec_watch_fd`'s read end reports
 * end-of-file (the child holds the only other copy of the write end, which closes when it execs or
 * exits; the caller closes its own right after this returns). A failure in the child is then in
 * setup.failed_stage, and the child has exited with 127. Only where has_raw_syscall (the child must not
 * touch our errno); returns false when clone itself fails (setup.error).
 */
bool clone_started(child_setup& setup, const child_stack& stack, spawned& out);

const char* stage_name(spawn_stage stage);

}  // namespace corral::proc
