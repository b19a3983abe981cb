#include "corral/output/output_log.hpp"

#include <filesystem>
#include <iterator>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>

#include "helpers/test_support.hpp"

namespace corral::output {
namespace {

using test::run_coro;

std::unique_ptr<output_log> make_log(net::io_context& ioc, log_options o = {}) {
    auto log = output_log::create(ioc.get_executor(), o);
    if (!log) {
        throw std::runtime_error(log.error().what());
    }
    return std::move(*log);
}

std::string concat(const read_result& r) {
    std::string s;
    for (const auto& rec : r.records) {
        s += rec.bytes;
    }
    return s;
}

std::string read_everything(const output_log& log, std::uint64_t from = 0) {
    std::string all;
    for (auto r = log.read(from, 1 << 16); !r.records.empty(); r = log.read(r.next, 1 << 16)) {
        all += concat(r);
    }
    return all;
}

// Reads the log from the start until it is closed and fully read, handing each read to `on_read`.
template <class OnRead>
net::awaitable<void> follow(output_log& log, OnRead on_read) {
    std::uint64_t cursor = 0;
    while (!(log.closed() && cursor == log.end_offset())) {
        co_await log.wait_for(cursor);
        auto r = log.read(cursor);
        cursor = r.next;
        co_await on_read(r);
    }
}

TEST(OutputLog, RecordsKeepOffsetsStreamsAndTimes) {
    net::io_context ioc;
    auto log = make_log(ioc);
    log->append(stream::out, "hello ");
    log->append(stream::err, "oops\n");
    log->append(stream::out, "world\n");
    auto r = log->read(0);
    ASSERT_EQ(r.records.size(), 3u);
    EXPECT_EQ(r.records[0].offset, 0u);
    EXPECT_EQ(r.records[1].offset, 6u);
    EXPECT_EQ(r.records[1].source, stream::err);
    EXPECT_EQ(r.records[2].bytes, "world\n");
    EXPECT_LE(r.records[0].time_ns, r.records[2].time_ns);
    EXPECT_GT(r.records[0].time_ns, 1'600'000'000'000'000'000LL);
    EXPECT_EQ(r.next, 17u);
    EXPECT_EQ(log->end_offset(), 17u);
}

TEST(OutputLog, ReadersHaveIndependentCursorsAndCanStartMidRecord) {
    net::io_context ioc;
    auto log = make_log(ioc);
    log->append(stream::out, "abcdef");
    log->append(stream::out, "ghij");
    auto r = log->read(3, 5);
    EXPECT_EQ(concat(r), "defgh");
    EXPECT_EQ(r.records.front().offset, 3u);
    EXPECT_EQ(r.next, 8u);
    EXPECT_EQ(concat(log->read(r.next)), "ij");
    EXPECT_EQ(concat(log->read(0)), "abcdefghij");
    EXPECT_TRUE(log->read(10).records.empty());
    EXPECT_EQ(log->read(99).next, 10u);
}

TEST(OutputLog, AOneStreamReadJoinsThatStreamsRecordsAndStopsWhereTheOtherBegins) {
    // What a raw page of one stream (`format=raw&split=true`) is read as: one record.
    net::io_context ioc;
    auto log = make_log(ioc);
    log->append(stream::out, "abc");
    log->append(stream::out, "def");
    log->append(stream::err, "oops");
    log->append(stream::out, "ghi");
    auto r = log->read(1, 1 << 20, read_shape::one_stream);
    ASSERT_EQ(r.records.size(), 1u);
    EXPECT_EQ(r.records[0].bytes, "bcdef");
    EXPECT_EQ(r.records[0].offset, 1u);
    EXPECT_EQ(r.records[0].source, stream::out);
    EXPECT_EQ(r.next, 6u) << "the page ends where stderr begins";
    r = log->read(r.next, 1 << 20, read_shape::one_stream);
    ASSERT_EQ(r.records.size(), 1u);
    EXPECT_EQ(r.records[0].bytes, "oops");
    EXPECT_EQ(r.records[0].source, stream::err);
    r = log->read(r.next, 2, read_shape::one_stream);
    ASSERT_EQ(r.records.size(), 1u);
    EXPECT_EQ(r.records[0].bytes, "gh") << "within max_bytes";
    EXPECT_EQ(r.next, 12u);
    // The same over a spill file, through read_async().
    test::temp_dir dir;
    auto big = make_log(ioc, {.memory_limit = 64 * 1024, .spill_dir = dir.path().string()});
    std::string expected;
    for (int i = 0; i < 200; ++i) {
        const std::string line(1000, static_cast<char>('a' + i % 26));
        big->append(stream::out, line);
        expected += line;
    }
    big->append(stream::err, "end");
    auto whole = run_coro(ioc, big->read_async(0, 1 << 20, read_shape::one_stream));
    std::string got;
    while (!whole.records.empty() && whole.records[0].source == stream::out) {
        ASSERT_EQ(whole.records.size(), 1u);
        got += whole.records[0].bytes;
        whole = run_coro(ioc, big->read_async(whole.next, 1 << 20, read_shape::one_stream));
    }
    EXPECT_EQ(got, expected);
    ASSERT_EQ(whole.records.size(), 1u);
    EXPECT_EQ(whole.records[0].bytes, "end");
}

TEST(OutputLog, MemoryStaysBoundedAndSpillKeepsEverything) {
    net::io_context ioc;
    test::temp_dir dir;
    auto log = make_log(ioc, {.memory_limit = 1 << 20, .spill_dir = dir.path().string()});
    std::string expected;
    for (int i = 0; i < 5000; ++i) {
        std::string line = "line " + std::to_string(i) + std::string(1000, '.') + "\n";
        log->append(i % 3 ? stream::out : stream::err, line);
        expected += line;
        EXPECT_LE(log->memory_bytes(), (1u << 20) + output_log::chunk_size);
    }
    EXPECT_EQ(log->dropped_bytes(), 0u);
    EXPECT_EQ(read_everything(*log), expected);
    EXPECT_EQ(read_everything(*log, 123457), expected.substr(123457));
}

TEST(OutputLog, WithoutSpillTheOldestIsDroppedAndReadersSeeTheLoss) {
    net::io_context ioc;
    auto log = make_log(ioc, {.memory_limit = 512 * 1024});
    std::string chunk(100'000, 'x');
    for (int i = 0; i < 40; ++i) {
        log->append(stream::out, chunk);
    }
    EXPECT_GT(log->dropped_bytes(), 0u);
    EXPECT_EQ(log->first_offset(), log->dropped_bytes());
    auto r = log->read(0);
    EXPECT_EQ(r.lost, log->dropped_bytes());
    EXPECT_EQ(r.records.front().offset, log->first_offset());
    EXPECT_EQ(read_everything(*log).size(), log->end_offset() - log->first_offset());
}

TEST(OutputLog, KeepNewestCapDropsOldOutput) {
    net::io_context ioc;
    auto log = make_log(ioc, {.cap = 600'000, .policy = cap_policy::keep_newest});
    std::string block(10'000, 'y');
    for (int i = 0; i < 300; ++i) {
        EXPECT_EQ(log->append(stream::out, block), commit_result::ok);
    }
    const auto kept = log->end_offset() - log->first_offset();
    EXPECT_GE(kept, 600'000u);
    EXPECT_LT(kept, 600'000u + output_log::chunk_size);
    EXPECT_EQ(log->dropped_bytes(), 3'000'000u - kept);
}

TEST(OutputLog, StopJobCapKeepsTheFirstBytesAndSaysSo) {
    net::io_context ioc;
    auto log = make_log(ioc, {.cap = 25, .policy = cap_policy::stop_job});
    EXPECT_EQ(log->append(stream::out, "0123456789"), commit_result::ok);
    EXPECT_EQ(log->append(stream::out, "0123456789"), commit_result::ok);
    EXPECT_EQ(log->append(stream::out, "0123456789"), commit_result::cap_reached);
    EXPECT_TRUE(log->cap_reached());
    EXPECT_EQ(log->end_offset(), 25u);
    EXPECT_EQ(log->discarded_bytes(), 5u);
    EXPECT_EQ(read_everything(*log), "0123456789012345678901234");
}

TEST(OutputLog, NamedSpillFileHoldsTheWholeOutputAfterClose) {
    net::io_context ioc;
    test::temp_dir dir;
    auto log = make_log(ioc, {.spill_file = dir.file("job.out")});
    log->append(stream::out, "abc");
    log->append(stream::err, "de");
    log->close();
    EXPECT_EQ(std::filesystem::file_size(dir.file("job.out")), 2 * output_log::header_size + 5);
    EXPECT_TRUE(log->saved());
    EXPECT_EQ(log->memory_bytes(), 0u);
    EXPECT_EQ(read_everything(*log), "abcde");
}

TEST(OutputLog, AChunkThatCannotBeReadBackCountsAsLost) {
    net::io_context ioc;
    test::temp_dir dir;
    auto log = make_log(ioc, {.spill_file = dir.file("job.out")});
    for (char c : {'a', 'b', 'c', 'd'}) {
        log->append(stream::out, std::string(10 * 1024, c));
    }
    log->close();
    // The file loses everything after the first record (a full disk, a truncation by someone else).
    std::filesystem::resize_file(dir.file("job.out"), output_log::header_size + 10 * 1024);
    auto first = log->read(0);
    EXPECT_EQ(concat(first), std::string(10 * 1024, 'a'));
    EXPECT_EQ(first.lost, 0u);
    auto rest = log->read(first.next);
    EXPECT_TRUE(rest.records.empty());
    EXPECT_EQ(rest.lost, 30u * 1024) << "the unreadable bytes are reported, never silently skipped";
    EXPECT_EQ(rest.next, log->end_offset());
}

TEST(OutputLog, ReopenReadsASavedLogBackWithOffsetsStreamsAndTimes) {
    net::io_context ioc;
    test::temp_dir dir;
    // Small memory and a keep_newest cap: older output spills, the oldest is dropped (a hole in the file).
    auto log = make_log(ioc,
                        {.memory_limit = 64 * 1024,
                         .spill_file = dir.file("job.out"),
                         .cap = 300 * 1024,
                         .policy = cap_policy::keep_newest});
    std::string expected;
    for (int i = 0; expected.size() < 1'000'000; ++i) {
        auto line = fmt::format("line {}\n", i);
        log->append(i % 3 ? stream::out : stream::err, line);
        expected += line;
    }
    log->close();
    ASSERT_TRUE(log->saved());
    ASSERT_GT(log->first_offset(), 0u);
    auto again = output_log::reopen(
        ioc.get_executor(), dir.file("job.out"), log->first_offset(), log->first_file_pos());
    ASSERT_TRUE(again) << again.error().what();
    auto& back = **again;
    EXPECT_TRUE(back.closed());
    EXPECT_EQ(back.first_offset(), log->first_offset());
    EXPECT_EQ(back.end_offset(), log->end_offset());
    EXPECT_EQ(read_everything(back, back.first_offset()), expected.substr(back.first_offset()));
    auto a = log->read(500'000, 100);
    auto b = back.read(500'000, 100);
    ASSERT_FALSE(b.records.empty());
    EXPECT_EQ(a.records.front().source, b.records.front().source);
    EXPECT_EQ(a.records.front().time_ns, b.records.front().time_ns);
    EXPECT_EQ(a.records.front().bytes, b.records.front().bytes);
}

TEST(OutputLog, ClosingAReopenedLogAgainKeepsItsFile) {
    // A restart finds a job that was running and closes its reopened log as `lost`: its output must
    // stay (a second close used to reopen the file with O_TRUNC and empty it).
    net::io_context ioc;
    test::temp_dir dir;
    auto log = make_log(ioc, {.memory_limit = 64 * 1024, .spill_file = dir.file("job.out")});
    const std::string text(200'000, 'k');
    log->append(stream::out, text);  // most of it spills to the file while the job runs
    auto again = output_log::reopen(ioc.get_executor(), dir.file("job.out"), 0, 0);
    ASSERT_TRUE(again) << again.error().what();
    const auto on_file = (*again)->end_offset();
    ASSERT_GT(on_file, 0u);
    (*again)->close();
    EXPECT_EQ(read_everything(**again), text.substr(0, on_file));
    log->close();  // and twice on the same log changes nothing either
    log->close();
    EXPECT_EQ(read_everything(*log), text);
}

TEST(OutputLog, ReopenOfAMissingFileIsAClearError) {
    net::io_context ioc;
    auto log = output_log::reopen(ioc.get_executor(), "/nonexistent/job.out", 0, 0);
    ASSERT_FALSE(log);
    EXPECT_NE(log.error().message.find("/nonexistent/job.out"), std::string::npos);
}

TEST(OutputLog, AnUncreatableNamedFileKeepsTheOutputInMemory) {
    net::io_context ioc;
    auto log = make_log(ioc, {.spill_file = "/nonexistent/dir/out"});
    log->append(stream::out, "still here");
    log->close();
    EXPECT_FALSE(log->saved());
    EXPECT_EQ(read_everything(*log), "still here");
}

TEST(OutputLog, ANamedLogWithoutOutputMakesNoFile) {
    net::io_context ioc;
    test::temp_dir dir;
    auto log = make_log(ioc, {.spill_file = dir.file("job.out")});
    log->close();
    EXPECT_FALSE(std::filesystem::exists(dir.file("job.out")));
    EXPECT_FALSE(log->saved());
}

std::size_t open_fds() {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                                  std::filesystem::directory_iterator()));
}

TEST(OutputLog, AnonymousSpillFileIsMadeOnlyWhenOutputOutgrowsMemory) {
    net::io_context ioc;
    test::temp_dir dir;
    ASSERT_TRUE(output_log::check_spill_dir(dir.path().string()));
    auto log = make_log(ioc, {.memory_limit = 1 << 20, .spill_dir = dir.path().string()});
    const auto before = open_fds();  // after the log: its timers open the reactor's descriptors
    log->append(stream::out, std::string(1000, 'a'));
    EXPECT_EQ(open_fds(), before) << "a job that fits in memory got a spill file";
    std::string expected(1000, 'a');
    for (int i = 0; i < 40; ++i) {
        std::string block(100'000, static_cast<char>('b' + i % 20));
        log->append(stream::out, block);
        expected += block;
    }
    EXPECT_EQ(open_fds(), before + 1);
    EXPECT_EQ(log->dropped_bytes(), 0u);
    EXPECT_EQ(read_everything(*log), expected);
}

TEST(OutputLog, UnusableSpillDirectoryIsAClearErrorUpFrontAndLaterLosesOnlyUnreadOutput) {
    net::io_context ioc;
    auto check = output_log::check_spill_dir("/nonexistent/spill");
    ASSERT_FALSE(check);
    EXPECT_NE(check.error().message.find("/nonexistent/spill"), std::string::npos);
    // Should the directory go away after the check, the log carries on as one without a spill file.
    auto log = make_log(ioc, {.memory_limit = 512 * 1024, .spill_dir = "/nonexistent/spill"});
    for (int i = 0; i < 20; ++i) {
        log->append(stream::out, std::string(100'000, 'x'));
    }
    EXPECT_GT(log->dropped_bytes(), 0u);
    EXPECT_LE(log->memory_bytes(), 512u * 1024 + output_log::chunk_size);
}

TEST(OutputLog, AClosedLogKeepsOnlyWhatWasPrinted) {
    net::io_context ioc;
    auto silent = make_log(ioc);
    (void)silent->prepare();  // the pump prepares before each read, even when nothing comes
    silent->close();
    EXPECT_EQ(silent->memory_bytes(), 0u);
    EXPECT_TRUE(silent->read(0).records.empty());

    auto chatty = make_log(ioc);
    chatty->append(stream::out, "hello\n");
    chatty->append(stream::err, "oops\n");
    chatty->close();
    EXPECT_EQ(chatty->memory_bytes(), 2 * output_log::header_size + 11);
    EXPECT_EQ(read_everything(*chatty), "hello\noops\n");
}

TEST(OutputLog, FollowersWakeOnDataAndOnClose) {
    net::io_context ioc;
    auto log = make_log(ioc);
    auto follower = [&]() -> net::awaitable<std::string> {
        std::string seen;
        co_await follow(*log, [&](const read_result& r) -> net::awaitable<void> {
            seen += concat(r);
            co_return;
        });
        co_return seen;
    };
    auto writer = [&]() -> net::awaitable<std::string> {
        for (int i = 0; i < 5; ++i) {
            co_await net::post(ioc, net::use_awaitable);
            log->append(stream::out, std::to_string(i));
        }
        log->close();
        co_return std::string();
    };
    using namespace boost::asio::experimental::awaitable_operators;
    auto both = [&]() -> net::awaitable<std::string> {
        auto [seen, ignored] = co_await (follower() && writer());
        co_return seen;
    };
    EXPECT_EQ(run_coro(ioc, both()), "01234");
}

TEST(OutputLog, HoldBackPressuresTheWriterInsteadOfLosingOutput) {
    net::io_context ioc;
    auto log = make_log(ioc, {.memory_limit = 512 * 1024});
    auto hold = log->add_hold(0);
    std::string block(100'000, 'z');
    bool writer_done = false;
    std::size_t max_memory = 0;
    auto writer = [&]() -> net::awaitable<void> {
        for (int i = 0; i < 50; ++i) {
            co_await log->wait_writable();
            log->append(stream::out, block);
            max_memory = std::max(max_memory, log->memory_bytes());
        }
        log->close();
        writer_done = true;
    };
    std::string seen;
    auto reader = [&]() -> net::awaitable<void> {
        co_await follow(*log, [&](const read_result& r) -> net::awaitable<void> {
            seen += concat(r);
            log->move_hold(hold, r.next);
            co_await net::post(ioc, net::use_awaitable);  // a slow reader: let the writer run
        });
    };
    using namespace boost::asio::experimental::awaitable_operators;
    run_coro(ioc, [&]() -> net::awaitable<void> { co_await (writer() && reader()); }());
    EXPECT_TRUE(writer_done);
    // Output is dropped only once the hold has passed it: the reader saw every byte.
    EXPECT_EQ(seen, std::string(5'000'000, 'z'));
    EXPECT_LE(max_memory, 512u * 1024 + 2 * output_log::chunk_size);
}

}  // namespace
}  // namespace corral::output
