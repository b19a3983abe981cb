#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "corral/jobs/job.hpp"

namespace corral::jobs {

/// What happened to a job, for observers (adapters map these to their wire formats). `queued` also
/// comes again when a waiting job's dependencies have ended and when a retried job queues for its
/// next attempt; `retrying` when an attempt ended and another will follow.
enum class job_event { queued, started, progress, finished, retrying };

/// Keeps finished jobs by count (acons kept the last 100; so do we by default), by age, and by the
/// output they keep in total. The oldest go first.
struct retention {
    std::size_t max_finished = 100;
    std::optional<std::chrono::seconds> max_age;
    /// Output bytes kept by all finished jobs together; 0: no limit.
    std::uint64_t max_output_bytes = 0;
};

/**
 * All jobs by id. Ids are assigned in order and never reused. Finished jobs beyond the retention
 * limits are evicted oldest first; evicting never touches a queued, running or pinned job.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class job_table {
  public:
    using observer = std::function<void(const job&, job_event)>;

    explicit job_table(retention r = {}) : retention_(r) {}

    /// Adds a queued job and returns it (the reference stays valid until it is evicted). `fill`, when
    /// given, completes the record before observers hear of it.
    job& add(std::string owner,
             job_spec spec,
             std::unique_ptr<output::output_log> log,
             const std::function<void(job&)>& fill = {});
    /// Takes in a job read back from the store, with its id; later ids continue after `next_id`.
    /// Observers are not told (nothing happened to it). A finished job counts toward retention.
    void adopt(std::unique_ptr<job> j);
    void reserve_ids(job_id next_id) { next_id_ = std::max(next_id_, next_id); }
    /// The id the next add() assigns.
    job_id next_id() const { return next_id_; }
    job* find(job_id id);
    const job* find(job_id id) const;
    /// Every job, oldest first.
    std::vector<job*> list();
    std::size_t size() const { return jobs_.size(); }

    /// Called by the runner when a job changes; tells observers; applies retention on `finished`.
    void notify(const job& j, job_event e);
    void subscribe(observer o) { observers_.push_back(std::move(o)); }
    /// Called with each job just before retention evicts it.
    void on_evict(std::function<void(const job&)> f) { on_evict_ = std::move(f); }
    /// Output bytes kept by the finished jobs.
    std::uint64_t finished_output_bytes() const { return finished_bytes_; }
    /// Evicts finished jobs beyond the limits (the age limit is checked at most once a second);
    /// returns how many went.
    std::size_t evict(clock::time_point now = clock::now());

  private:
    retention retention_;
    std::map<job_id, std::unique_ptr<job>> jobs_;
    std::set<job_id> finished_;  // ids of the finished jobs, oldest first
    clock::time_point last_age_sweep_{};
    job_id next_id_ = 1;
    std::vector<observer> observers_;
    std::function<void(const job&)> on_evict_;
    std::uint64_t finished_bytes_ = 0;
};

}  // namespace corral::jobs
