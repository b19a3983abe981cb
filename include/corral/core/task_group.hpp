#pragma once

#include <cstddef>
#include <list>
#include <string>

#include <boost/asio/cancellation_signal.hpp>

#include "corral/core/async_event.hpp"

namespace corral {

/**
 * Owns a set of running coroutines: starts them, logs any exception that escapes one (never a bare
 * `detached`), cancels them all on request and lets the owner wait until every one has ended. The
 * graceful-shutdown building block of the pod (DESIGN.md runtime model).
 *
 * @par Thread safety
 * Not thread-safe: use from the executor it was made with. Must outlive its tasks: wait() for them.
 */
class task_group {
  public:
    explicit task_group(net::any_io_executor executor);
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    /// Starts `task`; `what` names it in the log if it throws.
    void spawn(net::awaitable<void> task, std::string what);
    /// Sends a terminal cancellation to every task still running.
    void cancel_all();
    /// Returns once no task is running.
    net::awaitable<void> wait();
    std::size_t size() const { return signals_.size(); }

  private:
    net::any_io_executor executor_;
    std::list<net::cancellation_signal> signals_;
    async_event changed_;
};

}  // namespace corral
