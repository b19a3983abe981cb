#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "corral/auth/identity.hpp"
#include "corral/core/async_event.hpp"
#include "corral/core/keyed_event.hpp"
#include "corral/core/prometheus.hpp"
#include "corral/core/task_group.hpp"
#include "corral/jobs/job_journal.hpp"
#include "corral/jobs/job_runner.hpp"
#include "corral/jobs/job_table.hpp"
#include "corral/services/http_post.hpp"
#include "corral/proc/launcher.hpp"
#include "corral/sched/scheduler.hpp"
#include "corral/services/event_hub.hpp"
#include "corral/tasks/task_def.hpp"

namespace boost::asio {
class thread_pool;
}

namespace corral::services {

struct service_options {
    /// Jobs running at once; 0 means the number of cores. Beyond it jobs wait by priority, then FIFO.
    unsigned concurrency = 0;
    /// Per-group concurrency limits (`[jobs.groups]`).
    std::map<std::string, unsigned, std::less<>> group_limits;
    /// Jobs waiting at most; beyond it a submit fails with errc::queue_full. 0: no limit.
    std::size_t max_queued = 100'000;
    /// A task's result is parsed from at most this much of its stdout.
    std::size_t max_result_bytes = 1 << 20;
    jobs::retention retention;
    /// How long a job's output pipes may stay open once its process tree has ended (`jobs.drain_output`).
    std::chrono::milliseconds drain_output{2000};
    /// A job counts as pouring out output (watchers defer to it) until this long after the last big
    /// block from its pipe (`jobs.pouring_calm`; jobs::output_pressure).
    std::chrono::milliseconds pouring_calm{2};
    /// Output defaults for every job: memory kept per job, spill directory, cap and policy.
    output::log_options output;
    proc::launcher_options launcher;
    /// Job events and the subscriptions that follow them.
    subscription_options subscriptions;
    /// The finish hook of every job that sets none of its own, nor has one from its task (`[jobs]
    /// on_finish`); not for services' runs nor the steps of a multi-step job.
    jobs::finish_hook on_finish;
};

/// The label every run of a service carries, naming the service (services::supervisor).
inline const std::string service_label = "service";

struct submit_request {
    std::string owner;
    jobs::job_spec spec;
    /// The request chose spec.priority; otherwise a caller's submission runs at its role's priority
    /// (and choosing one is a right of its own: role_policy::set_priority).
    bool priority_given = false;
    /// A repeated (owner, key) returns the first job instead of starting another.
    std::string idempotency_key;
    /// A task's job: the task (its result parser makes the job's result) and its checked arguments.
    std::shared_ptr<const tasks::task_def> task;
    boost::json::object args;
    /// Runs at once, outside the scheduler: no slot, no queue, not held back by drain mode. For the
    /// daemon's own long-running processes (services::supervisor), which must not wait behind jobs
    /// nor keep jobs waiting.
    bool unscheduled = false;
    /// A multi-step job: no process of its own; each step runs as a job of its own, one after another.
    std::vector<submit_request> steps;
    tasks::failure_policy on_failure = tasks::failure_policy::stop;
    /// The request set its own on_finish hook (not its task's, nor the configured default): a hook
    /// runs a command, or makes a request, as corrald, so it takes the right to run commands.
    bool hook_given = false;
};

struct job_query {
    std::optional<jobs::job_state> state;
    std::string owner;                          ///< empty: any owner
    std::map<std::string, std::string> labels;  ///< every one must match
    jobs::job_id after = 0;                     ///< paging cursor: ids greater than this
    jobs::job_id before = 0;                    ///< paging cursor for newest_first: ids less than this (0: none)
    bool newest_first = false;                  ///< highest id first (a page's table); `next` is then for `before`
    std::size_t limit = 100;
};

struct job_page {
    std::vector<jobs::job*> jobs;
    std::optional<jobs::job_id> next;  ///< pass as `after` (`before` when newest_first) for the next page; empty on the last page
};

/// What /metrics reports about jobs.
struct service_stats {
    std::uint64_t submitted = 0;
    std::map<jobs::job_state, std::uint64_t> finished;
    histogram spawn_latency{{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}};
};

/**
 * The core API every adapter calls: submit, find, list, kill, stdin, wait, and job events. It owns
 * the job table, the runner and the scheduler (priorities, a global slot limit, group limits, a queue
 * cap), and it drains on shutdown.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only. It posts work to that executor, so destroy it only once
 * the executor's io_context has stopped running.
 */
class job_service {
  public:
    /// Errors: errc::unsupported when the launcher cannot be made as configured.
    static result_info<std::unique_ptr<job_service>> create(net::any_io_executor executor,
                                                            service_options options);
    ~job_service();

    class pin;
    /// What a caller's submission gave: its jobs, pinned (kept while the submission is held, however
    /// soon they finish), and whether they are new (false: an idempotent repeat).
    struct submission {
        std::vector<std::unique_ptr<pin>> jobs;
        bool created = true;
    };
    /**
     * A caller's submission, as every adapter makes it: checks `who` may (services/job_access), runs
     * the jobs as `who` (owner, and the role's priority unless the request chose one), queues them
     * all or none (submit_all), and returns once they are committed to the store, so that what the
     * adapter acknowledges survives a crash. Errors: errc::forbidden saying what the role lacks;
     * those of submit_all(); errc::store_failed when a record could not be committed (the jobs are
     * queued all the same; the caller should not count on them).
     */
    net::awaitable<result_info<submission>> submit_as(const auth::identity& who,
                                                      std::vector<submit_request> requests);
    /// Job `id`, pinned, when `who` may see it. Errors: errc::job_not_found when it is missing *or*
    /// hidden from `who` (ids must not tell other users' jobs apart from missing ones). What may be
    /// done with a pinned job (read, wait) needs no further check.
    result_info<std::unique_ptr<pin>> find_as(const auth::identity& who, jobs::job_id id);
    /// Job `id`, pinned, when `who` may also act on it (kill, stdin). Errors: those of find_as();
    /// errc::forbidden saying what the role lacks.
    result_info<std::unique_ptr<pin>> control_as(const auth::identity& who, jobs::job_id id);
    /// list() of what `who` may see: a caller without see_all sees only their own jobs, whatever
    /// `query.owner` says.
    job_page list_as(const auth::identity& who, job_query query);
    /// Up to `limit` queued jobs in the order they will start, those `who` may see.
    std::vector<jobs::job*> queue_as(const auth::identity& who, std::size_t limit);
    /// kill() of job `id` for `who`. Errors: those of control_as(); errc::invalid_state when the job
    /// has already ended.
    result_info<void> kill_as(const auth::identity& who,
                              jobs::job_id id,
                              std::optional<int> signal,
                              std::optional<proc::stop_plan> plan);
    /// Whether `who` may submit for other users, as a trusted proxy does (ASEXOR's delegated calls).
    /// Errors: errc::forbidden.
    result_info<void> may_delegate(const auth::identity& who) const;
    /// Whether `who` may administer the daemon (its configuration, its log level). Errors: errc::forbidden.
    result_info<void> may_administer(const auth::identity& who) const;
    /// set_draining() for an admin. Errors: errc::forbidden.
    result_info<void> set_draining_as(const auth::identity& who, bool draining);
    /// audit_trail() for an admin. Errors: errc::forbidden; those of audit_trail().
    net::awaitable<result_info<jobs::audit_page>> audit_trail_as(const auth::identity& who,
                                                                 jobs::job_id job,
                                                                 std::size_t limit,
                                                                 std::int64_t before);

    // --- events and subscriptions ---
    /// A new subscription for `who`: it sees only their own jobs unless their role sees all. Errors:
    /// errc::queue_full (event_hub::create).
    result_info<std::shared_ptr<subscription>> subscribe_as(const auth::identity& who);
    /// Makes `s` follow job `id` (its events, and its output from `from` when `output`). Errors:
    /// those of find_as(). Returns the job, pinned, for the reader's first look at it.
    result_info<std::unique_ptr<pin>> follow_as(const auth::identity& who,
                                                subscription& s,
                                                jobs::job_id id,
                                                bool output,
                                                std::uint64_t from = 0);
    /// Makes `s` follow services' events (their state changes: services::supervisor) when `on`.
    /// Errors: errc::forbidden when `who` may not see services.
    result_info<void> follow_services_as(const auth::identity& who, subscription& s, bool on);
    /// A service's event, for the subscriptions that follow services (services::supervisor).
    void publish_service_event(service_event_info info, jobs::job_id run) { events_.publish_service(std::move(info), run); }
    /// `who`'s subscription `id`, to read again (a client reconnecting). Errors: errc::subscription_not_found
    /// when there is none: expired, closed, or another user's.
    result_info<std::shared_ptr<subscription>> resume_as(const auth::identity& who, std::string_view id);
    event_hub& events() { return events_; }

    /// Queues a job (it starts as soon as the caller yields, when a slot is free). No rights are
    /// checked and nothing waits for the store: for the daemon's own jobs (steps), and embedders that
    /// trust their callers; adapters use submit_as(). Errors:
    /// errc::invalid_state while shutting down; errc::queue_full; errc::invalid_argument when its
    /// output log cannot be made.
    result_info<jobs::job*> submit(submit_request request);
    /// Queues every request or none: errc::queue_full when they do not all fit (nothing is queued).
    /// Should a later one fail anyway (its output log cannot be made), the ones queued before it are
    /// cancelled before they start and the error is returned.
    result_info<std::vector<jobs::job*>> submit_all(std::vector<submit_request> requests);
    jobs::job* find(jobs::job_id id) { return table_.find(id); }
    /// The thread for blocking work (file I/O, user lookups through NSS), for run_blocking().
    net::any_io_executor blocking_executor() const;
    /// Idempotency keys remembered: one per kept job that was submitted with one.
    std::size_t idempotency_keys() const { return idempotency_.size(); }
    job_page list(const job_query& query);

    /// Sends `signal` to the job's whole tree, or applies `plan` (default: the job's own stop plan);
    /// a second stop request kills at once. A queued job is cancelled. Errors: errc::invalid_state.
    /// `actor` is who asked, for the audit trail.
    result<void> kill(jobs::job& j,
                      std::optional<int> signal,
                      std::optional<proc::stop_plan> plan,
                      std::string_view actor = {});
    /// See jobs::job_runner::write_stdin: writes take turns, and one the job does not read within
    /// `limit` fails with net::error::timed_out.
    net::awaitable<result<void>> write_stdin(jobs::job& j,
                                             std::string data,
                                             std::chrono::milliseconds limit = std::chrono::seconds(30));
    result<void> close_stdin(jobs::job& j);

    /// Returns when the job is no longer queued (it started, or ended without starting), or `timeout`
    /// passed; false on timeout.
    net::awaitable<bool> wait_started(jobs::job_id id, std::chrono::milliseconds timeout);
    /// Returns when the job has finished, or `timeout` passed; false on timeout.
    net::awaitable<bool> wait_finished(jobs::job_id id, std::chrono::milliseconds timeout);
    /// Returns when the job's log has output past `offset`, is closed, or `timeout` passed.
    net::awaitable<void> wait_output(jobs::job_id id,
                                     std::uint64_t offset,
                                     std::chrono::milliseconds timeout);

    // --- durability (a journal: the store) ---
    /// Records every job in `journal` from now on (null: nowhere, and nothing survives a restart).
    /// With a journal, a shutdown leaves queued jobs queued, to resume at the next start.
    void set_journal(jobs::job_journal* journal);
    bool durable() const { return journal_ != nullptr; }
    /// The journal (null: none), for what else the daemon keeps in its store (schedules).
    jobs::job_journal* journal() const { return journal_; }
    /// Whether `who` sees everything (other users' jobs, services, schedules). Errors: errc::forbidden
    /// saying what `what` takes.
    result_info<void> may_see_all(const auth::identity& who, std::string_view what) const;
    /// Returns once everything recorded so far has been tried. Errors: errc::store_failed when the
    /// last of it could not be committed (never without a journal).
    net::awaitable<result_info<void>> flush();
    /// Returns once each job's submission record is durable: adapters acknowledge a submission only
    /// after it. Errors: errc::store_failed naming the first job whose record could not be committed
    /// (never without a journal).
    net::awaitable<result_info<void>> committed(std::vector<jobs::job_id> ids);
    /// Adds to the audit trail (nothing without a journal).
    void audit(std::string_view actor, std::string_view action, jobs::job_id job, std::string detail);
    /// The audit trail (see job_journal::audit_trail). Errors: errc::unsupported without a journal.
    net::awaitable<result_info<jobs::audit_page>> audit_trail(jobs::job_id job,
                                                              std::size_t limit,
                                                              std::int64_t before);

    struct restore_report {
        std::size_t resumed = 0;  ///< queued again, in their old order
        std::size_t lost = 0;     ///< were running (or were steps of a multi-step job that was)
        std::size_t kept = 0;     ///< finished: kept for their record and output
        std::size_t killed = 0;   ///< leftover processes of lost jobs that were killed
    };
    using task_lookup = std::function<std::shared_ptr<const tasks::task_def>(std::string_view)>;
    /// Takes in the jobs a store read back at start-up (restore.cpp): queued jobs queue again in
    /// their order (by priority, then their old sequence); jobs that were running are marked `lost`
    /// and what is left of their process trees is killed (their output pipes died with the old
    /// daemon, so they cannot be re-adopted); finished ones are kept. Call before any submit.
    restore_report restore(std::vector<std::unique_ptr<jobs::job>> stored,
                           jobs::job_id next_id,
                           const task_lookup& find_task);

    /// Stops taking jobs; lets running ones finish until `deadline`, then applies their stop plans
    /// and waits for them. Queued jobs are cancelled.
    net::awaitable<void> drain(std::chrono::steady_clock::time_point deadline);
    /// Returns when no job is running, queued, waiting or retrying (running only, without
    /// `count_queued`), or at `deadline`.
    /// A multi-step job counts as running from its first step to its end, between steps too.
    net::awaitable<void> wait_idle(std::chrono::steady_clock::time_point deadline, bool count_queued = true);
    /// Kills every job at once (the second signal).
    void force_stop();
    bool accepting() const { return accepting_; }
    /// Drain mode (`true`): running jobs finish, nothing new starts; queued and newly submitted jobs
    /// wait until it is turned off. Nothing is dropped.
    void set_draining(bool draining, std::string_view actor = {});
    bool draining() const { return draining_; }

    std::size_t running() const { return scheduler_.running(); }
    std::size_t queued() const { return scheduler_.queued(); }
    /// Jobs accepted but held back: waiting for the jobs they run after, or for their next attempt.
    std::size_t held() const { return pending_dependencies_.size() + retry_timers_.size(); }
    /// Multi-step jobs running: they hold no slot themselves, so running() leaves them out.
    std::size_t running_sequences() const { return current_step_.size(); }
    unsigned concurrency() const { return scheduler_.slots(); }
    const sched::scheduler& scheduler() const { return scheduler_; }
    const service_stats& stats() const { return stats_; }
    std::vector<jobs::job*> all() { return table_.list(); }
    proc::launcher& launcher() { return *launcher_; }
    net::any_io_executor executor() const { return executor_; }
    /// How finish hooks POST to their URLs (the pod gives it Beast's client); without it, URL hooks
    /// fail with a message saying so.
    void set_post_sender(http::post_sender sender) { post_sender_ = std::move(sender); }
    /// Finish hooks still running (their commands and POSTs).
    std::size_t hooks_running() const { return hooks_.size(); }
    /// High while some job pours out output faster than the core takes it: fan-out waits for it.
    jobs::output_pressure& pressure() { return *output_pressure_; }

    /// Keeps a job from being evicted while an adapter uses it across suspensions.
    class pin {
      public:
        pin(job_service& s, jobs::job& j) : service_(&s), id_(j.id) { ++j.pins; }
        pin(const pin&) = delete;
        pin& operator=(const pin&) = delete;
        ~pin();
        jobs::job& get() const { return *service_->find(id_); }

      private:
        job_service* service_;
        jobs::job_id id_;
    };

  private:
    job_service(net::any_io_executor executor,
                service_options options,
                std::unique_ptr<proc::launcher> launcher);
    void on_event(const jobs::job& j, jobs::job_event e);
    void start_soon();
    void start_queued();
    /// Runs a job to its end; one that holds a slot gives it back then.
    net::awaitable<void> run(jobs::job& j, bool holds_slot);
    /// Takes a queued job out of the scheduler (a kill or a shutdown before it started).
    void unqueue(const jobs::job& j);
    /// A finished task job gets its result from its stdout (a parse failure fails the job).
    net::awaitable<void> make_result(jobs::job& j);
    /// Adds the job to the table (`waits`: in state waiting, for its dependencies).
    jobs::job& add_job(submit_request& request, std::unique_ptr<output::output_log> log, bool waits);
    /// Runs a multi-step job's steps in order (multi_step.cpp).
    net::awaitable<void> run_steps(jobs::job& parent,
                                   std::vector<submit_request> steps,
                                   tasks::failure_policy policy);
    result<void> stop_steps(jobs::job& parent);
    /// Queues the job's whole record for the journal, its first (journal.cpp): its sequence number
    /// goes to j.submit_record for committed().
    void record_submission(jobs::job& j);
    /// Queues what changed in the job since its submission record (its state, times, exit, ...).
    void record(const jobs::job& j);
    /// Retention let `j` go: forget what is kept about it here and in the journal.
    void let_go(const jobs::job& j);
    /// Whether a shutdown leaves this job queued for the next start (journal.cpp).
    bool survives_restart(const jobs::job& j) const;
    /// After a restart killed leftovers: removes the dead corrald's cgroup directories once they
    /// are empty (journal.cpp).
    net::awaitable<void> remove_stale_cgroups();

    // --- workflows (workflow.cpp): dependencies and retries ---
    /// Where a new job's dependencies stand: how many have not ended, or why it cannot run.
    struct dependency_check {
        std::size_t pending = 0;
        std::string failure;
    };
    /// Errors: errc::invalid_spec for an id that names no job.
    result_info<dependency_check> check_dependencies(const jobs::job_spec& spec) const;
    /// A dependency that ended: why the job of spec `dependent` cannot run now (empty: it may).
    static std::string dependency_failure(const jobs::job_spec& dependent, const jobs::job& dependency);
    /// Makes a waiting job wait for the dependencies of its that have not ended.
    void wait_for_dependencies(jobs::job& j);
    /// A job ended: its dependents learn of it (each released, or failed), and theirs in turn.
    void release_dependents(jobs::job_id ended);
    /// A waiting job whose dependencies have all ended well: it queues.
    void release(jobs::job& j);
    /// The runner's attempt_end hook: true when the attempt that ended earns another (the job is
    /// then retrying).
    bool retry_if_due(jobs::job& j);
    /// Waits until a retrying job's next attempt is due, then queues it (unless it was killed).
    net::awaitable<void> retry_later(jobs::job_id id, std::shared_ptr<net::steady_timer> timer);
    void schedule_retry(jobs::job& j);
    /// Puts a job (retrying, or waiting) in the queue for its next run, past the queue cap: it was
    /// accepted long ago.
    void requeue(jobs::job& j);
    void cancel_retry(jobs::job_id id);
    /// After a restart: a waiting job waits again, a retrying one gets its timer back, and a lost one
    /// whose policy retries `lost` is retried (journal.cpp).
    void resume_workflow(jobs::job& j);
    void cancel_retries();
    // --- finish hooks (finish_hooks.cpp) ---
    /// What a hook is told of the job that ended, copied at its end (the job may be evicted soon).
    struct finished_job {
        jobs::job_id id;
        std::string state;
        int exit_code;
        std::string reason;
        std::string owner;
        std::string task;
        unsigned attempt;
        std::string json;
    };
    /// The job's own hook, else the configured default (not for services' runs nor steps); null: none.
    const jobs::finish_hook* hook_for(const jobs::job& j) const;
    void start_finish_hook(const jobs::job& j);
    net::awaitable<void> run_finish_hook(jobs::finish_hook hook, finished_job job);
    /// Each returns "ok: what happened", or what went wrong.
    net::awaitable<std::string> run_hook_command(const jobs::finish_hook& hook, const finished_job& job);
    net::awaitable<std::string> post_hook(const jobs::finish_hook& hook, const finished_job& job);

    /// The log a job's output goes to (its own file, when there is a journal).
    result_info<std::unique_ptr<output::output_log>> make_log(jobs::job_id id, const jobs::job_spec& spec);
    /// The options of a job's log: the spec's cap, the service's memory limit and spill places.
    output::log_options log_options_for(jobs::job_id id, const jobs::job_spec& spec) const;

    net::any_io_executor executor_;
    service_options options_;
    std::unique_ptr<proc::launcher> launcher_;
    /// The blocking-work thread: saving and reading output files, user lookups. Declared before the
    /// table so that it outlives the logs whose chunks it may be writing.
    std::unique_ptr<net::thread_pool> blocking_;
    jobs::job_table table_;
    jobs::job_runner runner_;
    std::shared_ptr<jobs::output_pressure> output_pressure_;
    task_group tasks_;
    sched::scheduler scheduler_;
    bool accepting_ = true;
    bool draining_ = false;
    bool start_posted_ = false;
    std::map<std::pair<std::string, std::string>, jobs::job_id> idempotency_;
    std::unordered_map<jobs::job_id, std::chrono::steady_clock::time_point> starting_;
    /// Task jobs not finished yet, for their result parser.
    std::unordered_map<jobs::job_id, std::shared_ptr<const tasks::task_def>> task_of_;
    /// Multi-step jobs running: the step running now (0 between steps).
    std::unordered_map<jobs::job_id, jobs::job_id> current_step_;
    /// Dependencies not ended yet → the jobs waiting for them; and how many each waiting job awaits.
    std::unordered_map<jobs::job_id, std::vector<jobs::job_id>> dependents_;
    std::unordered_map<jobs::job_id, std::size_t> pending_dependencies_;
    /// Jobs whose end their dependents have yet to hear of (release_dependents works through them
    /// in a loop, not by recursion: a chain of 10,000 jobs that fails at its head is 10,000 deep).
    std::vector<jobs::job_id> ended_;
    bool releasing_ = false;
    /// The backoff timer of each retrying job.
    std::unordered_map<jobs::job_id, std::shared_ptr<net::steady_timer>> retry_timers_;
    std::uint64_t jitter_state_ = 0x9e3779b97f4a7c15ULL;
    event_hub events_;
    keyed_event<jobs::job_id> started_;   ///< job N started or ended: wakes wait_started(N)
    keyed_event<jobs::job_id> finished_;  ///< job N ended: wakes wait_finished(N)
    async_event idle_changed_;            ///< some job ended: wakes wait_idle()
    service_stats stats_;
    jobs::job_journal* journal_ = nullptr;
    /// Finish hooks running: a drain lets them end until its deadline, then cancels them.
    task_group hooks_;
    http::post_sender post_sender_;
};

}  // namespace corral::services
