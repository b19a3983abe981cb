#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>

#include <boost/asio/posix/stream_descriptor.hpp>

#include "corral/core/asio.hpp"
#include "corral/proc/exit_status.hpp"
#include "corral/proc/spawn_options.hpp"
#include "corral/proc/stop_plan.hpp"

namespace corral::proc {

class process_tree;

/**
 * A running child and its process tree, owned from spawn to reap. Created by launcher::spawn().
 *
 * Exactly one coroutine calls wait(); it reaps the leader through its pidfd (no SIGCHLD handler, no
 * waitpid elsewhere). stop() and signal_tree() may be used concurrently with wait(): they only send
 * signals and look at the tree, they never reap.
 *
 * The destructor does not leak: a tree still alive then is killed (SIGKILL) and the leader reaped,
 * with a warning in the log, because that is a bug in the owner.
 */
class child {
  public:
    using pipe = net::posix::stream_descriptor;

    child(child&&) noexcept;
    child& operator=(child&&) noexcept;
    ~child();

    pid_t pid() const;

    /// Waits for the leader to exit and reaps it. Call once.
    net::awaitable<exit_status> wait();
    /// The leader's status once wait() has reaped it.
    std::optional<exit_status> status() const;
    /// Reaps the leader if it has exited, without waiting: its status then, or nullopt while it runs.
    /// For owners that look now and then instead of waiting (runner::registry); wait() still works
    /// afterwards and returns the same status at once.
    std::optional<exit_status> try_wait();

    /// Sends `signal` to every process of the tree.
    void signal_tree(int signal);
    /// True when every process of the tree, the leader included, has exited.
    bool tree_empty();
    /**
     * Applies the plan to the whole tree: each step signals every process, then waits up to its grace
     * for the tree to be gone. Returns true when the tree is gone (always, short of an unkillable
     * process in uninterruptible sleep). With `first_signal_sent`, the caller has already sent the
     * first step's signal (signal_tree) and the plan goes on from that step's grace.
     */
    net::awaitable<bool> stop(const stop_plan& plan, bool first_signal_sent = false);

    /// The write end of stdin (input_mode::pipe), or the PTY master in PTY mode with input pipe.
    std::optional<pipe>& stdin_pipe();
    /// Closes stdin. In PTY mode this sends the terminal's end-of-file character instead.
    void close_stdin();
    /// stdout (or the merged stream, or the PTY master).
    std::optional<pipe>& stdout_pipe();
    /// stderr when output_mode::separate and not PTY; empty otherwise.
    std::optional<pipe>& stderr_pipe();
    /// True when this child runs on a PTY: a read error EIO on stdout then means end of output.
    bool is_pty() const;
    /// Changes the PTY's size (sends SIGWINCH to the child). No-op without a PTY.
    void resize(terminal_size size);

    struct impl;
    explicit child(std::unique_ptr<impl> p);

  private:
    std::unique_ptr<impl> impl_;
};

}  // namespace corral::proc
