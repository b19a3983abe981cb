// The runner seed's channel and poller tests (pipe_endpoint, socket_endpoint, lines, test_channel,
// poller: research/seeds-inventory.md §3.2), translated, with the fixes its later releases made.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>
#include <memory>

#include <gtest/gtest.h>

#include "corral/runner/channel.hpp"
#include "corral/runner/poller.hpp"

namespace corral::runner {
namespace {

using namespace std::chrono_literals;

/// Reads until something comes (the other end writes from this thread, so it is there at once).
std::string read_some(channel& ch) {
    poller p;
    p.add(ch);
    auto got = p.poll(5s);
    return got.empty() ? std::string() : got.front().data;
}

struct pipe_pair {
    int fds[2];
    pipe_pair() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
};

TEST(PipeChannel, ReadsWhatIsThereThenNothingWithoutWaiting) {
    pipe_pair in;
    pipe_channel ch(in.fds[0], -1);
    ASSERT_EQ(::write(in.fds[1], "hello", 5), 5);
    EXPECT_EQ(ch.read(), "hello");
    EXPECT_EQ(ch.read(), "");
    EXPECT_EQ(ch.read(), "");
    ::close(in.fds[1]);
}

TEST(PipeChannel, WritesEveryChunkEvenPastWhatThePipeHolds) {
    pipe_pair out;
    pipe_channel ch(-1, out.fds[1]);
    ch.write("hello, ");
    ch.write("world");
    char buffer[32] = {};
    ASSERT_EQ(::read(out.fds[0], buffer, sizeof buffer), 12);
    EXPECT_STREQ(buffer, "hello, world");
    // More than a pipe holds (64 KiB): write() waits for the reader instead of dropping the rest.
    const std::string big(1 << 20, 'x');
    std::size_t received = 0;
    std::thread reader([&] {
        char chunk[65536];
        while (received < big.size()) {
            const auto n = ::read(out.fds[0], chunk, sizeof chunk);
            if (n <= 0) {
                break;
            }
            received += static_cast<std::size_t>(n);
        }
    });
    ch.write(big);
    reader.join();
    EXPECT_EQ(received, big.size());
    ::close(out.fds[0]);
}

TEST(PipeChannel, TheEndComesOnlyAfterEverythingWasRead) {
    pipe_pair in;
    pipe_channel ch(in.fds[0], -1);
    ASSERT_EQ(::write(in.fds[1], "last words", 10), 10);
    ::close(in.fds[1]);
    EXPECT_EQ(ch.read(), "last words");
    EXPECT_THROW(ch.read(), endpoint_closed);
}

TEST(PipeChannel, AClosedChannelNeitherReadsNorWrites) {
    pipe_pair in, out;
    pipe_channel ch(in.fds[0], out.fds[1]);
    ch.close();
    EXPECT_EQ(ch.fd(), -1);
    EXPECT_THROW(ch.read(), endpoint_closed);
    EXPECT_THROW(ch.write("x"), endpoint_closed);
    EXPECT_EQ(::fcntl(in.fds[0], F_GETFD), -1) << "its descriptors are closed";
    ::close(in.fds[1]);
    ::close(out.fds[0]);
}

TEST(PipeChannel, WritingToAGoneReaderThrows) {
    pipe_pair out;
    ::close(out.fds[0]);
    pipe_channel ch(-1, out.fds[1]);
    EXPECT_THROW(ch.write("nobody reads this"), endpoint_closed) << "EPIPE, and no SIGPIPE kills the program";
}

TEST(SocketChannel, TheSameOverASocketPair) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    socket_channel ch(sv[0]);
    EXPECT_EQ(ch.read(), "");
    ASSERT_EQ(::write(sv[1], "ping", 4), 4);
    EXPECT_EQ(ch.read(), "ping");
    ch.write("pong");
    char buffer[8] = {};
    ASSERT_EQ(::read(sv[1], buffer, sizeof buffer), 4);
    EXPECT_STREQ(buffer, "pong");
    ASSERT_EQ(::write(sv[1], "bye", 3), 3);
    ::close(sv[1]);
    EXPECT_EQ(ch.read(), "bye");
    EXPECT_THROW(ch.read(), endpoint_closed);
    EXPECT_THROW(ch.write("x"), endpoint_closed);
}

TEST(LineChannel, ReturnsWholeLinesOneAtATime) {
    auto inner = std::make_unique<test_channel>();
    auto& raw = *inner;
    line_channel lines(std::move(inner));
    raw.put("a\nb\n");
    EXPECT_EQ(lines.read(), "a\n");
    EXPECT_EQ(lines.read(), "b\n");
    EXPECT_EQ(lines.read(), "");
    raw.put("te");
    EXPECT_EQ(lines.read(), "") << "not a line yet";
    raw.put("st\nx");
    EXPECT_EQ(lines.read(), "test\n");
    EXPECT_EQ(lines.read(), "");
}

TEST(LineChannel, TheLastLineWithoutANewlineComesOnceAtTheEnd) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    line_channel lines(std::make_unique<pipe_channel>(fds[0], -1));
    ASSERT_EQ(::write(fds[1], "hello\nworld", 11), 11);
    ::close(fds[1]);
    EXPECT_EQ(lines.read(), "hello\n");
    EXPECT_EQ(lines.read(), "world");
    EXPECT_THROW(lines.read(), endpoint_closed);
    EXPECT_EQ(lines.fd(), fds[0]) << "the inner channel's";
}

TEST(TestChannel, PutIsReadAndWritesAreGot) {
    test_channel ch;
    EXPECT_EQ(ch.read(), "");
    EXPECT_EQ(ch.get(), "");
    ch.put("to the reader");
    EXPECT_EQ(read_some(ch), "to the reader");
    ch.write("from the writer");
    EXPECT_EQ(ch.get(), "from the writer");
}

TEST(Poller, ReportsDataFromTheReadyChannelOnly) {
    test_channel a, b;
    poller p;
    p.add(a);
    p.add(b);
    EXPECT_TRUE(p.poll(10ms).empty()) << "nothing yet";
    b.put("hello\n");
    auto got = p.poll(5s);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].from, &b);
    EXPECT_EQ(got[0].data, "hello\n");
    p.remove(b);
    b.put("again\n");
    EXPECT_TRUE(p.poll(10ms).empty()) << "after remove, b is not polled";
}

TEST(Poller, AcceptsClientsAndReadsThemAndReportsTheirEndOnce) {
    const auto path = std::filesystem::temp_directory_path() / ("corral-poller-" + std::to_string(::getpid()));
    std::filesystem::remove(path);
    const int server = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(server, 4), 0);
    poller p;
    p.add_server(server);
    const int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    auto accepted = p.poll(5s);
    ASSERT_EQ(accepted.size(), 1u);
    ASSERT_NE(accepted[0].accepted, nullptr);
    EXPECT_EQ(accepted[0].server, server);
    ASSERT_EQ(::write(client, "hello\n", 6), 6);
    auto data = p.poll(5s);
    ASSERT_EQ(data.size(), 1u);
    EXPECT_EQ(data[0].from, accepted[0].accepted);
    EXPECT_EQ(data[0].data, "hello\n");
    ::close(client);
    auto ended = p.poll(5s);
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_TRUE(ended[0].ended);
    EXPECT_TRUE(p.poll(10ms).empty()) << "an ended channel is reported once (the seed repeated it)";
    p.close_all();
    EXPECT_EQ(::fcntl(server, F_GETFD), -1) << "close_all closes the servers";
    EXPECT_EQ(p.size(), 0u);
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace corral::runner
