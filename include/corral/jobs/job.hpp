#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "corral/core/async_event.hpp"
#include "corral/core/boxed.hpp"
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

/// When and how often a job runs again after an attempt ends badly (`retry = {...}`).
struct retry_policy {
    /// Attempts in all, the first one included (so 1 means no retry).
    unsigned attempts = 1;
    /// The wait before the second attempt; it doubles for each later one, up to `max_backoff`.
    std::chrono::milliseconds backoff{1000};
    std::chrono::milliseconds max_backoff{5 * 60 * 1000};
    /// Each wait is moved by up to this fraction of itself, at random (0 to 1), so that jobs that
    /// failed together do not all retry together.
    double jitter = 0.2;
    /// Which ends are retried: failed, timed_out, lost. A kill never is: it stops the retries.
    bool on_failed = true;
    bool on_timed_out = true;
    bool on_lost = false;

    bool retries(job_state s) const;
    /// The wait before attempt `next` (2 or more), without jitter.
    std::chrono::milliseconds wait_before(unsigned next) const;
    friend bool operator==(const retry_policy&, const retry_policy&) = default;
};

/// Someone to tell when a job ends (`on_finish`): a command run with the job's id, state and exit
/// code in its environment (pueue's callback), or a POST of the job's JSON to a URL, or both.
struct finish_hook {
    std::vector<std::string> command;
    std::string url;
    /// Each try of the command or the POST is given this long.
    std::chrono::milliseconds timeout{10'000};
    /// Tries of the POST in all (a failed command is not run again: it may have done half its work).
    unsigned attempts = 3;
    /// Sent as the `X-Corral-Secret` header, so the receiver knows the POST is from us.
    std::string secret;

    bool empty() const { return command.empty() && url.empty(); }
    friend bool operator==(const finish_hook&, const finish_hook&) = default;
};

/// What a job does besides running once: retry, wait for other jobs, tell someone when it ends.
struct job_workflow {
    std::optional<retry_policy> retry;
    /// Jobs this one waits for (`after`, `after_ok`): each must succeed, or this job fails without
    /// running. Sorted, without repeats.
    std::vector<job_id> after_ok;
    /// Jobs this one waits for whatever their outcome (`after_any`). Sorted, without repeats.
    std::vector<job_id> after_any;
    /// Null: none. Shared: the jobs of one task share their task's.
    std::shared_ptr<const finish_hook> on_finish;
};

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
    /// Retries, dependencies, a finish hook: most jobs have none, so a queued job pays one pointer.
    boxed<job_workflow> workflow;
};

/// One attempt of a job that was retried: how it ended, and where its output is in the job's log
/// (the attempts share one log, one after another).
struct attempt_record {
    unsigned number = 1;
    job_state state = job_state::failed;
    std::string reason;
    std::optional<proc::exit_status> exit;
    std::optional<clock::time_point> started;
    std::optional<clock::time_point> finished;
    std::uint64_t output_from = 0;
    std::uint64_t output_to = 0;
};

/// A retried job's attempts: which one this is, and how the ones before it ended.
struct retry_state {
    /// Which attempt this is (from 1), and the attempts that ended before it (retry_policy).
    unsigned attempt = 1;
    std::vector<attempt_record> attempts;
    /// Where this attempt's output begins in the log.
    std::uint64_t output_from = 0;
    /// While retrying: when the next attempt is queued.
    std::optional<clock::time_point> next_attempt;
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
    /// The journal's sequence number for its submission record (0: none): a submission is
    /// acknowledged once that record is durable, whatever becomes of later ones.
    std::uint64_t submit_record = 0;
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
    /// Its attempts, once it was retried (most jobs never are: they pay one pointer).
    boxed<retry_state> retries;
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
    /// job_runner::stop sent the stop plan's first signal itself, at once; the plan goes on from there.
    bool stop_signal_sent = false;
    /// Writers to its stdin take turns in the order they came (two writes on one pipe at once would
    /// interleave their bytes): each takes a ticket and waits for its turn.
    std::uint64_t stdin_tickets = 0;
    std::uint64_t stdin_turn = 0;
    std::unique_ptr<async_event> stdin_turn_changed;

    /// The status a shell would report: exit code, 128 + signal, 127 when it could not start.
    int shell_code() const;
};

}  // namespace corral::jobs
