// output_log's file work off the core's thread: spilling writes behind on the file executor,
// close_async() saves there and read_async() reads there, while the log's own thread goes on
// serving readers and writers.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "corral/output/output_log.hpp"
#include "helpers/test_support.hpp"

namespace corral::output {
namespace {

using test::run_coro;

// A one-thread pool that stays busy until release(): whatever is queued behind the gate waits,
// so a test can act on the log's thread while a file operation is known to be pending.
class gated_pool {
  public:
    gated_pool() { close(); }
    ~gated_pool() {
        release();
        pool_.join();
    }
    net::any_io_executor executor() { return pool_.get_executor(); }
    void release() {
        if (!released_) {
            released_ = true;
            open_.set_value();
        }
    }
    /// Closes the gate again, after what was queued so far.
    void close() {
        released_ = false;
        open_ = std::promise<void>();
        net::post(pool_, [f = open_.get_future().share()] { f.wait(); });
    }

  private:
    net::thread_pool pool_{1};
    std::promise<void> open_;
    bool released_ = false;
};

std::unique_ptr<output_log> make_log(net::io_context& ioc, log_options o, net::any_io_executor files) {
    auto log = output_log::create(ioc.get_executor(), std::move(o));
    if (!log) {
        throw std::runtime_error(log.error().what());
    }
    (*log)->set_file_executor(std::move(files));
    return std::move(*log);
}

std::string concat(const read_result& r) {
    std::string s;
    for (const auto& rec : r.records) {
        s += rec.bytes;
    }
    return s;
}

// Everything readable from `from` on, through read_async() (which may return short reads).
net::awaitable<std::string> read_all_async(const output_log& log, std::uint64_t from = 0) {
    std::string all;
    for (;;) {
        auto r = co_await log.read_async(from, 1 << 16);
        all += concat(r);
        if (r.next == from) {
            co_return all;
        }
        from = r.next;
    }
}

// For co_spawn: a coroutine's exception fails the test loudly instead of vanishing.
void rethrow(std::exception_ptr e) {
    if (e) {
        std::rethrow_exception(e);
    }
}

// Runs the io_context until `done` (the file thread's answer came back), for at most 30 s.
void run_until(net::io_context& ioc, const auto& done) {
    ioc.restart();
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
         !done && std::chrono::steady_clock::now() < until;) {
        ioc.run_for(std::chrono::milliseconds(10));
    }
}

// Lets the writes behind that the gate held run, until the log's memory is back within `limit`.
void let_writes_finish(net::io_context& ioc, gated_pool& files, const output_log& log, std::size_t limit) {
    files.release();
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
         log.memory_bytes() > limit && std::chrono::steady_clock::now() < until;) {
        ioc.restart();  // it ran out of work: what comes back is posted from the file thread
        ioc.run_for(std::chrono::milliseconds(5));
    }
    ioc.restart();  // ready for the test's own poll()
    ASSERT_LE(log.memory_bytes(), limit) << "the writes behind did not finish within 30 s";
}

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
    }
    return s;
}

TEST(OutputLogFiles, CloseAsyncSavesOnTheFileThreadWhileReadersReadFromMemory) {
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;
    auto log = make_log(ioc, {.spill_file = dir.file("job.out")}, files.executor());
    const auto text = pattern(3 * output_log::inline_save_bytes);
    log->append(stream::out, text);
    bool closed = false;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            co_await log->close_async();
            closed = true;
        },
        rethrow);
    ioc.poll();  // runs it up to its wait for the file thread
    // The save waits behind the gate: the log is closed to writers, not yet saved, and readable.
    ASSERT_FALSE(closed);
    EXPECT_TRUE(log->closed());
    EXPECT_FALSE(log->saved());
    EXPECT_FALSE(std::filesystem::exists(dir.file("job.out"))) << "the file is made on the file thread";
    std::string seen;
    for (auto r = log->read(0, 1 << 16); !r.records.empty(); r = log->read(r.next, 1 << 16)) {
        seen += concat(r);
    }
    EXPECT_EQ(seen, text);
    // A hold let go meanwhile must not spill or drop the chunks the file thread is writing.
    log->remove_hold(log->add_hold(0));
    EXPECT_GT(log->memory_bytes(), 0u);

    files.release();
    run_until(ioc, closed);
    ASSERT_TRUE(closed) << "close_async() did not finish within 30 s";
    EXPECT_TRUE(log->saved());
    EXPECT_EQ(log->memory_bytes(), 0u) << "the saved output is released";
    EXPECT_GT(std::filesystem::file_size(dir.file("job.out")), text.size());
    EXPECT_EQ(run_coro(ioc, read_all_async(*log)), text);
}

TEST(OutputLogFiles, ASmallTailIsSavedInline) {
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;  // never released before the check: an inline save cannot wait for it
    auto log = make_log(ioc, {.spill_file = dir.file("job.out")}, files.executor());
    log->append(stream::out, "little");
    run_coro(ioc, log->close_async());
    EXPECT_TRUE(log->saved());
    EXPECT_EQ(std::filesystem::file_size(dir.file("job.out")), output_log::header_size + 6);
}

TEST(OutputLogFiles, AFailedSaveKeepsTheOutputInMemory) {
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;
    files.release();
    auto log = make_log(ioc, {.spill_file = dir.file("missing/dir/job.out")}, files.executor());
    const auto text = pattern(2 * output_log::inline_save_bytes);
    log->append(stream::err, text);
    run_coro(ioc, log->close_async());
    EXPECT_TRUE(log->closed());
    EXPECT_FALSE(log->saved());
    EXPECT_EQ(run_coro(ioc, read_all_async(*log)), text);
}

TEST(OutputLogFiles, ReadAsyncOfASavedLogMatchesRead) {
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;
    files.release();
    auto log = make_log(ioc, {.spill_file = dir.file("job.out")}, files.executor());
    std::string text;
    for (int i = 0; i < 40; ++i) {
        const auto piece = pattern(10'000 + i);
        log->append(i % 2 ? stream::err : stream::out, piece);
        text += piece;
    }
    run_coro(ioc, log->close_async());
    ASSERT_TRUE(log->saved());
    EXPECT_EQ(run_coro(ioc, read_all_async(*log)), text);
    EXPECT_EQ(run_coro(ioc, read_all_async(*log, 123'457)), text.substr(123'457));
    // Streams and offsets as read() has them.
    auto a = log->read(50'000, 30'000);
    auto b = run_coro(ioc, log->read_async(50'000, 30'000));
    ASSERT_EQ(a.records.size(), b.records.size());
    for (std::size_t i = 0; i < a.records.size(); ++i) {
        EXPECT_EQ(a.records[i].offset, b.records[i].offset);
        EXPECT_EQ(a.records[i].source, b.records[i].source);
        EXPECT_EQ(a.records[i].bytes, b.records[i].bytes);
    }
    EXPECT_EQ(a.next, b.next);
}

TEST(OutputLogFiles, OutputDroppedWhileTheFileIsReadIsReportedLost) {
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;
    auto log = make_log(ioc,
                        {.memory_limit = 512 * 1024,
                         .spill_dir = dir.path().string(),
                         .cap = 2 << 20,
                         .policy = cap_policy::keep_newest},
                        files.executor());
    const std::string block(100'000, 'q');
    for (int i = 0; i < 15; ++i) {
        log->append(stream::out, block);
    }
    let_writes_finish(ioc, files, *log, 512 * 1024);  // the oldest chunks are on file now
    files.close();
    ASSERT_EQ(log->first_offset(), 0u);
    std::optional<read_result> got;
    net::co_spawn(
        ioc, [&]() -> net::awaitable<void> { got = co_await log->read_async(0, 1 << 20); }, rethrow);
    ioc.poll();
    ASSERT_FALSE(got) << "the read waits behind the gate";
    // Meanwhile the cap drops the chunks the read is after (their file range is punched out).
    for (int i = 0; i < 30; ++i) {
        log->append(stream::out, block);
    }
    const auto first = log->first_offset();
    ASSERT_GT(first, 0u);
    files.release();
    run_until(ioc, got);
    ASSERT_TRUE(got) << "read_async() did not finish within 30 s";
    EXPECT_GE(got->lost, first) << "dropped output is lost, not read as zeros";
    for (const auto& rec : got->records) {
        EXPECT_GE(rec.offset, first);
        EXPECT_EQ(rec.bytes, std::string(rec.bytes.size(), 'q'));
    }
}

TEST(OutputLogFiles, ALogDestroyedDuringAReadGivesAnEmptyResult) {
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;
    auto log = make_log(ioc, {.memory_limit = 256 * 1024, .spill_dir = dir.path().string()}, files.executor());
    for (int i = 0; i < 10; ++i) {
        log->append(stream::out, std::string(100'000, 'r'));
    }
    let_writes_finish(ioc, files, *log, 256 * 1024);
    files.close();
    std::optional<read_result> got;
    net::co_spawn(
        ioc, [&]() -> net::awaitable<void> { got = co_await log->read_async(0); }, rethrow);
    ioc.poll();
    ASSERT_FALSE(got);
    log.reset();  // its job was evicted while the file was read
    files.release();
    run_until(ioc, got);
    ASSERT_TRUE(got);
    EXPECT_TRUE(got->records.empty());
    EXPECT_EQ(got->next, 0u);
}

TEST(OutputLogFiles, SpillingWritesBehindAndReadersReadTheChunkFromMemoryMeanwhile) {
    // The core's thread does not wait on the disk: a chunk to spill is written on the file
    // executor, and until that write is done the chunk stays in memory, where reads find it.
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;
    constexpr std::size_t limit = 256 * 1024;
    auto log = make_log(ioc, {.memory_limit = limit, .spill_file = dir.file("job.out")}, files.executor());
    const auto text = pattern(4 * limit);
    log->append(stream::out, text.substr(0, 2 * limit));
    EXPECT_GT(log->memory_bytes(), limit) << "the writes wait behind the gate, and memory keeps their chunks";
    EXPECT_EQ(concat(log->read(0, 4 * limit)), text.substr(0, 2 * limit));
    // More than twice the limit in memory: the writer waits for the disk, as for a full pipe.
    log->append(stream::out, text.substr(2 * limit));
    bool writable = false;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            co_await log->wait_writable();
            writable = true;
        },
        rethrow);
    ioc.poll();
    EXPECT_FALSE(writable) << log->memory_bytes() << " bytes in memory";
    let_writes_finish(ioc, files, *log, 2 * limit);
    run_until(ioc, writable);
    EXPECT_TRUE(writable);
    EXPECT_EQ(run_coro(ioc, read_all_async(*log)), text);
    // Closing waits for the writes still going, then saves the rest: the file holds it all.
    bool closed = false;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            co_await log->close_async();
            closed = true;
        },
        rethrow);
    run_until(ioc, closed);
    ASSERT_TRUE(closed);
    EXPECT_TRUE(log->saved());
    EXPECT_EQ(log->memory_bytes(), 0u);
    auto again = output_log::reopen(ioc.get_executor(), dir.file("job.out"), 0, 0);
    ASSERT_TRUE(again) << again.error().what();
    EXPECT_EQ(concat((*again)->read(0, 8 * limit)), text);
}

// What a restart reads back of a log that was never closed (corrald died while its job ran).
std::string read_back(net::io_context& ioc, const std::string& file) {
    auto log = output_log::reopen(ioc.get_executor(), file, 0, 0);
    if (!log) {
        return "<" + log.error().what() + ">";
    }
    return concat((*log)->read(0, 1 << 20));
}

TEST(OutputLogFiles, AFlushPutsTheOutputOnFileAndKeepsItInMemoryAndALogReadBackGoesOnAfterIt) {
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;
    const auto file = dir.file("job.out");
    auto log = make_log(ioc, {.spill_file = file}, files.executor());
    log->append(stream::out, "first\n");
    log->append(stream::err, "warning\n");
    log->flush();
    EXPECT_EQ(concat(log->read(0)), "first\nwarning\n") << "readable from memory while it is written";
    files.release();
    for (int i = 0; i < 3000 && read_back(ioc, file) != "first\nwarning\n"; ++i) {
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(read_back(ioc, file), "first\nwarning\n") << "on file, the log still open (corrald dies now)";
    EXPECT_EQ(log->memory_bytes(), 14 + 2 * output_log::header_size) << "memory keeps it (sealed to size)";
    // The flushed chunk is sealed: what comes next goes after it, in memory and then on file.
    log->append(stream::out, "second\n");
    log->flush();
    for (int i = 0; i < 3000 && read_back(ioc, file) != "first\nwarning\nsecond\n"; ++i) {
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(read_back(ioc, file), "first\nwarning\nsecond\n");
    log->flush();  // nothing new: nothing written
    EXPECT_EQ(concat(log->read(0)), "first\nwarning\nsecond\n");
    log.reset();  // corrald is gone; a new one reads the file back and its job runs again
    auto again = output_log::reopen(ioc.get_executor(), file, 0, 0);
    ASSERT_TRUE(again) << again.error().what();
    auto& resumed = **again;
    resumed.set_file_executor(files.executor());
    ASSERT_TRUE(resumed.continue_writing({.memory_limit = 1 << 20}));
    EXPECT_FALSE(resumed.closed());
    EXPECT_EQ(resumed.end_offset(), 21u);
    resumed.append(stream::out, "after\n");
    auto records = resumed.read(0).records;
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(records[1].source, stream::err);
    EXPECT_EQ(records[3].offset, 21u);
    bool closed = false;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            co_await resumed.close_async();
            closed = true;
        },
        rethrow);
    run_until(ioc, closed);
    EXPECT_TRUE(resumed.saved());
    EXPECT_EQ(read_back(ioc, file), "first\nwarning\nsecond\nafter\n");
}

// A cap that keeps the newest output punches the oldest chunks out of the file, possibly after the
// job's row last said where its first record was. Read back from there, the log goes on at the
// first record kept (the dropped bytes counted with their headers), and what comes next goes after it.
TEST(OutputLogFiles, ALogReadBackPastAPunchedOutStartGoesOnAtTheFirstRecordKept) {
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;
    files.release();
    const auto file = dir.file("job.out");
    auto log = make_log(ioc, {.spill_file = file}, files.executor());
    const std::string dropped(100000, 'a'), kept(100000, 'b');
    log->append(stream::out, dropped);
    log->append(stream::err, kept);
    log->append(stream::out, "tail\n");
    bool closed = false;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            co_await log->close_async();
            closed = true;
        },
        rethrow);
    run_until(ioc, closed);
    log.reset();
    // Chunks hold whole records (an append may make several); drop the chunks holding the 'a's, as
    // drop_oldest() does: the file's first records, up to the first of stderr.
    const int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    off_t cut = 0;
    for (;;) {
        struct {
            std::int64_t time_ns;
            std::uint32_t length;
            std::uint8_t source;
            std::uint8_t pad[3];
        } header{};
        static_assert(sizeof header == output_log::header_size);
        ASSERT_EQ(::pread(fd, &header, sizeof header, cut), static_cast<ssize_t>(sizeof header));
        if (header.source != static_cast<std::uint8_t>(stream::out)) {
            break;
        }
        cut += static_cast<off_t>(sizeof header + header.length);
    }
    ASSERT_EQ(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, cut), 0) << std::strerror(errno);
    ::close(fd);
    auto again = output_log::reopen(ioc.get_executor(), file, 0, 0);  // the row as of the job's start
    ASSERT_TRUE(again) << again.error().what();
    auto& resumed = **again;
    const auto first_kept = static_cast<std::uint64_t>(cut);  // the 'a's and their headers
    EXPECT_GE(first_kept, dropped.size() + output_log::header_size);
    EXPECT_EQ(resumed.end_offset(), first_kept + kept.size() + 5);
    auto back = resumed.read(0, 1 << 20);
    EXPECT_EQ(back.lost, first_kept);
    ASSERT_FALSE(back.records.empty());
    EXPECT_EQ(back.records[0].source, stream::err);
    EXPECT_EQ(back.records[0].offset, first_kept);
    EXPECT_EQ(concat(back), kept + "tail\n");
    resumed.set_file_executor(files.executor());
    ASSERT_TRUE(resumed.continue_writing({.memory_limit = 1 << 20}));
    resumed.append(stream::out, "next attempt\n");
    closed = false;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            co_await resumed.close_async();
            closed = true;
        },
        rethrow);
    run_until(ioc, closed);
    EXPECT_EQ(read_back(ioc, file), kept + "tail\nnext attempt\n") << "nothing kept was written over";
}

TEST(OutputLogFiles, AFlushWithoutAFileThreadWritesInlineAndWithoutANamedFileDoesNothing) {
    net::io_context ioc;
    test::temp_dir dir;
    auto inline_log = output_log::create(ioc.get_executor(), {.spill_file = dir.file("a.out")});
    (*inline_log)->append(stream::out, "now\n");
    (*inline_log)->flush();
    EXPECT_EQ(read_back(ioc, dir.file("a.out")), "now\n");
    EXPECT_FALSE((*inline_log)->continue_writing({})) << "it is still open";
    auto anonymous = output_log::create(ioc.get_executor(), {.spill_dir = dir.path()});
    (*anonymous)->append(stream::out, "kept in memory\n");
    (*anonymous)->flush();
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1) << "only a.out";
    EXPECT_FALSE((*anonymous)->continue_writing({}));
}

TEST(OutputLogFiles, ALogDestroyedWhileItsChunksAreWrittenLeavesTheWritesHarmless) {
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;
    auto log = make_log(ioc, {.memory_limit = 64 * 1024, .spill_file = dir.file("job.out")}, files.executor());
    log->append(stream::out, pattern(1 << 20));
    log.reset();  // its job was evicted; the writes still hold their chunks
    files.release();
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(100));  // their completions find no log, and do nothing
    EXPECT_TRUE(std::filesystem::exists(dir.file("job.out")));
}

// The bytes of a page that read_async() left on file, read from its extents.
std::string bytes_of(const on_file_page& page) {
    std::string out;
    for (const auto& e : page.extents) {
        std::string piece(e.length, '\0');
        EXPECT_EQ(::pread(page.file.get(), piece.data(), piece.size(), static_cast<off_t>(e.pos)),
                  static_cast<ssize_t>(piece.size()));
        out += piece;
    }
    return out;
}

TEST(OutputLogFiles, APageOfLargeRecordsOnFileComesAsExtentsOfTheFileForTheReaderToSend) {
    // What `corral run` reads when it is behind: corrald sends such a page with sendfile(2), so the
    // extents must say exactly which bytes of the file are the page's, one stream at a time.
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;
    files.release();
    constexpr std::size_t limit = 256 * 1024;
    auto log = make_log(ioc, {.memory_limit = limit, .spill_file = dir.file("job.out")}, files.executor());
    std::string all;
    std::string out;
    std::string err;
    auto add = [&](stream s, std::string bytes) {
        std::rotate(
            bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(all.size() % 1000), bytes.end());
        log->append(s, bytes);
        all += bytes;
        (s == stream::out ? out : err) += bytes;
    };
    for (int i = 0; i < 6; ++i) {
        add(stream::out, pattern(100'000 + i));
    }
    add(stream::err, pattern(50'000));
    for (int i = 0; i < 6; ++i) {
        add(stream::out, pattern(90'000 + i));
    }
    let_writes_finish(ioc, files, *log, limit);

    // Pages from the start, as the client reads them: each of one stream, on file while it is there.
    std::string got_out;
    std::string got_err;
    std::string in_order;
    int on_file = 0;
    std::optional<std::uint64_t> first_on_file;
    for (std::uint64_t from = 0; from < log->end_offset();) {
        auto r = run_coro(ioc, log->read_async(from, 150'000, read_shape::one_stream_on_file));
        ASSERT_GT(r.next, from) << "no progress at " << from;
        std::string bytes;
        stream source = stream::out;
        if (r.on_file) {
            ++on_file;
            first_on_file = first_on_file.value_or(from);
            EXPECT_TRUE(r.records.empty());
            bytes = bytes_of(*r.on_file);
            source = r.on_file->source;
        } else {
            ASSERT_EQ(r.records.size(), 1u) << "one stream a page";
            bytes = r.records[0].bytes;
            source = r.records[0].source;
        }
        EXPECT_EQ(bytes.size(), r.next - from);
        EXPECT_LE(bytes.size(), 150'000u) << "within max_bytes";
        (source == stream::out ? got_out : got_err) += bytes;
        in_order += bytes;
        from = r.next;
    }
    EXPECT_GE(on_file, 3) << "the pages behind memory were not sent from the file";
    EXPECT_EQ(in_order, all);
    EXPECT_EQ(got_out, out);
    EXPECT_EQ(got_err, err);

    // From the middle of a record: the extent starts there.
    ASSERT_TRUE(first_on_file);
    const auto inside = *first_on_file + 1234;
    auto mid = run_coro(ioc, log->read_async(inside, 10'000, read_shape::one_stream_on_file));
    ASSERT_TRUE(mid.on_file);
    EXPECT_EQ(bytes_of(*mid.on_file), all.substr(inside, 10'000));
    EXPECT_EQ(mid.next, inside + 10'000);
    // The file stays readable through the page's own descriptor after the log is gone (its job evicted).
    log.reset();
    EXPECT_EQ(bytes_of(*mid.on_file), all.substr(inside, 10'000));
}

TEST(OutputLogFiles, SmallRecordsAndACapThatPunchesTheFileAreReadIntoMemoryInstead) {
    net::io_context ioc;
    test::temp_dir dir;
    gated_pool files;
    files.release();
    constexpr std::size_t limit = 256 * 1024;
    // Lines: a header read per record would cost more than copying them.
    auto lines = make_log(ioc, {.memory_limit = limit, .spill_dir = dir.path().string()}, files.executor());
    std::string text;
    for (int i = 0; i < 2000; ++i) {
        const auto line = fmt::format("line {}\n", i) + std::string(500, '-');
        lines->append(stream::out, line);
        text += line;
    }
    let_writes_finish(ioc, files, *lines, limit);
    auto r = run_coro(ioc, lines->read_async(1000, 100'000, read_shape::one_stream_on_file));
    EXPECT_FALSE(r.on_file);
    ASSERT_EQ(r.records.size(), 1u);
    EXPECT_EQ(r.records[0].bytes, text.substr(1000, 100'000));
    // A cap that keeps the newest output punches the oldest out of the file: extents could go stale.
    auto capped = make_log(ioc,
                           {.memory_limit = limit,
                            .spill_dir = dir.path().string(),
                            .cap = 64 << 20,
                            .policy = cap_policy::keep_newest},
                           files.executor());
    for (int i = 0; i < 10; ++i) {
        capped->append(stream::out, pattern(100'000));
    }
    let_writes_finish(ioc, files, *capped, limit);
    r = run_coro(ioc, capped->read_async(0, 100'000, read_shape::one_stream_on_file));
    EXPECT_FALSE(r.on_file);
    ASSERT_EQ(r.records.size(), 1u);
    EXPECT_EQ(r.records[0].bytes, pattern(100'000));
}

}  // namespace
}  // namespace corral::output
