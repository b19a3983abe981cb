#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "corral/core/asio.hpp"
#include "corral/jobs/job_table.hpp"
#include "corral/jobs/pipe_reader.hpp"
#include "corral/proc/launcher.hpp"

namespace corral::jobs {

/**
 * Runs jobs: spawns the process, pumps stdout/stderr into the job's log (chatty pipes on
 * pipe_reader's thread; with back-pressure from holds), reaps it, applies its timeout and stop requests to
 * the whole tree, stops processes left behind when the leader exits, and records the outcome.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class job_runner {
  public:
    struct options {
        /// A pipe is read on the core's thread, straight into the log, until this many bytes have
        /// come through it; then pipe_reader's thread takes it over for the rest of the job. Most
        /// jobs print little and never pay for the hand-over; a chatty one no longer waits on a
        /// busy event loop. 0: every pipe on the reader thread from the start.
        std::uint64_t hand_over_after = 64 * 1024;
        pipe_reader::options reading;
        /// Once the job's process tree has ended, its output pipes are read for at most this long.
        /// They close at once unless a process corral cannot see holds them (in process-group mode,
        /// one that left the job's session and group and cleared its environment); the job then
        /// ends anyway, with a note in its reason, instead of running for ever.
        std::chrono::milliseconds drain_output{2000};
    };

    job_runner(proc::launcher& launcher, job_table& table, options o)
        : launcher_(launcher), table_(table), options_(o), reader_(o.reading) {}
    job_runner(proc::launcher& launcher, job_table& table) : job_runner(launcher, table, options{}) {}

    /// Chatty pipes report their big blocks to `pressure` (output_pressure), for fan-out to defer to.
    void report_pressure_to(std::shared_ptr<output_pressure> pressure) {
        reader_.report_to(std::move(pressure));
    }

    /// Called once a job that ran has all its output and its outcome, before its log is saved and
    /// the `finished` event: the service reads a task's result here, from memory.
    using before_finish = std::function<net::awaitable<void>(job&)>;
    void on_before_finish(before_finish hook) { before_finish_ = std::move(hook); }

    /// Called as each attempt ends, once its state is settled (after before_finish): true keeps the
    /// job from finishing, because the hook has arranged another attempt (the service's retries).
    /// The job's log stays open for it; its process is released.
    using attempt_end = std::function<bool(job&)>;
    void on_attempt_end(attempt_end hook) { attempt_end_ = std::move(hook); }

    /// Runs one queued job to its end. Never throws for job failures: they are job states.
    net::awaitable<void> run(job& j);

    /**
     * Asks a job to stop with `plan` (or its own stop plan). Any further request escalates to SIGKILL
     * at once. A queued, waiting or retrying job is marked killed without starting.
     * Actionable errors: errc::invalid_state when the job has already finished.
     */
    result<void> stop(job& j, stop_reason why, std::optional<proc::stop_plan> plan = std::nullopt);

    /// Ends a queued job as failed without starting it (`reason` says why: its start could not be
    /// recorded). Does nothing to a job that is no longer queued.
    void fail_unstarted(job& j, std::string reason);
    /// Ends a job that is not running (queued, waiting or retrying) as `state` for `reason` (a
    /// dependency failed). Does nothing to a job that is running or has ended.
    void end_pending(job& j, job_state state, std::string reason);

    /**
     * Writes to a running job's stdin (input_mode::pipe), after the writes that came before it.
     * Errors: errc::invalid_state when the job has no open stdin (or lost it while this write waited
     * its turn); net::error::timed_out when the job did not take the bytes within `limit` (the write
     * is abandoned: it may have taken part of them); the pipe's own errors.
     */
    net::awaitable<result<void>> write_stdin(job& j,
                                             std::string data,
                                             std::chrono::milliseconds limit = std::chrono::seconds(30));
    /// Closes a running job's stdin (EOF for the child; ^D on a PTY).
    result<void> close_stdin(job& j);

  private:
    enum class pump_end { done, handed_over };
    net::awaitable<void> pump(job& j, proc::child::pipe& pipe, output::stream source);
    net::awaitable<pump_end> pump_here(job& j, proc::child::pipe& pipe, output::stream source);
    net::awaitable<void> pump_from_reader(job& j, proc::child::pipe& pipe, output::stream source);
    void after_commit(job& j, output::commit_result r);
    net::awaitable<void> supervise_exit(job& j);
    net::awaitable<void> abandon_output_after_exit(job& j, const bool& exited, async_event& exit_seen);
    net::awaitable<void> control(job& j);
    /// Settles the job's state from how it ended; then finish() ends it at once (its log is small: it
    /// never ran) and finish_ran() awaits the hook and saves the log off the core's thread.
    void settle(job& j);
    void finish(job& j);
    net::awaitable<void> finish_ran(job& j);
    void finished(job& j);

    proc::launcher& launcher_;
    job_table& table_;
    options options_;
    pipe_reader reader_;
    before_finish before_finish_;
    attempt_end attempt_end_;
};

}  // namespace corral::jobs
