#pragma once

#include <boost/asio/steady_timer.hpp>

#include "corral/core/asio.hpp"

namespace corral {

/**
 * Wakes every coroutine waiting on it. Waiters re-check their own condition after waking, so a
 * notify that nobody is waiting for is not lost state, just a no-op.
 *
 * @par Thread safety
 * Not thread-safe: use from the executor it was made with.
 */
class async_event {
  public:
    explicit async_event(net::any_io_executor executor)
        : timer_(std::move(executor), net::steady_timer::time_point::max()) {}

    /// Returns when notify_all() is called or the wait is cancelled.
    net::awaitable<void> wait() { co_await timer_.async_wait(use_nothrow); }
    void notify_all() { timer_.cancel(); }

  private:
    net::steady_timer timer_;
};

}  // namespace corral
