#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "corral/auth/identity.hpp"
#include "corral/core/async_event.hpp"
#include "corral/core/task_group.hpp"
#include "corral/services/job_service.hpp"
#include "corral/services/service_def.hpp"

namespace corral::services {

enum class service_state {
    stopped,   ///< not running, and not meant to (never started, stopped, or exited for good)
    waiting,   ///< meant to run, waiting for the services it comes after to be ready
    starting,  ///< its process runs; not ready yet
    running,   ///< ready
    backoff,   ///< its process ended; it starts again at `next_start`
    stopping,  ///< being stopped by its stop plan
    failed,    ///< given up on: `reason` says why
};
std::string_view to_string(service_state s);

/// One line of a service's history: what the supervisor did or saw, and when.
struct service_event {
    jobs::clock::time_point time;
    std::string kind;  ///< starting, ready, exited, backoff, failed, stopping, stopped, waiting
    std::string detail;
    jobs::job_id job = 0;
};

/// What the supervisor knows about one service, as callers see it.
struct service_status {
    service_def def;
    service_state state = service_state::stopped;
    std::string reason;
    /// The current run (a job labelled service=NAME), or the last one; 0 before the first.
    jobs::job_id job = 0;
    unsigned runs = 0;
    /// Restarts in a row since the last healthy run (backoff_policy::reset_after).
    unsigned restarts = 0;
    std::optional<jobs::clock::time_point> next_start;
    /// The most recent events, oldest first (at most events_kept).
    std::deque<service_event> events;
    static constexpr std::size_t events_kept = 200;
};

/// What a reload did to the services (supervisor::reload).
struct reload_report {
    std::vector<std::string> added;
    std::vector<std::string> removed;
    /// Given a new definition; those that ran were restarted with it.
    std::vector<std::string> changed;
    std::size_t unchanged = 0;
};

/// The status as the API shows it; `events` adds the history.
boost::json::object to_json(const service_status& s, bool events);

/**
 * Keeps the daemon's services running (the runner seed's named processes, as a daemon does it).
 * Each run of a service is a job of the job service, labelled service=NAME and owned by
 * `service:NAME`: it is spawned, stopped and followed exactly as a job is (output log, cursors,
 * watchers, stdin), outside the scheduler's slots. The supervisor starts services in dependency
 * order, each once those it comes after are ready; restarts them by their policy with exponential
 * backoff and jitter, and gives up after `give_up_after` restarts in a row; and stops them in
 * reverse order. Starting a service starts what it comes after; stopping one stops what comes
 * after it first.
 *
 * Services come from the config and can be added and removed at run time (add_as, remove_as: not
 * kept across restarts). A reload (SIGHUP) replaces the config's services: new ones start, removed
 * ones stop and go, changed ones run with their new definition; those added at run time stay.
 *
 * Rights: seeing services takes a role that sees every job; acting on them (start, stop, restart,
 * stdin) one that may act on every job, as for jobs of other users; adding and removing them (which
 * runs commands as corrald's user) an admin.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class supervisor {
  public:
    /// `defs` must have passed start_order().
    supervisor(job_service& jobs, std::vector<service_def> defs);
    ~supervisor();
    supervisor(const supervisor&) = delete;
    supervisor& operator=(const supervisor&) = delete;

    /// Starts every autostart service (each waits for its dependencies in its own coroutine).
    void start();
    /// Stops every service, those that come after others first, each by its stop plan; what still
    /// runs at `deadline` is killed.
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline);
    /// Kills every service's process now.
    void force_stop();
    /// Sends `sig` to the process tree of every service that runs; how many got it.
    std::size_t signal_running(int sig);

    std::vector<const service_status*> list() const;
    const service_status* find(std::string_view name) const;

    /// list()/find() for `who`. Errors: errc::forbidden; errc::process_not_found.
    result_info<std::vector<const service_status*>> list_as(const auth::identity& who) const;
    result_info<const service_status*> find_as(const auth::identity& who, std::string_view name) const;
    /// Operator actions. Errors: those of find_as(); errc::forbidden when `who` may not act on services.
    result_info<void> start_as(const auth::identity& who, std::string_view name);
    result_info<void> stop_as(const auth::identity& who, std::string_view name);
    result_info<void> restart_as(const auth::identity& who, std::string_view name);
    /// The service's current (or last) run, for reading its output (`to_act` false) or writing to
    /// its stdin (true). Errors: those of find_as(); errc::forbidden when `to_act` and `who` may not
    /// act on services; errc::invalid_state when it has not run yet.
    result_info<jobs::job_id> run_as(const auth::identity& who, std::string_view name, bool to_act) const;

    /// Adds a service at run time and starts it when `def.autostart`. Errors: errc::forbidden unless
    /// `who` is an admin; errc::process_exists for a name in use; errc::invalid_argument when its
    /// `after` names no service; errc::invalid_state while corrald stops.
    result_info<void> add_as(const auth::identity& who, service_def def);
    /// Stops a service (by its stop plan) and removes it. Errors: errc::forbidden unless `who` is an
    /// admin; errc::process_not_found; errc::invalid_state when another service comes after it.
    result_info<void> remove_as(const auth::identity& who, std::string_view name);
    /**
     * Replaces the config's services with `defs` (a reload). Services added at run time stay unless
     * `defs` names them (the config's definition then wins). Errors: errc::invalid_argument when
     * `defs` and the services added at run time do not fit together (an `after` naming a removed
     * service, a cycle); nothing is changed then.
     */
    result_info<reload_report> reload(std::vector<service_def> defs);

    /// Returns when something changed for any service (for tests and waiting clients).
    net::awaitable<void> changed() { co_await changed_.wait(); }

  private:
    struct entry;
    entry* lookup(std::string_view name) const;
    /// The service `name`, when `who` may see it and act on it.
    result_info<entry*> to_act_on(const auth::identity& who, std::string_view name) const;
    void want(entry& e, std::string_view actor);
    void unwant(entry& e, std::string_view actor);
    net::awaitable<void> supervise(entry& e);
    /// Stops `first` (what comes after `last`), waits until they are down, then stops `last`.
    net::awaitable<void> stop_in_order(std::vector<entry*> first, entry* last, std::string actor);
    net::awaitable<bool> dependencies_ready(entry& e);
    net::awaitable<bool> run_once(entry& e);
    net::awaitable<void> sleep_until(entry& e, jobs::clock::time_point when);
    std::chrono::milliseconds next_delay(entry& e);
    void note(entry& e, service_state s, std::string kind, std::string detail, std::string reason = {});
    /// Orders entries_ by dependencies and links each entry to those it comes after and before.
    void relink();
    /// Every definition but those of removed entries (and `skip`), for start_order.
    std::vector<service_def> live_defs(const entry* skip = nullptr) const;
    /// Marks `e` removed (out of every list) and stops it; its history goes once it has stopped.
    void retire(entry& e, std::string_view actor);
    net::awaitable<void> forget(entry* e);
    /// A restart with the current definition now (restart_as without the checks).
    void restart(entry& e, std::string_view actor);
    submit_request run_request(const entry& e) const;

    job_service& jobs_;
    std::vector<std::unique_ptr<entry>> entries_;  ///< in start order
    async_event changed_;
    task_group tasks_;
    std::minstd_rand jitter_;
    bool stopping_ = false;
};

}  // namespace corral::services
