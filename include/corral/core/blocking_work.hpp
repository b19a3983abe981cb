#pragma once
// Work that may block (file I/O, user lookups through NSS) runs on a thread of its own, never on the
// core's thread that serves every client (DESIGN.md "Runtime model").

#include <type_traits>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>

#include "corral/core/asio.hpp"

namespace corral {

/**
 * Runs `fn()` on `where` (the blocking-work thread, job_service::blocking_executor()) and resumes the
 * caller on its own executor with the result; inline when `where` is empty (tests, tools).
 *
 * Not cancellable: the caller always waits for `fn` to finish, so whatever `fn` reads or writes (a
 * log's chunks, a buffer) stays alive for it. `fn` must not touch the core's state: it gets copies or
 * memory the caller does not change meanwhile, and returns what the caller applies.
 */
template <typename F>
net::awaitable<std::invoke_result_t<F&>> run_blocking(net::any_io_executor where, F fn) {
    using result = std::invoke_result_t<F&>;
    static_assert(!std::is_void_v<result>, "return what the caller applies, on its own thread");
    if (!where) {
        co_return fn();
    }
    // Named first, no temporaries: g++ 12 miscompiles temporaries inside a co_await expression (here
    // it relocated the closure bitwise, and a captured std::string then freed a stack address).
    auto on_that_thread = [fn = std::move(fn)]() mutable -> net::awaitable<result> { co_return fn(); };
    // No cancellation slot: with the caller's, a cancelled caller (a watcher that went away) made
    // co_spawn post a cancellation to that thread, which could land after the spawned coroutine had
    // finished and been freed (corrald segfaulted in cancellation_signal::emit under load).
    auto spawned = net::co_spawn(std::move(where),
                                 std::move(on_that_thread),
                                 net::bind_cancellation_slot(net::cancellation_slot(), net::use_awaitable));
    co_return co_await std::move(spawned);
}

}  // namespace corral
