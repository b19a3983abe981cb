#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "corral/jobs/job_journal.hpp"

namespace corral::store {

struct job_row;

/**
 * The journal kept in memory: every record as the SQLite store would write it (the same rows), the
 * audit trail, and nothing on disk, so nothing outlives the process. take_loaded() gives back what
 * was recorded, as a reopened database would. It is the reference the store's contract tests hold
 * every backend to, and an embedder's journal for tests of its own.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class memory_store final : public jobs::job_journal {
  public:
    explicit memory_store(net::any_io_executor executor);
    ~memory_store() override;

    jobs::loaded_state take_loaded() override;
    std::string describe() const override { return "memory (nothing survives a restart)"; }
    std::uint64_t save(const jobs::job& j) override;
    std::uint64_t save_state(const jobs::job& j) override;
    std::uint64_t starting(const jobs::job& j) override;
    void forget(const jobs::job& j) override;
    void audit(jobs::audit_entry entry) override;
    net::awaitable<result_info<void>> flush(std::uint64_t seq) override;
    net::awaitable<result_info<void>> flush() override;
    net::awaitable<result_info<jobs::audit_page>> audit_trail(jobs::job_id job,
                                                              std::size_t limit,
                                                              std::int64_t before) override;
    std::string output_file(jobs::job_id) const override { return {}; }
    void save_schedule(jobs::schedule_record record) override;
    void forget_schedule(std::string name) override { schedules_.erase(name); }

  private:
    net::any_io_executor executor_;
    std::map<std::int64_t, job_row> rows_;
    std::map<std::string, jobs::schedule_record> schedules_;
    std::vector<jobs::audit_entry> audit_;  ///< oldest first; entry i has sequence number i + 1
    std::uint64_t seq_ = 0;
    jobs::job_id next_id_ = 1;
};

}  // namespace corral::store
