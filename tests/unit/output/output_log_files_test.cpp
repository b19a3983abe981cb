// output_log's file work off the core's thread: close_async() saves on the file executor and
// read_async() reads there, while the log's own thread goes on serving readers and writers.
#include <filesystem>
#include <future>

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
    gated_pool() {
        net::post(pool_, [f = open_.get_future().share()] { f.wait(); });
    }
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

}  // namespace
}  // namespace corral::output
