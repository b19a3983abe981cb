#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <boost/asio/steady_timer.hpp>

#include "corral/core/asio.hpp"
#include "corral/core/async_event.hpp"

namespace corral::jobs {

/**
 * Whether some job is pouring out output as fast as it can write, so that work which can wait (the
 * fan-out to watchers) waits, and the core's time goes to taking that output first.
 *
 * Why: at the speed a child can fill a pipe (GB/s), the core taking blocks into the log is what
 * paces the job, and every moment spent writing to watchers is a moment the job is blocked on a
 * full pipe. Watchers can always catch up later from the log; the job cannot get its time back
 * (bench/results/watchers.md has the figures).
 *
 * A pipe is *pouring* when the reader thread hands the core a big block (pipe_reader): that much was
 * waiting in the pipe, so the child writes faster than it is read. The pressure lasts `calm_after`
 * past the last big block. Ordinary logs, read a line or a few KiB at a time, never raise it.
 *
 * @par Thread safety
 * Not thread-safe: use from the executor it was made with (the core's).
 */
class output_pressure : public std::enable_shared_from_this<output_pressure> {
  public:
    using duration = std::chrono::steady_clock::duration;
    static constexpr duration default_calm_after = std::chrono::milliseconds(2);

    explicit output_pressure(net::any_io_executor core, duration calm_after = default_calm_after);

    /// A big block came out of a pipe.
    void pouring();
    bool high() const { return high_; }
    /// Big blocks so far (/metrics: corral_output_pouring_blocks_total).
    std::uint64_t pouring_blocks() const { return blocks_; }
    /// Returns at once when the pressure is low; otherwise once it is, or after `at_most`.
    net::awaitable<void> wait_low(duration at_most);

  private:
    void arm();

    duration calm_after_;
    std::chrono::steady_clock::time_point last_{};
    bool high_ = false;
    std::uint64_t blocks_ = 0;
    net::steady_timer calm_timer_;
    async_event low_;
};

}  // namespace corral::jobs
