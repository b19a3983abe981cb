#include "corral/output/output_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "corral/core/blocking_work.hpp"

namespace corral::output {
namespace {

// The packed form of a record in memory and in the spill file (host byte order).
struct packed_header {
    std::int64_t time_ns;
    std::uint32_t length;
    std::uint8_t source;
    std::uint8_t pad[3];
};
static_assert(sizeof(packed_header) == output_log::header_size);

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool all_zero(const packed_header& h) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(&h);
    return std::all_of(bytes, bytes + sizeof h, [](unsigned char b) { return b == 0; });
}

/// A header as corrald writes them: its stream, zero padding, at most a chunk of payload, and a time
/// after 2001 (1e18 ns) — what a view shifted a few bytes into a zeroed region does not pass.
bool plausible(const packed_header& h) {
    return (h.source == static_cast<std::uint8_t>(stream::out) ||
            h.source == static_cast<std::uint8_t>(stream::err)) &&
           h.pad[0] == 0 && h.pad[1] == 0 && h.pad[2] == 0 && h.length <= output_log::chunk_size &&
           h.time_ns > 1'000'000'000'000'000'000;
}

/**
 * Where the records go on after `pos`, in a file whose oldest chunks were punched out (a capped log
 * that keeps its newest output drops its oldest chunks from the file too). A hole reads as zeros and
 * ends where the next kept chunk's first record begins; that record's time may start with zero bytes,
 * so it begins within the 8 bytes before the first one that is not. Nothing when there is no record
 * after the hole.
 */
std::optional<std::uint64_t> first_record_after_hole(int fd, std::uint64_t pos, std::uint64_t size) {
    const off_t data = ::lseek(fd, static_cast<off_t>(pos), SEEK_DATA);  // past whole free blocks
    if (data < 0) {
        return std::nullopt;
    }
    std::array<unsigned char, 64 * 1024> block{};
    for (auto at = static_cast<std::uint64_t>(data); at < size;) {
        const auto want = std::min<std::uint64_t>(block.size(), size - at);
        const auto n = ::pread(fd, block.data(), want, static_cast<off_t>(at));
        if (n <= 0) {
            return std::nullopt;
        }
        const auto end = block.begin() + n;
        const auto first = std::find_if(block.begin(), end, [](unsigned char b) { return b != 0; });
        if (first == end) {
            at += static_cast<std::uint64_t>(n);
            continue;
        }
        const auto nonzero = at + static_cast<std::uint64_t>(first - block.begin());
        for (auto s = std::max(pos, nonzero >= 7 ? nonzero - 7 : 0); s <= nonzero; ++s) {
            packed_header h{};
            if (::pread(fd, &h, sizeof h, static_cast<off_t>(s)) == sizeof h && plausible(h)) {
                return s;
            }
        }
        return std::nullopt;
    }
    return std::nullopt;
}

/// A chunk of a log that is on file only, as the file executor reads it.
struct chunk_on_file {
    std::uint64_t start;  // log offset of its first payload byte
    std::uint64_t bytes;
    std::int64_t file_pos;
    std::size_t used;
};

/// Records smaller than this are read into memory: sending them from the file would cost a header
/// read each, more than copying them.
constexpr std::uint32_t smallest_extent = 32 * 1024;
/// Header reads one page may take to find its extents, before it reads its chunks whole instead.
constexpr int most_header_reads = 64;

/**
 * The page of one stream from log offset `from` (up to `max_bytes`) as extents of the spill file `fd`,
 * found by reading the records' headers only; `next` gets where it ends. Nothing when its first
 * record is small, a header cannot be read, or finding them takes too many reads: the caller then
 * reads the chunks themselves.
 */
std::optional<on_file_page> find_extents(int fd,
                                         const std::vector<chunk_on_file>& chunks,
                                         std::uint64_t from,
                                         std::size_t max_bytes,
                                         std::uint64_t& next) {
    on_file_page page;
    next = from;
    std::uint64_t budget = max_bytes;
    int reads = 0;
    for (const auto& c : chunks) {
        std::uint64_t offset = c.start;
        for (std::size_t pos = 0; pos < c.used && budget > 0;) {
            packed_header h{};
            const auto at = static_cast<std::uint64_t>(c.file_pos) + pos;
            if (++reads > most_header_reads ||
                ::pread(fd, &h, sizeof h, static_cast<off_t>(at)) != static_cast<ssize_t>(sizeof h) ||
                !plausible(h)) {
                return page.extents.empty() ? std::nullopt : std::optional(std::move(page));
            }
            const std::uint64_t rec_end = offset + h.length;
            if (rec_end > next) {
                const auto source = static_cast<stream>(h.source);
                if (h.length < smallest_extent || (!page.extents.empty() && source != page.source)) {
                    // A small record is read into memory by the next page; the other stream is its own.
                    return page.extents.empty() ? std::nullopt : std::optional(std::move(page));
                }
                const std::uint64_t start = std::max(next, offset);
                const std::uint64_t take = std::min(rec_end - start, budget);
                page.source = source;
                page.extents.push_back({at + output_log::header_size + (start - offset), take});
                next = start + take;
                budget -= take;
            }
            offset = rec_end;
            pos += output_log::header_size + h.length;
        }
        if (budget == 0) {
            break;
        }
    }
    return page.extents.empty() ? std::nullopt : std::optional(std::move(page));
}

}  // namespace

std::string_view stream_name(stream s) {
    return s == stream::err ? "stderr" : "stdout";
}

struct output_log::chunk {
    std::uint64_t start = 0;  // log offset of the first payload byte
    std::uint64_t bytes = 0;  // payload bytes
    // Shared: a write to the spill file on the file executor keeps it alive until it is done.
    std::shared_ptr<char[]> data;
    std::size_t capacity = 0;
    std::size_t used = 0;        // packed bytes (headers + payload)
    std::int64_t file_pos = -1;  // where the packed bytes are in the spill file
    bool writing = false;        // on its way there (write_behind): memory keeps it meanwhile
    bool keep = false;           // flushed, not spilled: memory keeps it once written too
};

result_info<std::unique_ptr<output_log>> output_log::create(net::any_io_executor executor,
                                                            log_options options) {
    // Spill files, named or anonymous, are made only when first needed (output outgrows memory_limit,
    // or a named log is closed with output in it): most jobs print little or nothing, and a file per
    // job is a filesystem round trip on the daemon's thread, and an open descriptor per queued job.
    return std::unique_ptr<output_log>(new output_log(std::move(executor), std::move(options)));
}

result_info<std::unique_ptr<output_log>> output_log::reopen(net::any_io_executor executor,
                                                            const std::string& file,
                                                            std::uint64_t first_offset,
                                                            std::uint64_t file_pos) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return error_info{make_error_code(errc::invalid_argument),
                          fmt::format("cannot open output file '{}': {}", file, std::strerror(errno))};
    }
    std::unique_ptr<output_log> log(new output_log(std::move(executor), {.spill_file = file}));
    log->end_ = log->dropped_ = first_offset;
    // The index: each record's header says its length; records are grouped into chunks left on file.
    // A record cut short (corrald died as it was written) ends it: what comes next is written there.
    struct stat st {};
    const std::uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    std::uint64_t pos = file_pos;
    if (packed_header h{}; ::pread(fd, &h, sizeof h, static_cast<off_t>(pos)) == sizeof h && all_zero(h)) {
        // The record the job's row points at was dropped (a cap keeping the newest output) after the
        // row was written: go on at the first record kept, counting the bytes in between as dropped.
        // They include the dropped records' headers, so the kept records' offsets come out at most 16
        // bytes per dropped record later than they were; nothing kept is lost or written over.
        if (const auto kept = first_record_after_hole(fd, pos, size)) {
            log->end_ = log->dropped_ = first_offset + (*kept - pos);
            pos = *kept;
        }
    }
    for (packed_header h; ::pread(fd, &h, sizeof h, static_cast<off_t>(pos)) == sizeof h;) {
        if (h.source != static_cast<std::uint8_t>(stream::out) &&
            h.source != static_cast<std::uint8_t>(stream::err)) {
            spdlog::warn("output file '{}' is damaged at byte {}: reading stops there", file, pos);
            break;
        }
        const std::size_t packed = header_size + h.length;
        if (pos + packed > size) {
            spdlog::warn("output file '{}' ends inside a record at byte {}: reading stops there", file, pos);
            break;
        }
        if (log->chunks_.empty() || log->chunks_.back().used + packed > chunk_size) {
            log->chunks_.push_back({.start = log->end_, .file_pos = static_cast<std::int64_t>(pos)});
        }
        auto& c = log->chunks_.back();
        c.used += packed;
        c.bytes += h.length;
        log->end_ += h.length;
        pos += packed;
    }
    ::close(fd);
    log->file_end_ = pos;
    log->saved_ = true;
    log->closed_ = true;
    return log;
}

result_info<void> output_log::check_spill_dir(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
    if (fd < 0) {
        return error_info{
            make_error_code(errc::invalid_argument),
            fmt::format("cannot create output spill files in '{}': {}", dir, std::strerror(errno))};
    }
    ::close(fd);
    return {};
}

bool output_log::open_spill() {
    if (file_ >= 0 || spill_failed_) {
        return file_ >= 0;
    }
    const bool named = !options_.spill_file.empty();
    if (!named && options_.spill_dir.empty()) {
        return false;
    }
    file_ = named ? ::open(options_.spill_file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
                  : ::open(options_.spill_dir.c_str(), O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
    if (file_ < 0) {
        spill_failed_ = true;
        spdlog::error(
            "cannot create an output spill file {} '{}' ({}): output beyond {} bytes in memory "
            "is dropped once no reader needs it",
            named ? "named" : "in",
            named ? options_.spill_file : options_.spill_dir,
            std::strerror(errno),
            options_.memory_limit);
    }
    return file_ >= 0;
}

output_log::output_log(net::any_io_executor executor, log_options options)
    : options_(std::move(options)), executor_(std::move(executor)) {}

net::steady_timer& output_log::signal(std::unique_ptr<net::steady_timer>& timer) {
    if (!timer) {
        timer = std::make_unique<net::steady_timer>(executor_, net::steady_timer::time_point::max());
    }
    return *timer;
}

void output_log::wake(const std::unique_ptr<net::steady_timer>& timer) {
    if (timer) {
        timer->cancel();
    }
}

output_log::~output_log() {
    if (file_ >= 0) {
        ::close(file_);
    }
}

void output_log::start_chunk(std::size_t need) {
    chunk c;
    c.start = end_;
    // Chunks start small and double up to chunk_size: most jobs print little (or nothing), and a
    // fresh 256 KiB block per job is an mmap and page faults on the daemon's thread.
    c.capacity = std::max(need, next_chunk_capacity_);
    next_chunk_capacity_ = std::min(next_chunk_capacity_ * 2, chunk_size);
    c.data.reset(new char[c.capacity]);
    memory_bytes_ += c.capacity;
    chunks_.push_back(std::move(c));
}

std::span<char> output_log::prepare(std::size_t max) {
    max = std::clamp<std::size_t>(max, 1, chunk_size - header_size);
    const std::size_t want = std::min<std::size_t>(max, 16 * 1024);
    if (chunks_.empty() || !chunks_.back().data ||
        chunks_.back().capacity - chunks_.back().used < header_size + want) {
        start_chunk(header_size + want);
    }
    auto& c = chunks_.back();
    std::size_t room = std::min(max, c.capacity - c.used - header_size);
    return {c.data.get() + c.used + header_size, room};
}

commit_result output_log::commit(stream source, std::size_t n) {
    if (options_.policy == cap_policy::stop_job && options_.cap != 0) {
        std::uint64_t allowed = end_ >= options_.cap ? 0 : options_.cap - end_;
        if (n > allowed) {
            discarded_ += n - allowed;
            n = static_cast<std::size_t>(allowed);
            cap_reached_ = true;
        }
    }
    if (n > 0) {
        auto& c = chunks_.back();
        packed_header h{now_ns(), static_cast<std::uint32_t>(n), static_cast<std::uint8_t>(source), {}};
        std::memcpy(c.data.get() + c.used, &h, sizeof h);
        c.used += header_size + n;
        c.bytes += n;
        end_ += n;
        wake(data_signal_);
        enforce_limits();
    }
    return cap_reached_ ? commit_result::cap_reached : commit_result::ok;
}

commit_result output_log::append(stream source, std::string_view bytes) {
    commit_result result = commit_result::ok;
    while (!bytes.empty()) {
        auto span = prepare(bytes.size());
        std::memcpy(span.data(), bytes.data(), span.size());
        result = commit(source, span.size());
        bytes.remove_prefix(span.size());
    }
    return result;
}

std::uint64_t output_log::first_offset() const {
    return chunks_.empty() ? end_ : chunks_.front().start;
}

std::uint64_t output_log::min_hold() const {
    std::uint64_t m = std::numeric_limits<std::uint64_t>::max();
    for (const auto& [id, offset] : holds_) {
        m = std::min(m, offset);
    }
    return m;
}

void output_log::enforce_limits() {
    if (saving_) {
        return;  // close_async() is writing the chunks: they stay until it is done (the log is closed)
    }
    if (options_.policy == cap_policy::keep_newest && options_.cap != 0) {
        while (chunks_.size() > 1 && end_ - first_offset() - chunks_.front().bytes >= options_.cap) {
            drop_oldest();
        }
    }
    while (memory_bytes_ > options_.memory_limit && chunks_.size() > 1) {
        if (open_spill()) {
            if (!spill_oldest()) {
                break;
            }
        } else if (chunks_.front().start + chunks_.front().bytes <= min_hold()) {
            drop_oldest();
        } else {
            break;  // a hold needs it: the writer waits in wait_writable()
        }
    }
}

bool output_log::spill_oldest() {
    if (saving_) {
        return false;
    }
    // In memory and not being written: on file already (flushed), its memory just goes; otherwise
    // it is written first (a chunk being written has its place on file already).
    auto it = std::find_if(
        chunks_.begin(), chunks_.end() - 1, [](const chunk& c) { return c.data != nullptr && !c.writing; });
    if (it == chunks_.end() - 1) {
        return false;
    }
    if (it->file_pos >= 0) {
        memory_bytes_ -= it->capacity;
        it->data.reset();
        return true;
    }
    if (files_) {
        write_behind(*it);
        return true;
    }
    ssize_t n = ::pwrite(file_, it->data.get(), it->used, static_cast<off_t>(file_end_));
    if (n != static_cast<ssize_t>(it->used)) {
        spdlog::error("output spill file write failed ({}): dropping the oldest output",
                      std::strerror(errno));
        ::close(file_);
        file_ = -1;
        spill_failed_ = true;
        return false;
    }
    it->file_pos = static_cast<std::int64_t>(file_end_);
    file_end_ += it->used;
    it->data.reset();
    memory_bytes_ -= it->capacity;
    return true;
}

void output_log::write_behind(chunk& c, bool keep_memory) {
    // The chunk keeps its memory (readers read it there) until the write is done; its place on file
    // is taken now, so later chunks and the save at close go after it, whatever order they finish in.
    c.file_pos = static_cast<std::int64_t>(file_end_);
    c.writing = true;
    c.keep = keep_memory;
    file_end_ += c.used;
    ++writes_in_flight_;
    const int fd = ::fcntl(file_, F_DUPFD_CLOEXEC, 0);  // the log may close its own meanwhile
    if (!alive_) {
        alive_ = std::make_shared<char>();
    }
    auto write = [fd, data = c.data, used = c.used, pos = c.file_pos]() {
        const bool ok = fd >= 0 && ::pwrite(fd, data.get(), used, pos) == static_cast<ssize_t>(used);
        const int error = ok ? 0 : fd < 0 ? EBADF : errno;
        if (fd >= 0) {
            ::close(fd);
        }
        return error;
    };
    // Everything the file thread touches is in the closure: the log may be gone when it runs.
    net::post(files_,
              [this, core = executor_, alive = std::weak_ptr<char>(alive_), start = c.start,
               write = std::move(write)]() mutable {
                  const int error = write();
                  net::post(core, [this, alive, start, error] {
                      if (!alive.expired()) {
                          written_behind(start, error);
                      }
                  });
              });
}

void output_log::written_behind(std::uint64_t start, int error) {
    --writes_in_flight_;
    auto it = std::lower_bound(
        chunks_.begin(), chunks_.end(), start, [](const chunk& c, std::uint64_t v) { return c.start < v; });
    if (it != chunks_.end() && it->start == start && it->writing) {  // not dropped (cap policy) meanwhile
        it->writing = false;
        if (error != 0) {
            // As when a write on this thread fails: no more spilling; memory keeps this chunk, and
            // what comes next is dropped once no hold needs it.
            spdlog::error("output spill file write failed ({}): dropping the oldest output", std::strerror(error));
            it->file_pos = -1;
            if (file_ >= 0) {
                ::close(file_);
                file_ = -1;
            }
            spill_failed_ = true;
        } else if (it->data && (!it->keep || saved_)) {
            memory_bytes_ -= it->capacity;
            it->data.reset();
        }
    }
    wake(space_signal_);  // a writer held back, or close_async() waiting for the writes
}

void output_log::flush() {
    const bool unsaved = std::any_of(chunks_.begin(), chunks_.end(), [](const chunk& c) {
        return c.data && c.file_pos < 0 && c.used > 0;
    });
    if (!unsaved || closed_ || saving_ || options_.spill_file.empty() || !open_spill()) {
        return;
    }
    trim_last_chunk();  // sealed: what comes next goes to a chunk after it, on file after it
    for (auto& c : chunks_) {
        if (!c.data || c.file_pos >= 0 || c.used == 0) {
            continue;
        }
        if (files_) {
            write_behind(c, true);
        } else if (::pwrite(file_, c.data.get(), c.used, static_cast<off_t>(file_end_)) ==
                   static_cast<ssize_t>(c.used)) {
            c.file_pos = static_cast<std::int64_t>(file_end_);
            file_end_ += c.used;
        } else {
            spdlog::error("cannot write output file '{}': {}", options_.spill_file, std::strerror(errno));
            return;  // memory keeps it; the save at the end tries again
        }
    }
}

result_info<void> output_log::continue_writing(log_options options) {
    if (!closed_ || !saved_ || options_.spill_file.empty()) {
        return error_info{make_error_code(errc::invalid_state),
                          "only a closed log whose output is all on file takes more"};
    }
    const int fd = ::open(options_.spill_file.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return error_info{
            make_error_code(errc::invalid_argument),
            fmt::format("cannot open output file '{}': {}", options_.spill_file, std::strerror(errno))};
    }
    options.spill_file = std::move(options_.spill_file);
    options_ = std::move(options);
    file_ = fd;  // what comes next goes at file_end_: after the last whole record read back
    closed_ = false;
    saved_ = false;
    next_chunk_capacity_ = first_chunk_capacity;
    return {};
}

void output_log::drop_oldest() {
    auto& c = chunks_.front();
    if (c.data) {
        memory_bytes_ -= c.capacity;
    } else if (file_ >= 0 && c.file_pos >= 0) {
        ::fallocate(
            file_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, c.file_pos, static_cast<off_t>(c.used));
    }
    dropped_ += c.bytes;
    chunks_.pop_front();
}

net::awaitable<void> output_log::wait_writable() {
    for (;;) {
        const bool held = file_ < 0 && memory_bytes_ > options_.memory_limit && chunks_.size() > 1 &&
                          chunks_.front().start + chunks_.front().bytes > min_hold();
        // The spill file takes the output slower than the job makes it: the job waits, as it would
        // for a full pipe, rather than memory growing without end.
        const bool disk_behind = writes_in_flight_ > 0 && memory_bytes_ > 2 * options_.memory_limit;
        if (!held && !disk_behind) {
            co_return;
        }
        co_await signal(space_signal_).async_wait(use_nothrow);
    }
}

void output_log::close() {
    if (closed_) {
        // Once only: a reopened log is closed already, and opening its file for a save again would
        // truncate it (O_TRUNC) and lose a restored job's output.
        return;
    }
    closed_ = true;
    if (!options_.spill_file.empty() && end_ > dropped_ && open_spill()) {
        save_to_file();
    }
    trim_last_chunk();
    wake(data_signal_);
    wake(space_signal_);
}

net::awaitable<void> output_log::close_async() {
    // The chunks being written first: once this returns, the file holds all of the output (the
    // job's end is recorded next, and a restart reads the file).
    while (writes_in_flight_ > 0) {
        co_await signal(space_signal_).async_wait(use_nothrow);
    }
    std::size_t unsaved = 0;
    for (const auto& c : chunks_) {
        unsaved += c.data && c.file_pos < 0 ? c.used : 0;
    }
    if (closed_) {
        co_return;
    }
    if (!files_ || options_.spill_file.empty() || end_ <= dropped_ || unsaved <= inline_save_bytes) {
        close();
        co_return;
    }
    closed_ = true;
    wake(data_signal_);  // followers read the rest from memory meanwhile, and see the end
    saving_ = true;
    struct piece {
        const char* data;
        std::size_t size;
    };
    std::vector<piece> pieces;
    for (const auto& c : chunks_) {
        if (c.data && c.file_pos < 0 && c.used > 0) {
            pieces.push_back({c.data.get(), c.used});
        }
    }
    struct outcome {
        int fd = -1;
        std::string error;
    };
    // The file is opened there too: on a slow or remote disk even open(O_CREAT) can take a while.
    // Named first: g++ 12 miscompiles temporaries (this closure) inside a co_await expression.
    auto save = [fd = file_, path = options_.spill_file, pos = file_end_, pieces = std::move(pieces)]() mutable {
        outcome o{fd};
        if (o.fd < 0) {
            o.fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (o.fd < 0) {
                o.error = fmt::format("cannot create output file '{}': {}", path, std::strerror(errno));
                return o;
            }
        }
        for (const auto& p : pieces) {
            if (::pwrite(o.fd, p.data, p.size, static_cast<off_t>(pos)) != static_cast<ssize_t>(p.size)) {
                o.error = fmt::format("cannot write output file '{}': {}", path, std::strerror(errno));
                return o;
            }
            pos += p.size;
        }
        return o;
    };
    auto done = co_await run_blocking(files_, std::move(save));
    saving_ = false;
    if (!done.error.empty()) {
        spdlog::error("{}: the output stays in memory", done.error);
        if (file_ < 0 && done.fd >= 0) {
            ::close(done.fd);  // opened for the save; what spilled before stays readable through file_
        }
    } else {
        for (auto& c : chunks_) {
            if (c.data) {
                if (c.file_pos < 0 && c.used > 0) {
                    c.file_pos = static_cast<std::int64_t>(file_end_);
                    file_end_ += c.used;
                }
                memory_bytes_ -= c.capacity;
                c.data.reset();
            }
        }
        saved_ = true;
        ::close(done.fd);  // a saved log opens its file per read, not one descriptor per finished job
        file_ = -1;
    }
    trim_last_chunk();
    wake(space_signal_);
}

void output_log::trim_last_chunk() {
    // A finished job keeps only what it printed: the last chunk's unused room is given back (all of
    // it when the job printed nothing), so thousands of kept jobs cost their output, not their chunks.
    if (!saved_ && !chunks_.empty() && chunks_.back().data && chunks_.back().capacity > chunks_.back().used) {
        auto& c = chunks_.back();
        if (c.used == 0) {
            memory_bytes_ -= c.capacity;
            chunks_.pop_back();
        } else {
            std::unique_ptr<char[]> exact(new char[c.used]);
            std::memcpy(exact.get(), c.data.get(), c.used);
            memory_bytes_ -= c.capacity - c.used;
            c.data = std::move(exact);
            c.capacity = c.used;
        }
    }
}

void output_log::save_to_file() {
    // The whole output goes to the named file, and memory keeps none of it: the file is what outlives
    // the daemon, and thousands of finished jobs then cost no memory for their output.
    bool ok = true;
    for (auto& c : chunks_) {
        if (c.data && c.file_pos < 0 && c.used > 0) {
            if (::pwrite(file_, c.data.get(), c.used, static_cast<off_t>(file_end_)) !=
                static_cast<ssize_t>(c.used)) {
                spdlog::error("cannot write output file '{}': {}", options_.spill_file, std::strerror(errno));
                ok = false;
                break;
            }
            c.file_pos = static_cast<std::int64_t>(file_end_);
            file_end_ += c.used;
        }
    }
    if (!ok) {
        return;  // memory keeps what the file could not take
    }
    for (auto& c : chunks_) {
        if (c.data && !c.writing) {  // one being written keeps its memory until it is done: reads use it
            memory_bytes_ -= c.capacity;
            c.data.reset();
        }
    }
    ::close(file_);
    file_ = -1;
    saved_ = true;
}

std::uint64_t output_log::first_file_pos() const {
    return chunks_.empty() || chunks_.front().file_pos < 0
               ? file_end_
               : static_cast<std::uint64_t>(chunks_.front().file_pos);
}

read_result output_log::read(std::uint64_t from, std::size_t max_bytes, read_shape shape) const {
    read_result r;
    const std::uint64_t first = first_offset();
    if (from < first) {
        r.lost = first - from;
        from = first;
    }
    r.next = std::min(from, end_);
    if (from >= end_) {
        return r;
    }
    auto it = std::upper_bound(
        chunks_.begin(), chunks_.end(), from, [](std::uint64_t v, const chunk& c) { return v < c.start; });
    --it;
    // A saved log's chunks are all on file; its descriptor was closed with the log, so open it for
    // this read (one open per read, not one descriptor per finished job).
    int fd = file_;
    if (fd < 0 && saved_) {
        fd = ::open(options_.spill_file.c_str(), O_RDONLY | O_CLOEXEC);
    }
    for (std::size_t budget = max_bytes; it != chunks_.end() && budget > 0; ++it) {
        if (!read_chunk(*it, fd, budget, r, shape)) {
            if (!r.records.empty()) {
                break;  // this read ends before the unreadable chunk; the next one reports it lost
            }
            // Unreadable (the file was cut short, or an I/O error): its bytes are lost, and say so.
            const auto chunk_end = std::next(it) != chunks_.end() ? std::next(it)->start : end_;
            r.lost += chunk_end - r.next;
            r.next = chunk_end;
        }
    }
    if (fd >= 0 && fd != file_) {
        ::close(fd);
    }
    return r;
}

bool output_log::read_chunk(const chunk& c, int fd, std::size_t& budget, read_result& out, read_shape shape) const {
    std::unique_ptr<char[]> loaded;
    const char* data = c.data.get();
    if (data == nullptr) {
        loaded.reset(new char[c.used]);
        if (fd < 0 || ::pread(fd, loaded.get(), c.used, c.file_pos) != static_cast<ssize_t>(c.used)) {
            return false;
        }
        data = loaded.get();
    }
    parse_chunk(c.start, c.used, data, budget, out, shape, static_cast<std::size_t>(end_ - out.next));
    return true;
}

void output_log::parse_chunk(std::uint64_t start,
                             std::size_t used,
                             const char* data,
                             std::size_t& budget,
                             read_result& out,
                             read_shape shape,
                             std::size_t expect) {
    const bool one_stream = shape != read_shape::records;
    std::uint64_t offset = start;
    for (std::size_t pos = 0; pos < used && budget > 0;) {
        packed_header h;
        std::memcpy(&h, data + pos, sizeof h);
        const std::uint64_t rec_end = offset + h.length;
        if (rec_end > out.next) {
            const std::uint64_t from = std::max(out.next, offset);
            const std::size_t take = std::min<std::uint64_t>(rec_end - from, budget);
            const char* p = data + pos + header_size + (from - offset);
            const auto source = static_cast<stream>(h.source);
            if (one_stream && !out.records.empty()) {
                if (out.records.front().source != source) {
                    budget = 0;  // the other stream begins: the page ends here (at out.next)
                    return;
                }
                out.records.front().bytes.append(p, take);
            } else {
                out.records.push_back({from, source, h.time_ns, std::string()});
                auto& bytes = out.records.back().bytes;
                if (one_stream) {
                    bytes.reserve(std::min(budget, expect));  // the page's bytes all go here
                }
                bytes.append(p, take);
            }
            out.next = from + take;
            budget -= take;
        }
        offset = rec_end;
        pos += header_size + h.length;
    }
}

net::awaitable<read_result> output_log::read_async(std::uint64_t from, std::size_t max_bytes) const {
    co_return co_await read_async(from, max_bytes, read_shape::records);
}

net::awaitable<read_result> output_log::read_async(std::uint64_t from, std::size_t max_bytes, read_shape shape) const {
    const std::uint64_t start = std::max(from, first_offset());
    if (!files_ || start >= end_) {
        co_return read(from, max_bytes, shape);
    }
    auto it = std::upper_bound(
        chunks_.begin(), chunks_.end(), start, [](std::uint64_t v, const chunk& c) { return v < c.start; });
    --it;
    if (it->data) {
        co_return read(from, max_bytes, shape);  // spilling goes oldest first: the rest is in memory too
    }
    // The chunks on file that this read needs: read there, parsed here.
    std::vector<chunk_on_file> wants;
    for (std::uint64_t planned = 0; it != chunks_.end() && !it->data && planned < max_bytes; ++it) {
        wants.push_back({it->start, it->bytes, it->file_pos, it->used});
        planned += it->start + it->bytes - std::max(start, it->start);
    }
    // A saved log's file is opened there; a spilling one's descriptor is shared (a dup: the log may
    // close its own meanwhile).
    const int fd = file_ >= 0 ? ::fcntl(file_, F_DUPFD_CLOEXEC, 0) : -1;
    std::string path = fd < 0 && saved_ ? options_.spill_file : std::string();
    if (!alive_) {
        alive_ = std::make_shared<char>();
    }
    const std::weak_ptr<char> alive = alive_;
    // Extents of the file stay true only while nothing is punched out of it: not with a cap that
    // drops the oldest output.
    const bool extents = shape == read_shape::one_stream_on_file &&
                         (options_.cap == 0 || options_.policy != cap_policy::keep_newest);
    struct loads {
        std::vector<std::unique_ptr<char[]>> chunks;
        std::optional<on_file_page> page;
        std::uint64_t page_end = 0;
    };
    auto load = [fd, path = std::move(path), wants, extents, start, max_bytes]() {
        loads out;
        const int f = fd >= 0 ? fd : path.empty() ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (f >= 0 && extents) {
            if (auto page = find_extents(f, wants, start, max_bytes, out.page_end)) {
                page->file = shared_fd(f);
                out.page = std::move(page);
                return out;
            }
        }
        for (const auto& w : wants) {
            std::unique_ptr<char[]> bytes(new char[w.used]);
            if (f < 0 || ::pread(f, bytes.get(), w.used, w.file_pos) != static_cast<ssize_t>(w.used)) {
                bytes.reset();  // unreadable (cut short, or an I/O error): lost, and said so
            }
            out.chunks.push_back(std::move(bytes));
        }
        if (f >= 0) {
            ::close(f);
        }
        return out;
    };
    auto got = co_await run_blocking(files_, std::move(load));  // named first (g++ 12; see above)
    auto& loaded = got.chunks;
    read_result r;
    r.next = from;
    if (alive.expired()) {
        co_return r;  // the log is gone (its job was evicted): nothing to parse against
    }
    // Back on the log's thread: output dropped meanwhile is lost (its chunk may read as a punched hole).
    if (const auto first = first_offset(); from < first) {
        r.lost = first - from;
    }
    r.next = std::min(std::max(from, first_offset()), end_);
    if (got.page) {
        r.next = got.page_end;
        r.on_file = std::move(got.page);
        co_return r;
    }
    std::size_t budget = max_bytes;
    for (std::size_t i = 0; i < wants.size() && budget > 0; ++i) {
        const auto& w = wants[i];
        const std::uint64_t w_end = w.start + w.bytes;
        if (w_end <= r.next) {
            continue;
        }
        if (!loaded[i]) {
            if (!r.records.empty()) {
                break;  // this read ends before the unreadable chunk; the next one reports it lost
            }
            r.lost += w_end - r.next;
            r.next = w_end;
            continue;
        }
        parse_chunk(w.start, w.used, loaded[i].get(), budget, r, shape, static_cast<std::size_t>(end_ - r.next));
    }
    co_return r;
}

net::awaitable<void> output_log::wait_for(std::uint64_t offset) {
    while (end_ <= offset && !closed_) {
        auto [ec] = co_await signal(data_signal_).async_wait(use_nothrow);
        if (ec && ec != net::error::operation_aborted) {
            co_return;
        }
        // operation_aborted is the wake-up from commit()/close(), or our own cancellation.
        auto state = co_await net::this_coro::cancellation_state;
        if (state.cancelled() != net::cancellation_type::none) {
            co_return;
        }
    }
}

output_log::hold_id output_log::add_hold(std::uint64_t offset) {
    holds_[next_hold_] = offset;
    return next_hold_++;
}

void output_log::move_hold(hold_id id, std::uint64_t offset) {
    holds_[id] = offset;
    enforce_limits();
    wake(space_signal_);
}

void output_log::remove_hold(hold_id id) {
    holds_.erase(id);
    enforce_limits();
    wake(space_signal_);
}

}  // namespace corral::output
