#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "corral/jobs/job_journal.hpp"

namespace corral::store {

struct store_options {
    /// The database file (made with its directory's permissions; corrald's state directory is 0700).
    std::string path;
    /// Where each job's output file goes (`<id>.out`); empty: output stays in memory only.
    std::string output_dir;
    /// synchronous=FULL: a commit survives a power loss too, at the cost of an fsync per batch. The
    /// default (NORMAL, in WAL mode) survives any crash of corrald itself, `kill -9` included.
    bool full_sync = false;
    /// Writes in one transaction at most: a burst is committed in a few large batches.
    std::size_t max_batch = 10'000;
    /// Audit entries kept; older ones are deleted. 0: keep all.
    std::size_t max_audit = 100'000;
};

using jobs::loaded_state;

/// Counters for /metrics.
struct store_stats {
    std::uint64_t batches = 0;  ///< commits reported (a retried record counts as one)
    std::uint64_t writes = 0;
    std::uint64_t failures = 0;
    /// Records written again on their own after their batch failed (one bad record fails alone).
    std::uint64_t retried = 0;
};

/**
 * The durable store on SQLite: one database file in WAL mode, written by one thread of its own that
 * commits whatever has queued up as one transaction (group commit), so the core's thread never waits
 * on a disk and a burst of submissions costs a few commits, not one each.
 *
 * The core's thread serializes each record (to plain strings) and queues it; the writer turns the
 * queue into SQL. Commits are reported back by posting to the core's executor, where flush() waiters
 * wake: `submit` replies only after flush(), so an acknowledged job survives `kill -9`.
 *
 * @par Thread safety
 * Call everything from the core's executor. The writer thread touches only its own connection and
 * the queue (under a mutex).
 */
class sqlite_store final : public jobs::job_journal {
  public:
    /// Opens or creates the database, migrates its schema, reads it back (see take_loaded()), and
    /// starts the writer. Errors: errc::store_failed saying which file and why.
    static result_info<std::unique_ptr<sqlite_store>> open(net::any_io_executor executor,
                                                           store_options options);
    /// Commits everything queued, then stops the writer.
    ~sqlite_store() override;

    /// What open() read. Call once.
    loaded_state take_loaded() override { return std::move(loaded_); }
    std::string describe() const override { return "SQLite " + options_.path; }

    std::uint64_t save(const jobs::job& j) override;
    std::uint64_t save_state(const jobs::job& j) override;
    std::uint64_t starting(const jobs::job& j) override;
    void forget(const jobs::job& j) override;
    void audit(jobs::audit_entry entry) override;
    net::awaitable<result_info<void>> flush(std::uint64_t seq) override;
    net::awaitable<result_info<void>> flush() override;
    std::string output_file(jobs::job_id id) const override;
    void save_schedule(jobs::schedule_record record) override;
    void forget_schedule(std::string name) override;

    /// Runs on the writer thread after the writes queued before it.
    net::awaitable<result_info<jobs::audit_page>> audit_trail(jobs::job_id job,
                                                              std::size_t limit,
                                                              std::int64_t before) override;

    const store_stats& stats() const { return stats_; }
    const store_options& options() const { return options_; }

  private:
    struct op;
    struct writer;
    struct commit_state;
    sqlite_store(net::any_io_executor executor, store_options options);
    /// Queues `o`; returns its sequence number.
    std::uint64_t enqueue(op o);
    void writer_loop();
    /// Writes batch[from, to) (but the superseded rows) in one transaction; the failure, or "".
    std::string commit_range(const std::vector<op>& batch,
                             const std::vector<bool>& superseded,
                             std::size_t from,
                             std::size_t to);
    /// A whole job row that failed to commit on its own: the job's next record must be whole.
    void lost_whole_row(const op& o);
    /// Hands the jobs found without a whole row to the core's side (missing_).
    void note_missing();
    /// Answers the reads queued with the writes just committed (or not).
    void run_queries();
    /// Tells the core that records first..last are done, failed when `failure` is not empty.
    void report(std::uint64_t first,
                std::uint64_t last,
                std::size_t writes,
                std::string failure,
                bool retried = false);
    /// Which ops of a batch a later row of the same job replaces (they need not be written). A
    /// state-only row that replaces a whole one becomes whole (the state copied into the whole one).
    static std::vector<bool> superseded_rows(std::vector<op>& batch);
    /// A state-only record, or a whole one for a job whose whole record a failed commit lost.
    std::uint64_t save_changes(const jobs::job& j, bool starting);

    net::any_io_executor executor_;
    store_options options_;
    loaded_state loaded_;
    store_stats stats_;
    std::shared_ptr<commit_state> commits_;
    std::unique_ptr<writer> writer_;
    std::uint64_t queued_seq_ = 0;  // sequence number of the last op queued

    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<op> queue_;  // guarded by mutex_
    bool stopping_ = false;  // guarded by mutex_
    /// Jobs whose whole record is not in the database (the commit that held it failed): their next
    /// record is whole again. Guarded by mutex_; `missing_count_` lets the core skip the lock.
    std::unordered_set<std::int64_t> missing_;
    std::atomic<std::size_t> missing_count_{0};
    std::thread thread_;
};

}  // namespace corral::store
