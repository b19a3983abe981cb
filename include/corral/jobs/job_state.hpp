#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace corral::jobs {

/// [waiting →] queued → running [→ retrying → queued → running …] → succeeded | failed | killed |
/// timed_out | lost
enum class job_state {
    queued,     ///< accepted, not started yet
    running,    ///< its process has started
    succeeded,  ///< exited with code 0
    failed,     ///< exited non-zero, died of a signal nobody sent, or could not start (see reason)
    killed,     ///< stopped on request (or by the output cap)
    timed_out,  ///< stopped because its time limit passed
    lost,       ///< the daemon that ran it went away (set by the store after a restart)
    waiting,    ///< accepted, waiting for the jobs it runs after (job_spec::after_ok, after_any) to end
    retrying,   ///< an attempt ended in a way its retry policy retries: the next starts at next_attempt
};

/// Every state, in the order above (for lists, filters and metrics).
std::span<const job_state> all_job_states();
std::string_view to_string(job_state s);
std::optional<job_state> job_state_from_string(std::string_view s);
/// Ended for good: not queued, running, waiting or retrying.
bool is_finished(job_state s);
/// Accepted but not running, and no process of its attempt exists: queued, waiting or retrying.
bool is_pending(job_state s);

}  // namespace corral::jobs
