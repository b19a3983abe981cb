#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "corral/core/async_event.hpp"
#include "corral/jobs/job_state.hpp"
#include "corral/output/output_log.hpp"
#include "corral/proc/child.hpp"
#include "corral/proc/exit_status.hpp"
#include "corral/proc/spawn_options.hpp"
#include "corral/proc/stop_plan.hpp"

namespace corral::jobs {

/// Labels corral sets and trusts begin with this; requests may not set them.
inline constexpr std::string_view reserved_label_prefix = "corral.";
/// A step of a multi-step job names its parent job's id with this label.
inline constexpr std::string_view parent_label = "corral.parent";

using job_id = std::uint64_t;
using clock = std::chrono::system_clock;

/// What to run and under which limits.
struct job_spec {
    proc::spawn_options process;
    /// Wall-clock limit; when it passes the stop plan is applied and the job ends as timed_out.
    std::optional<std::chrono::milliseconds> timeout;
    /// How to stop the tree: on a kill request, on timeout, and for processes left when the leader exits.
    proc::stop_plan stop;
    output::log_options output;
    std::map<std::string, std::string> labels;
    /// Queue order: lower numbers start first, FIFO within a priority (ASEXOR's scale: 0 to 9).
    int priority = 4;
    /// Jobs in a group share the group's concurrency limit (`[jobs.groups]`); empty: no group.
    std::string group;
};

/// Why a job was asked to stop.
enum class stop_reason { request, timeout, output_cap, shutdown };

/// One job: its record (spec, state, times, exit status, reason) and its output log.
struct job {
    job_id id = 0;
    std::string owner;
    job_spec spec;
    job_state state = job_state::queued;
    clock::time_point created{};
    /// Its place among jobs of the same priority while queued (the scheduler's FIFO order).
    std::uint64_t queue_seq = 0;
    std::optional<clock::time_point> started;
    std::optional<clock::time_point> finished;
    std::optional<proc::exit_status> exit;
    /// Why it ended as it did, for people: "exited with code 2", "timed out after 5s", spawn errors.
    std::string reason;
    /// Set when the job could not start (errc::executable_not_found, errc::spawn_failed, ...).
    boost::system::error_code start_error;
    pid_t pid = 0;
    std::unique_ptr<output::output_log> log;
    /// The task it runs (empty for an ad-hoc command) and the task's arguments after validation.
    std::string task;
    boost::json::value args;
    /// What the task's result parser made of its output (null until it succeeds; multi-step tasks:
    /// `{"results": [...], "duration": seconds}`).
    boost::json::value result;
    /// Multi-step tasks: steps done / steps, after each step.
    std::optional<double> progress;
    /// The submitter's idempotency key (empty: none); kept so a repeat finds the job after a restart.
    std::string idempotency_key;
    /// Readers that must find this job after a suspension (watchers, long-polls) pin it: retention
    /// never evicts a pinned job, so a coroutine holding a pin can use the job and its log safely.
    int pins = 0;

    // Run-time control, owned by the runner.
    std::optional<proc::child> process;
    std::optional<stop_reason> stop_requested;
    std::optional<proc::stop_plan> requested_plan;
    std::unique_ptr<net::steady_timer> control_signal;
    /// Its process tree ended but a process corral could not see kept its output pipe open, so
    /// reading stopped (job_runner::options::drain_output).
    bool output_abandoned = false;
    /// Writers to its stdin take turns in the order they came (two writes on one pipe at once would
    /// interleave their bytes): each takes a ticket and waits for its turn.
    std::uint64_t stdin_tickets = 0;
    std::uint64_t stdin_turn = 0;
    std::unique_ptr<async_event> stdin_turn_changed;

    /// The status a shell would report: exit code, 128 + signal, 127 when it could not start.
    int shell_code() const;
};

}  // namespace corral::jobs
