#pragma once

#include <algorithm>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "corral/core/error_info.hpp"

namespace corral::sched {

using job_id = std::uint64_t;

struct scheduler_options {
    /// Jobs running at once, over all groups (at least 1).
    unsigned slots = 1;
    /// Jobs running at once within a group; a group not listed has no limit of its own.
    std::map<std::string, unsigned, std::less<>> group_limits;
    /// Jobs waiting at most; 0 means no limit.
    std::size_t max_queued = 100'000;
};

/// Where a queued job sits: lower priority numbers run first, and `seq` keeps FIFO order within one.
struct queue_position {
    int priority = 0;
    std::uint64_t seq = 0;
    friend auto operator<=>(const queue_position&, const queue_position&) = default;
};

/// One queued job, as the `corral queue` view shows it.
struct queued_job {
    job_id id;
    queue_position position;
    std::string group;
};

/**
 * Decides which queued job runs next. Jobs wait in priority order (lower number first, FIFO within a
 * priority) under a global slot limit and per-group limits. Every operation is O(log n) in the number
 * of queued jobs, whatever the groups: each group keeps its own ordered queue, and the heads of the
 * groups that may start a job now are kept in one ordered set, so `pop` never walks past jobs of a
 * full group.
 *
 * It holds ids only: the caller owns the jobs and tells the scheduler when one finishes.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class scheduler {
  public:
    explicit scheduler(scheduler_options options);

    /// Queues a job. Errors: errc::queue_full (the message gives the limit).
    result_info<queue_position> push(job_id id, int priority, std::string_view group);
    /// Puts a job back where it was, past the queue cap: a restart re-queues what it had accepted.
    void restore(job_id id, queue_position position, std::string_view group);
    /// The sequence number the next push() takes: a job queued again goes behind those queued now.
    std::uint64_t next_seq() { return next_seq_++; }
    /// Removes a queued job; false when it was not queued (already started or unknown).
    bool cancel(job_id id, queue_position position, std::string_view group);
    /// The next job that may start now, counted as running; empty when no slot or no eligible job.
    std::optional<job_id> pop();
    /// A job that `pop` returned has finished: its slot and its group's slot are free again.
    void finished(std::string_view group);

    /// True when `push` would fail with errc::queue_full.
    bool full() const { return options_.max_queued > 0 && queued_ >= options_.max_queued; }
    /// How many more jobs `push` takes before errc::queue_full (SIZE_MAX without a limit).
    std::size_t room() const {
        return options_.max_queued == 0 ? SIZE_MAX
                                        : options_.max_queued - std::min(queued_, options_.max_queued);
    }
    std::size_t queued() const { return queued_; }
    std::size_t running() const { return running_; }
    unsigned slots() const { return options_.slots; }
    /// Queued jobs in the order they would start (group limits aside), at most `limit` of them.
    std::vector<queued_job> snapshot(std::size_t limit) const;
    /// Running and queued jobs per group, for /metrics and the queue view.
    struct group_load {
        std::size_t running;
        std::size_t queued;
        unsigned limit;  ///< 0: none
    };
    std::map<std::string, group_load, std::less<>> groups() const;

  private:
    struct entry {
        queue_position position;
        job_id id;
        friend auto operator<=>(const entry&, const entry&) = default;
    };
    struct group_state {
        std::set<entry> queued;
        std::size_t running = 0;
        unsigned limit = 0;
        /// The entry of this group now in `ready_`, if any.
        std::optional<entry> listed;
    };
    struct ready_entry {
        entry head;
        group_state* group;
        std::string_view name;
        friend bool operator<(const ready_entry& a, const ready_entry& b) { return a.head < b.head; }
    };

    using group_map = std::map<std::string, group_state, std::less<>>;
    group_map::iterator group(std::string_view name);
    void relist(group_state& g, std::string_view name);
    void forget_if_idle(group_map::iterator it);

    scheduler_options options_;
    group_map groups_;
    /// The head of every group that is below its limit and has a queued job.
    std::set<ready_entry> ready_;
    std::uint64_t next_seq_ = 1;
    std::size_t queued_ = 0;
    std::size_t running_ = 0;
};

}  // namespace corral::sched
