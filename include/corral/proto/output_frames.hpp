#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "corral/core/async_event.hpp"
#include "corral/jobs/job.hpp"
#include "corral/output/output_log.hpp"
#include "corral/proto/encoder.hpp"

namespace corral::proto {

/**
 * Output messages encoded once and shared by every watcher that reads the same slice of the same
 * job on the same wire (encoder): a hundred watchers following one job at its tail cost one encoding
 * per chunk, not a hundred. Entries hold their frames weakly, so a frame lives exactly as long as some watcher's queue
 * holds it, and the cache keeps no memory of its own once streaming stops.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class output_frames {
  public:
    using frame = std::shared_ptr<const std::string>;

    struct slice {
        std::vector<frame> frames;
        std::vector<std::uint64_t> ends;  ///< the cursor after each frame (a reader resumes there)
        std::uint64_t next = 0;   ///< the cursor after these frames
        std::uint64_t lost = 0;   ///< bytes before `from` that were dropped (a "lost" message comes first)
        std::uint64_t bytes = 0;  ///< output bytes carried by the frames
    };

    /// The output messages for job `id`'s log from `from`, up to `max` bytes (output_log::read()).
    slice read(jobs::job_id id,
               const output::output_log& log,
               std::uint64_t from,
               std::size_t max,
               const encoder& wire);

    /// read(), with what is on file read off the core's thread (output_log::read_async()). Pin the
    /// job: the log must outlive the call.
    net::awaitable<slice> read_async(jobs::job_id id,
                                     const output::output_log& log,
                                     std::uint64_t from,
                                     std::size_t max,
                                     const encoder& wire);

    /// Entries in the cache (for tests).
    std::size_t size() const { return entries_.size(); }

  private:
    using key = std::tuple<jobs::job_id, std::uint64_t, std::size_t, const encoder*>;
    /// Reads from file under way (read_async()): a second reader of the same slice waits for them.
    std::map<key, std::shared_ptr<async_event>> pending_;
    std::optional<slice> cached(jobs::job_id id,
                                const output::output_log& log,
                                std::uint64_t from,
                                std::size_t max,
                                const encoder& wire);
    slice make(jobs::job_id id,
               std::uint64_t from,
               std::size_t max,
               const encoder& wire,
               output::read_result r,
               std::uint64_t log_end);
    struct entry {
        std::vector<std::weak_ptr<const std::string>> frames;
        std::vector<std::uint64_t> ends;
        std::uint64_t next = 0;
        std::uint64_t bytes = 0;
        std::uint64_t log_end = 0;  ///< the log's end when read: a short read is only valid until it grows
    };
    void prune();

    std::map<key, entry> entries_;
    std::size_t prune_at_ = 1024;
};

}  // namespace corral::proto
