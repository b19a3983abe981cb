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

/// What happened to a job, for observers (adapters map these to their wire formats).
enum class job_event { queued, started, progress, finished };

/// Keeps finished jobs by count (acons kept the last 100; so do we by default) and by age.
struct retention {
    std::size_t max_finished = 100;
    std::optional<std::chrono::seconds> max_age;
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
    job* find(job_id id);
    const job* find(job_id id) const;
    /// Every job, oldest first.
    std::vector<job*> list();
    std::size_t size() const { return jobs_.size(); }

    /// Called by the runner when a job changes; tells observers; applies retention on `finished`.
    void notify(const job& j, job_event e);
    void subscribe(observer o) { observers_.push_back(std::move(o)); }
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
};

}  // namespace corral::jobs
