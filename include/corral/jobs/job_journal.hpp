#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "corral/core/asio.hpp"
#include "corral/core/error_info.hpp"
#include "corral/jobs/job.hpp"

namespace corral::jobs {

/// One line of the audit trail: who did what to which job (0: none), and when.
struct audit_entry {
    clock::time_point time;
    std::string actor;   ///< the user, as the surface identified them
    std::string action;  ///< submit, kill, drain, resume, restart
    job_id job = 0;
    std::string detail;  ///< for people: the task or command, the signal, the reason
};

/// A page of the audit trail, newest first.
struct audit_page {
    std::vector<audit_entry> entries;
    std::int64_t next = 0;  ///< pass as `before` for older entries; 0 when there are no more
};

/// A schedule as the store keeps it: when it last fired (for catch-up after a restart) and, for one
/// added at run time, its definition (JSON, services/schedules.hpp).
struct schedule_record {
    std::string name;
    std::string definition;  ///< empty for a schedule from the config file
    bool added = false;
    std::optional<clock::time_point> last_run;
};

/// What a journal held when it was opened.
struct loaded_state {
    /// Every job, oldest first, as it was last recorded (a job recorded as running is still running
    /// here: what to make of it is the service's decision). Each has its output log: read back from
    /// its output file when there is one, otherwise empty (and closed unless the job is queued).
    std::vector<std::unique_ptr<job>> jobs;
    job_id next_id = 1;
    std::vector<schedule_record> schedules;
};

/**
 * The store, as the daemon sees it: where the job service records what happens to jobs so that
 * they outlive the daemon, what it held at start, and where a job's output lives. store/ implements
 * it over SQLite (sqlite_store) and in memory (memory_store, the reference for the contract tests);
 * another backend (PostgreSQL, for a cluster) plugs in here without touching the job service. The
 * service works without one (nothing then survives a restart).
 *
 * save(), forget() and audit() only queue the work and never block the caller: the core's thread
 * must not wait on a disk. flush() is how a caller waits until what it queued is on disk, so a
 * submission is acknowledged only once it is durable.
 */
class job_journal {
  public:
    virtual ~job_journal() = default;
    /// What the journal held when it was opened, for job_service::restore(). Call once.
    virtual loaded_state take_loaded() = 0;
    /// For people: the backend and where it keeps its data ("SQLite /var/lib/corral/corral.db").
    virtual std::string describe() const = 0;
    /// Records the whole job as it is now: its first record, made when it is submitted.
    /// Returns the record's sequence number, for flush(seq).
    virtual std::uint64_t save(const job& j) = 0;
    /// Records what changes after submission: its state, times, exit, reason, result, attempts and
    /// output positions. What never changes (spec, owner, task, arguments) stays as save() wrote it,
    /// so the core does not serialize it again on every event. Returns the record's sequence number.
    virtual std::uint64_t save_state(const job& j) = 0;
    /// Records that the job is about to start (like save_state()): its record says running (without
    /// a pid) until the next one. Flushed before the spawn, it makes a job that a crash interrupts
    /// `lost` after the restart, never run twice. Returns the record's sequence number.
    virtual std::uint64_t starting(const job& j) = 0;
    /// The daemon let the job go (retention): drop its record and its output file.
    virtual void forget(const job& j) = 0;
    virtual void audit(audit_entry entry) = 0;
    /// Returns once the record `seq` (from save() or starting()) has been tried. Errors:
    /// errc::store_failed with the reason when the commit that held it failed: it is not durable,
    /// whatever happened to the records before and after it.
    virtual net::awaitable<result_info<void>> flush(std::uint64_t seq) = 0;
    /// Returns once everything queued before the call has been tried. Errors: errc::store_failed when
    /// the last of it could not be committed.
    virtual net::awaitable<result_info<void>> flush() = 0;
    /// The audit trail, newest first: entries about `job` (0: all), at most `limit`, older than
    /// `before` (0: from the newest); it includes everything audited before the call.
    virtual net::awaitable<result_info<audit_page>> audit_trail(job_id job,
                                                                std::size_t limit,
                                                                std::int64_t before) = 0;
    /// The file a job's output is kept in, so it outlives the daemon; empty: memory only.
    virtual std::string output_file(job_id id) const = 0;
    /// Records a schedule's last run (and its definition, for one added at run time). Queued, like save().
    virtual void save_schedule(schedule_record record) = 0;
    virtual void forget_schedule(std::string name) = 0;
};

}  // namespace corral::jobs
