#pragma once

#include <optional>
#include <string_view>

namespace corral::jobs {

/// queued → running → succeeded | failed | killed | timed_out | lost
enum class job_state {
    queued,     ///< accepted, not started yet
    running,    ///< its process has started
    succeeded,  ///< exited with code 0
    failed,     ///< exited non-zero, died of a signal nobody sent, or could not start (see reason)
    killed,     ///< stopped on request (or by the output cap)
    timed_out,  ///< stopped because its time limit passed
    lost,       ///< the daemon that ran it went away (set by the store after a restart)
};

std::string_view to_string(job_state s);
std::optional<job_state> job_state_from_string(std::string_view s);
bool is_finished(job_state s);

}  // namespace corral::jobs
