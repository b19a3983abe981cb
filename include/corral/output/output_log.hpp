#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/container/deque.hpp>

#include "corral/core/asio.hpp"
#include "corral/core/error_info.hpp"
#include "corral/core/shared_fd.hpp"
#include "corral/output/record.hpp"

namespace corral::output {

/// What happens when a job's output passes `log_options::cap`.
enum class cap_policy {
    keep_newest,  ///< drop the oldest output, so readers behind it see a marked loss; the job runs on
    stop_job,     ///< keep the first `cap` bytes, drop the rest, and tell the writer to stop the job
};

struct log_options {
    /// Memory kept for the newest output; older chunks go to the spill file, or are dropped without one.
    std::size_t memory_limit = 8 << 20;
    /// Spill older output to this file (created or truncated, mode 0600, when first needed) and, at
    /// close, write all of the output there and keep none in memory: the file outlives the log, and
    /// reopen() reads it back. A log that never had output makes no file.
    std::string spill_file;
    /// Or spill to an anonymous temporary file in this directory, made when output first outgrows
    /// memory_limit and gone when the log is destroyed. Check the directory once with check_spill_dir().
    std::string spill_dir;
    /// Total bytes kept for the job; 0 means no cap.
    std::uint64_t cap = 0;
    cap_policy policy = cap_policy::keep_newest;
};

/// What commit() tells the writer.
enum class commit_result { ok, cap_reached };

/// How read() gives what it read: the records as they were written, or (for a raw page of one
/// stream) the bytes of the first record's stream, up to where the other stream begins, as one
/// record: one copy, not a string per record and then another to join them.
///
/// `one_stream_on_file` is one_stream for a reader that can send bytes from a file itself: a page of
/// large records that read_async() finds on file comes as extents of the spill file instead
/// (read_result::on_file), which a plain connection sends with sendfile(2), never copying them
/// through corrald. Anything else comes as one_stream would give it.
enum class read_shape { records, one_stream, one_stream_on_file };

/// `length` payload bytes at `pos` in a spill file.
struct file_extent {
    std::uint64_t pos = 0;
    std::uint64_t length = 0;
};

/// A page of one stream left in the spill file (read_shape::one_stream_on_file).
struct on_file_page {
    shared_fd file;  ///< open for the page's own sake: the log may close its own meanwhile
    stream source = stream::out;
    std::vector<file_extent> extents;
    std::uint64_t bytes() const {
        std::uint64_t n = 0;
        for (const auto& e : extents) {
            n += e.length;
        }
        return n;
    }
};

/// A slice of the log returned by read().
struct read_result {
    std::vector<record> records;
    std::uint64_t next = 0;  ///< the cursor to read from next time
    std::uint64_t lost = 0;  ///< bytes before the first record that were dropped and can't be read
    /// read_shape::one_stream_on_file: the page's bytes, on file (`records` is empty then).
    std::optional<on_file_page> on_file;
};

/**
 * One job's output: an append-only byte stream of records `(offset, stream, time, bytes)`.
 *
 * Readers are cursors (byte offsets): any number can read, each from its own place, and a follower
 * awaits wait_for(cursor) for more. Memory stays bounded: the newest `memory_limit` bytes are in memory
 * in chunks, older chunks go to a spill file (a sequence of packed records; docs/architecture.md), or
 * are dropped when there is none. A *hold* keeps the log from dropping output that a lossless reader
 * (such as `corral exec` printing to a terminal) has not read yet: the writer then waits in
 * wait_writable() instead, which back-pressures the child through its pipe.
 *
 * @par Thread safety
 * Not thread-safe: use from the executor it was made with.
 */
class output_log {
  public:
    static constexpr std::size_t chunk_size = 256 * 1024;  ///< the largest chunk (they start smaller)
    static constexpr std::size_t first_chunk_capacity = 4 * 1024;

    /// A new, empty log. (Spill files are made when first needed; a failure then is logged and the
    /// log does without, so check the directory first with check_spill_dir().)
    static result_info<std::unique_ptr<output_log>> create(net::any_io_executor executor,
                                                           log_options options = {});
    /// Where the file work of close_async() and read_async() runs: the blocking-work thread
    /// (job_service::blocking_executor()). Without one, it runs inline on the log's executor.
    void set_file_executor(net::any_io_executor files) { files_ = std::move(files); }
    /// A closed log read back from a named spill file that a closed log left: its records from file
    /// position `file_pos` on, the first at log offset `first_offset` (see first_file_pos()). Reading
    /// stops at a damaged record. Errors: errc::invalid_argument when the file cannot be opened.
    static result_info<std::unique_ptr<output_log>> reopen(net::any_io_executor executor,
                                                           const std::string& file,
                                                           std::uint64_t first_offset,
                                                           std::uint64_t file_pos);
    /// Whether anonymous spill files can be made in `dir` (errc::invalid_argument says why not).
    static result_info<void> check_spill_dir(const std::string& dir);
    ~output_log();
    output_log(const output_log&) = delete;
    output_log& operator=(const output_log&) = delete;

    // --- writing (one writer) ---
    /// A writable region of up to `max` bytes, filled by the caller and then published with commit().
    std::span<char> prepare(std::size_t max = chunk_size - header_size);
    /// Publishes the first `n` bytes of the last prepare() as a record from `source`.
    commit_result commit(stream source, std::size_t n);
    /// Copies bytes in (prepare + commit).
    commit_result append(stream source, std::string_view bytes);
    /// Waits while memory is full and a hold forbids dropping: back-pressure for the writer.
    net::awaitable<void> wait_writable();
    /// No more output: wakes every follower. The spill file, if named, gets the in-memory tail too.
    void close();
    /// close(), with the in-memory tail written to the named spill file on the file executor (up to
    /// memory_limit bytes: not on the thread that serves every client). Readers read it from memory
    /// meanwhile; it is released once on file. A small tail is written inline: the hop costs more.
    net::awaitable<void> close_async();
    /// A tail this small is saved inline by close_async().
    static constexpr std::size_t inline_save_bytes = 64 * 1024;
    /**
     * Writes what is in memory and not yet in the named file there (on the file executor when there
     * is one), and keeps it in memory for readers: a restart, even after a crash, finds the output up
     * to here. The last chunk is sealed (the next record starts another). Does nothing without a
     * named file, or once closed.
     */
    void flush();
    /// A closed log whose output is all in its named file (one read back by reopen()) takes output
    /// again, after what the file holds, with `options` (its memory limit and cap; the file stays
    /// its own): a job retried after a restart keeps its earlier attempts' output. Errors: not such
    /// a log, or the file cannot be opened.
    result_info<void> continue_writing(log_options options);

    // --- reading ---
    /// Records from `from` up to about `max_bytes`, cut to start exactly at `from`. Reads what is on
    /// file inline: on the core's thread, use read_async().
    read_result read(std::uint64_t from,
                     std::size_t max_bytes = 1 << 20,
                     read_shape shape = read_shape::records) const;
    /// read(), with what is on file read on the file executor; what is in memory is read at once. It
    /// may return less than read() would (it stops where memory takes over from the file): read on
    /// from `next`. Output dropped while the file was read is reported lost. The log may be destroyed
    /// meanwhile (its job evicted): the result is then empty, so pin the job to read it whole.
    net::awaitable<read_result> read_async(std::uint64_t from, std::size_t max_bytes = 1 << 20) const;
    net::awaitable<read_result> read_async(std::uint64_t from, std::size_t max_bytes, read_shape shape) const;
    /// Waits until there is output after `offset` or the log is closed. Cancellable.
    net::awaitable<void> wait_for(std::uint64_t offset);

    std::uint64_t end_offset() const { return end_; }
    /// The oldest offset still readable.
    std::uint64_t first_offset() const;
    bool closed() const { return closed_; }
    /// Bytes dropped by the cap or the memory limit, and bytes discarded after a stop_job cap.
    std::uint64_t dropped_bytes() const { return dropped_; }
    std::uint64_t discarded_bytes() const { return discarded_; }
    bool cap_reached() const { return cap_reached_; }
    std::size_t memory_bytes() const { return memory_bytes_; }
    /// Whether the whole output is in the named spill file (after close(); empty logs make no file).
    bool saved() const { return saved_; }
    /// Where the first readable record is in the named spill file (for reopen()).
    std::uint64_t first_file_pos() const;

    // --- holds: readers that must not lose output ---
    using hold_id = int;
    hold_id add_hold(std::uint64_t offset);
    void move_hold(hold_id id, std::uint64_t offset);
    void remove_hold(hold_id id);

    static constexpr std::size_t header_size = 16;

  private:
    struct chunk;
    output_log(net::any_io_executor executor, log_options options);
    void start_chunk(std::size_t need);
    void enforce_limits();
    bool open_spill();
    void save_to_file();
    bool spill_oldest();
    void drop_oldest();
    std::uint64_t min_hold() const;
    /// False when the chunk is on file and could not be read whole (a short or failed pread).
    bool read_chunk(const chunk& c, int fd, std::size_t& budget, read_result& out, read_shape shape) const;
    /// Parses a chunk's packed bytes (from memory or file) into `out`, within `budget`.
    static void parse_chunk(std::uint64_t start,
                            std::size_t used,
                            const char* data,
                            std::size_t& budget,
                            read_result& out,
                            read_shape shape,
                            std::size_t expect);
    void trim_last_chunk();
    /// Spills a chunk on the file executor, its memory kept until the write is done: the core's
    /// thread does not wait on the disk (a page cache that must first be backed by the host can
    /// take 500 MB/s), and readers read the chunk from memory meanwhile.
    void write_behind(chunk& c, bool keep_memory = false);
    /// Back on the log's thread: the write of the chunk at `start` is done (errno `error`, or 0).
    void written_behind(std::uint64_t start, int error);
    net::steady_timer& signal(std::unique_ptr<net::steady_timer>& timer);
    static void wake(const std::unique_ptr<net::steady_timer>& timer);

    log_options options_;
    // Boost's deque, not std::deque: libstdc++'s allocates a map and a 512-byte node even when empty,
    // and every queued job has an empty log (the memory per queued job is a target; bench/sched_bench).
    boost::container::deque<chunk> chunks_;
    std::uint64_t end_ = 0;
    std::uint64_t dropped_ = 0;
    std::uint64_t discarded_ = 0;
    std::size_t memory_bytes_ = 0;
    std::uint64_t file_end_ = 0;
    std::size_t next_chunk_capacity_ = first_chunk_capacity;
    int file_ = -1;
    bool spill_failed_ = false;  // the spill file could not be made or written: do without
    bool closed_ = false;
    bool saved_ = false;
    bool cap_reached_ = false;
    bool saving_ = false;  // close_async() is writing the chunks on the file executor: leave them be
    std::size_t writes_in_flight_ = 0;  // write_behind() writes not yet done
    std::map<hold_id, std::uint64_t> holds_;
    hold_id next_hold_ = 1;
    // Wake-ups for followers (data) and a held-back writer (space), made on first wait: most logs
    // never have a waiter while their job is queued, and a timer costs more than the empty log.
    net::any_io_executor executor_;
    std::unique_ptr<net::steady_timer> data_signal_;
    std::unique_ptr<net::steady_timer> space_signal_;
    net::any_io_executor files_;
    // Expires with the log: read_async() checks it when it comes back from the file executor. Made
    // by the first read from file (an allocation per queued job is not free; bench/sched_bench).
    mutable std::shared_ptr<char> alive_;
};

}  // namespace corral::output
