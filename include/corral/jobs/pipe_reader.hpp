#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "corral/core/asio.hpp"
#include "corral/jobs/output_pressure.hpp"

namespace corral::jobs {

/**
 * Reads children's output pipes on a thread of its own and hands what it reads to the core, in
 * order, in blocks.
 *
 * Why a thread: on the core's one thread a pipe is read once per turn of the event loop, and a turn
 * that writes to 100 watchers lasts long enough for a 1 MiB pipe to fill, which stalls the job (it
 * ran at 0.5–0.78 × its unwatched speed; bench/results/watchers.md). Here the pipe is drained as
 * fast as the child writes, whatever the core is doing. The core still owns every log
 * (DESIGN.md: other threads reach the core only by posting): blocks travel through a bounded
 * channel and come back to be reused, so a core that falls behind back-pressures the child once
 * `blocks_per_pipe` blocks are waiting, as a full pipe would.
 *
 * The price is one more copy (block into log), a wake-up of the core per block and two thread hops
 * per pipe, so job_runner reads quiet pipes on the core and hands a pipe over only once it has
 * carried job_runner::options::hand_over_after bytes (docs/architecture.md has the figures).
 *
 * @par Thread safety
 * Use open(), the destructor and every reading from the core's executor (the one given to open()).
 */
class pipe_reader {
  public:
    struct options {
        std::size_t block_size = 128 * 1024;  ///< the most one read takes
        std::size_t blocks_per_pipe = 32;     ///< read ahead of the core per pipe, in blocks
    };

    class reading;
    struct block;         // opaque: one read's bytes
    struct shared_state;  // opaque: the channels between a reading and the reader thread

    explicit pipe_reader(options o);
    pipe_reader() : pipe_reader(options{}) {}
    /// Ends every reading still open (their next() returns the end) and joins the thread.
    ~pipe_reader();
    pipe_reader(const pipe_reader&) = delete;
    pipe_reader& operator=(const pipe_reader&) = delete;

    /// Starts reading a duplicate of `fd`, which must be non-blocking; the caller keeps its own.
    /// Blocks come out of the reading on `core`.
    std::unique_ptr<reading> open(int fd, net::any_io_executor core);
    /// Readings opened from now on tell `pressure` when a block of at least half block_size comes
    /// out of them (the pipe is pouring: output_pressure).
    void report_to(std::shared_ptr<output_pressure> pressure) { pressure_ = std::move(pressure); }

  private:
    options options_;
    std::shared_ptr<output_pressure> pressure_;
    net::io_context context_;
    std::vector<std::weak_ptr<shared_state>> open_;
    std::thread thread_;
};

/// One pipe being read. Destroying it abandons the rest.
class pipe_reader::reading {
  public:
    explicit reading(std::shared_ptr<shared_state> state,
                     std::shared_ptr<output_pressure> pressure = nullptr,
                     std::size_t big_block = 0);
    ~reading();
    reading(const reading&) = delete;
    reading& operator=(const reading&) = delete;

    /// The next bytes read, valid until the next call; empty at the end (end of file, or a read
    /// error: see error()).
    net::awaitable<std::span<const char>> next();
    /// The errno that ended the reading early, or 0 (end of file, or not ended yet).
    int error() const { return error_; }

  private:
    std::shared_ptr<shared_state> state_;
    std::shared_ptr<output_pressure> pressure_;
    std::size_t big_block_ = 0;
    std::unique_ptr<block> current_;
    bool ended_ = false;
    int error_ = 0;
};

}  // namespace corral::jobs
