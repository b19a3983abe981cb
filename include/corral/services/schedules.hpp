#pragma once
// Schedules: jobs the clock submits ([[schedule]] in the config, /api/v1/schedules at run time). A
// schedule names when (a cron expression in a time zone, or a fixed interval), what (a job as the
// REST API takes it: command, shell, or task with arguments), as whom, what to do when the previous
// run is still going, and what to make of the runs it missed while corrald was down.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "corral/core/async_event.hpp"
#include "corral/core/task_group.hpp"
#include "corral/jobs/job_journal.hpp"
#include "corral/sched/cron.hpp"
#include "corral/services/job_service.hpp"

namespace corral::services {

/// When a schedule fires while its previous job has not ended.
enum class overlap_policy {
    skip,           ///< no new job this time (the default)
    queue,          ///< a new job all the same
    kill_previous,  ///< stop the previous job, then start the new one
};

/// What a schedule does at start-up about the times it would have fired while corrald was down.
enum class catch_up_policy {
    none,  ///< nothing: it fires next when it next comes (the default)
    last,  ///< one job now, for all of them
    all,   ///< one job per missed time, up to catch_up_limit
};

struct schedule_def {
    std::string name;
    std::optional<sched::cron_expr> cron;
    std::chrono::milliseconds every{0};
    /// The zone the cron expression is read in ("Europe/Berlin"); empty: the host's own.
    std::string time_zone;
    std::shared_ptr<const sched::time_zone> zone;
    overlap_policy overlap = overlap_policy::skip;
    catch_up_policy catch_up = catch_up_policy::none;
    unsigned catch_up_limit = 10;
    /// Whose jobs they are (who they run as, where the launcher may switch users).
    std::string owner = "corral";
    /// The job, as `POST /api/v1/jobs` takes it (checked when the schedule is made).
    boost::json::object job;
    /// Added at run time (the API), so kept in the store; otherwise from the config file.
    bool added = false;

    /// "cron */5 * * * * (Europe/Berlin)" or "every 30s".
    std::string when() const;
};

/// A schedule from JSON (the API's body; the config's [[schedule]] as JSON): `name`; `cron` or
/// `every`; `time_zone`; `overlap`; `catch_up`, `catch_up_limit`; `owner`; and the job either as
/// `job: {...}` or inline (`command`/`shell`/`task` with `args`, and any other job field).
/// Errors: errc::invalid_argument naming the field.
result_info<schedule_def> schedule_from_json(const boost::json::value& v);
boost::json::object schedule_to_json(const schedule_def& d);

/**
 * Fires schedules: submits each one's job when its time comes, as its owner, with the label
 * `schedule=NAME`, and keeps when each last fired in the store (`last_run`), so that a restart can
 * catch up on what it missed. A schedule's jobs are the daemon's own submissions: no rights are
 * checked when they fire (adding a schedule at run time takes an admin).
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class schedule_runner {
  public:
    using clock = jobs::clock;
    /// Turns a schedule's job (REST form) into a request (the API's own reader, given by the pod).
    using job_maker = std::function<result_info<submit_request>(const boost::json::object& job)>;

    schedule_runner(job_service& service, job_maker make, std::vector<schedule_def> configured);
    ~schedule_runner();

    /// What the store kept: last runs, and the schedules added at run time. Before start().
    void restore(std::vector<jobs::schedule_record> stored);
    /// The clock it fires by (tests give a fake one); the system clock by default.
    void set_clock(std::function<clock::time_point()> now) { now_ = std::move(now); }
    /// Catches up (each schedule's catch_up policy), then fires on the clock until stop().
    void start();
    net::awaitable<void> stop();

    struct entry {
        schedule_def def;
        std::optional<clock::time_point> last_run;
        /// When it fires next (none: never again, a date that does not come).
        std::optional<clock::time_point> next;
        jobs::job_id last_job = 0;
        /// For people: "job 12", "skipped: job 11 was still running", "failed: ...".
        std::string last_outcome;
    };
    const std::map<std::string, entry, std::less<>>& all() const { return entries_; }
    /// The next `n` times `e` fires after `from`.
    std::vector<clock::time_point> next_runs(const entry& e, clock::time_point from, std::size_t n) const;

    /// Adds a schedule at run time (kept in the store). Errors: errc::invalid_argument when its job
    /// is not valid; errc::process_exists when the name is taken.
    result_info<void> add(schedule_def d);
    /// Removes a schedule added at run time. Errors: errc::process_not_found; errc::invalid_state for
    /// one from the config file (it is removed there, then SIGHUP or a restart).
    result_info<void> remove(std::string_view name);

    /// What reload() did, by schedule name.
    struct reload_report {
        std::vector<std::string> added, removed, changed;
        std::size_t unchanged = 0;
    };
    /// The config file's schedules now (SIGHUP): new ones are added, gone ones removed, changed ones
    /// take their new definition and keep their last run; the ones added at run time stay (a config
    /// schedule of the same name replaces one, as at start-up). All or nothing. Errors:
    /// errc::invalid_argument naming a schedule whose job is not valid.
    result_info<reload_report> reload(std::vector<schedule_def> configured);

    /// Fires every schedule due now.
    void fire_due();

  private:
    net::awaitable<void> loop();
    void fire(entry& e, clock::time_point now, std::string_view why);
    std::optional<clock::time_point> next_after(const entry& e, clock::time_point t) const;
    /// When it fires next, from now: on its grid (an interval's is anchored at its last run).
    std::optional<clock::time_point> next_from(const entry& e, clock::time_point now) const;
    void persist(const entry& e);

    job_service& service_;
    job_maker make_;
    std::map<std::string, entry, std::less<>> entries_;
    std::vector<jobs::schedule_record> stored_;
    task_group tasks_;
    async_event changed_;
    bool running_ = false;
    std::function<clock::time_point()> now_ = [] { return clock::now(); };
};

}  // namespace corral::services
