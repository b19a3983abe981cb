#include "corral/jobs/pipe_reader.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "helpers/test_support.hpp"

namespace corral::jobs {
namespace {

using test::run_coro;

// A pipe whose read end is non-blocking, as job pipes are.
struct test_pipe {
    test_pipe() {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        read_end = fds[0];
        write_end = fds[1];
        ::fcntl(read_end, F_SETFL, ::fcntl(read_end, F_GETFL) | O_NONBLOCK);
    }
    ~test_pipe() {
        close_read();
        close_write();
    }
    void close_read() {
        if (read_end >= 0) {
            ::close(read_end);
            read_end = -1;
        }
    }
    void close_write() {
        if (write_end >= 0) {
            ::close(write_end);
            write_end = -1;
        }
    }
    int read_end = -1;
    int write_end = -1;
};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
    }
    return s;
}

net::awaitable<std::string> read_all(pipe_reader::reading& r) {
    std::string all;
    for (;;) {
        auto bytes = co_await r.next();
        if (bytes.empty()) {
            co_return all;
        }
        all.append(bytes.data(), bytes.size());
    }
}

TEST(PipeReader, DeliversEveryByteInOrderThenTheEnd) {
    net::io_context ioc;
    pipe_reader reader;
    test_pipe p;
    const std::string sent = pattern(3 << 20);
    std::thread writer([&] {
        // Odd-sized writes, so blocks and writes never line up.
        for (std::size_t at = 0; at < sent.size();) {
            auto n = ::write(p.write_end, sent.data() + at, std::min<std::size_t>(12345, sent.size() - at));
            ASSERT_GT(n, 0);
            at += static_cast<std::size_t>(n);
        }
        p.close_write();
    });
    auto reading = reader.open(p.read_end, ioc.get_executor());
    std::string got = run_coro(ioc, read_all(*reading));
    writer.join();
    EXPECT_EQ(got.size(), sent.size());
    EXPECT_TRUE(got == sent) << "the bytes differ";
    EXPECT_EQ(reading->error(), 0);
    // Once ended, it stays ended.
    EXPECT_TRUE(run_coro(ioc, reading->next()).empty());
}

TEST(PipeReader, ABigBlockRaisesTheOutputPressureAndSmallOnesDoNot) {
    net::io_context ioc;
    pipe_reader reader({.block_size = 128 * 1024, .blocks_per_pipe = 4});
    auto pressure = std::make_shared<output_pressure>(ioc.get_executor(), std::chrono::hours(1));
    reader.report_to(pressure);
    // A few bytes at a time, as an ordinary log comes: no pressure.
    test_pipe quiet;
    ASSERT_EQ(::write(quiet.write_end, "a line\n", 7), 7);
    quiet.close_write();
    auto calm = reader.open(quiet.read_end, ioc.get_executor());
    EXPECT_EQ(run_coro(ioc, read_all(*calm)), "a line\n");
    EXPECT_FALSE(pressure->high());
    // 256 KiB already waiting in the pipe: the first read takes a whole block, a child pouring out.
    test_pipe busy;
    ASSERT_GE(::fcntl(busy.write_end, F_SETPIPE_SZ, 1 << 20), 256 * 1024);
    const std::string sent = pattern(256 * 1024);
    ASSERT_EQ(::write(busy.write_end, sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
    busy.close_write();
    auto pouring = reader.open(busy.read_end, ioc.get_executor());
    EXPECT_TRUE(run_coro(ioc, read_all(*pouring)) == sent);
    EXPECT_TRUE(pressure->high());
}

TEST(PipeReader, ReadsNoFurtherAheadThanItsBlocksWhenTheCoreDoesNotTake) {
    net::io_context ioc;
    pipe_reader reader(pipe_reader::options{.block_size = 4096, .blocks_per_pipe = 2});
    test_pipe p;
    ASSERT_GT(::fcntl(p.write_end, F_SETPIPE_SZ, 4096), 0);
    const int capacity = ::fcntl(p.write_end, F_GETPIPE_SZ);
    ::fcntl(p.write_end, F_SETFL, ::fcntl(p.write_end, F_GETFL) | O_NONBLOCK);
    auto reading = reader.open(p.read_end, ioc.get_executor());

    // Nothing takes from the reading: the writer can fill the pipe and the reader's blocks, no more.
    // Writes of one page are atomic (PIPE_BUF), so the pipe holds whole pages and each of the reader's
    // reads takes a whole block. First wait (a poll with a deadline) until the reader thread has
    // filled both of its blocks: it is running.
    const std::string chunk = pattern(4096);
    std::string sent;
    auto absorbed = [&] {
        int queued = 0;
        EXPECT_EQ(::ioctl(p.read_end, FIONREAD, &queued), 0);
        return sent.size() - static_cast<std::size_t>(queued);
    };
    auto fill = [&] {
        for (ssize_t n; sent.size() < (1 << 20) &&
                        (n = ::write(p.write_end, chunk.data(), chunk.size())) > 0;) {
            sent.append(chunk, 0, static_cast<std::size_t>(n));
        }
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (fill(); absorbed() < 2 * 4096 && sent.size() < (1 << 20); fill()) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline)
            << "the reader thread took " << absorbed() << " bytes in 30 s, not its two blocks";
        std::this_thread::yield();
    }
    // A reader that ignored its bound would now be draining the pipe as fast as it is filled: give it
    // the chance (it is running), then no more than its two blocks may have left the pipe.
    for (int round = 0; round < 20; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        fill();
    }
    EXPECT_EQ(absorbed(), 2u * 4096) << "the reader read past its blocks";
    EXPECT_LE(sent.size(), static_cast<std::size_t>(capacity) + 2 * 4096);
    EXPECT_GE(sent.size(), static_cast<std::size_t>(capacity));

    // Everything held back arrives once the core takes it, and nothing is lost.
    p.close_write();
    EXPECT_TRUE(run_coro(ioc, read_all(*reading)) == sent);
}

TEST(PipeReader, AReadErrorEndsTheReadingWithItsErrno) {
    net::io_context ioc;
    pipe_reader reader;
    int dir = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
    ASSERT_GE(dir, 0);
    auto reading = reader.open(dir, ioc.get_executor());
    EXPECT_TRUE(run_coro(ioc, reading->next()).empty());
    EXPECT_EQ(reading->error(), EISDIR);
    ::close(dir);
}

TEST(PipeReader, LetsGoOfThePipeWhenAbandonedOrDestroyed) {
    std::signal(SIGPIPE, SIG_IGN);
    net::io_context ioc;
    test_pipe p;
    {
        pipe_reader reader;
        auto reading = reader.open(p.read_end, ioc.get_executor());
        ASSERT_EQ(::write(p.write_end, "x", 1), 1);
        // The pipe stays silent after one byte: the reader thread waits on it when the reader and
        // the reading go away, and must neither hang nor keep its copy of the descriptor.
        EXPECT_EQ(std::string(run_coro(ioc, reading->next()).data(), 1), "x");
    }
    p.close_read();
    EXPECT_EQ(::write(p.write_end, "y", 1), -1);
    EXPECT_EQ(errno, EPIPE);
}

TEST(PipeReader, AReadingOutlivingItsReaderEnds) {
    net::io_context ioc;
    test_pipe p;
    std::unique_ptr<pipe_reader::reading> reading;
    {
        pipe_reader reader;
        reading = reader.open(p.read_end, ioc.get_executor());
    }
    EXPECT_TRUE(run_coro(ioc, reading->next()).empty());
    EXPECT_EQ(reading->error(), 0);
}

}  // namespace
}  // namespace corral::jobs
