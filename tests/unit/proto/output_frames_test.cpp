// output_frames: one serialisation per slice, shared by watchers, never stale.
#include "corral/proto/output_frames.hpp"
#include "corral/proto/native_encoder.hpp"

#include <filesystem>
#include <future>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include "helpers/test_support.hpp"

namespace corral::proto {
namespace {

namespace json = boost::json;
using output::output_log;
using output::stream;

const encoder& ws() {
    return native_encoder::of(wire_format::websocket);
}
const encoder& sse() {
    return native_encoder::of(wire_format::sse);
}

/// A second kind of wire, as ASEXOR's CBOR or WAMP will be: binary, with framing of its own (here a
/// length prefix). It plugs into output_frames without any change there.
class length_prefixed final : public encoder {
  public:
    bool binary() const override { return true; }
    std::string event(const jobs::job*, const services::event_record& e) const override {
        return frame("event " + std::to_string(e.seq));
    }
    std::string output(jobs::job_id id, const output::record& rec) const override {
        return frame(std::to_string(id) + "@" + std::to_string(rec.offset) + ":" + rec.bytes);
    }

  private:
    static std::string frame(const std::string& body) {
        const auto n = static_cast<std::uint32_t>(body.size());
        return std::string{char(n >> 24), char(n >> 16), char(n >> 8), char(n)} + body;
    }
};

std::unique_ptr<output_log> make_log(net::io_context& io) {
    return std::move(output_log::create(io.get_executor()).value());
}

TEST(OutputFrames, WatchersAtTheSameCursorShareOneFrame) {
    net::io_context io;
    auto log = make_log(io);
    log->append(stream::out, "hello\n");
    output_frames frames;
    auto a = frames.read(7, *log, 0, 1024, ws());
    auto b = frames.read(7, *log, 0, 1024, ws());
    ASSERT_EQ(a.frames.size(), 1u);
    ASSERT_EQ(b.frames.size(), 1u);
    EXPECT_EQ(a.frames[0].get(), b.frames[0].get()) << "the second watcher serialised it again";
    EXPECT_EQ(a.next, 6u);
    EXPECT_EQ(a.bytes, 6u);
    auto m = json::parse(*a.frames[0]).as_object();
    EXPECT_EQ(m.at("type"), "output");
    EXPECT_EQ(m.at("job"), 7);
    EXPECT_EQ(m.at("data"), "hello\n");
    // Another job, another format or another cursor is another frame.
    EXPECT_NE(frames.read(8, *log, 0, 1024, ws()).frames[0].get(), a.frames[0].get());
    EXPECT_NE(frames.read(7, *log, 0, 1024, sse()).frames[0].get(), a.frames[0].get());
    EXPECT_EQ(frames.read(7, *log, 2, 1024, ws()).bytes, 4u);
}

TEST(OutputFrames, AnotherWireGetsItsOwnFramesSharedAmongItsWatchers) {
    net::io_context io;
    auto log = make_log(io);
    log->append(stream::out, "hello\n");
    log->append(stream::err, "oops\n");
    output_frames frames;
    const length_prefixed binary_wire;
    auto a = frames.read(7, *log, 0, 1024, binary_wire);
    auto b = frames.read(7, *log, 0, 1024, binary_wire);
    ASSERT_EQ(a.frames.size(), 2u);
    EXPECT_EQ(a.frames[0].get(), b.frames[0].get()) << "watchers on one wire share the frame";
    EXPECT_EQ(*a.frames[0], std::string("\0\0\0\x0a", 4) + "7@0:hello\n");
    EXPECT_EQ(*a.frames[1], std::string("\0\0\0\x09", 4) + "7@6:oops\n");
    EXPECT_EQ(a.ends, (std::vector<std::uint64_t>{6, 11}));
    EXPECT_EQ(a.next, 11u);
    // The native wire's watchers of the same slice get their own JSON, not these bytes.
    auto native = frames.read(7, *log, 0, 1024, ws());
    ASSERT_EQ(native.frames.size(), 2u);
    EXPECT_EQ(json::parse(*native.frames[0]).at("data"), "hello\n");
    EXPECT_NE(native.frames[0].get(), a.frames[0].get());
}

TEST(OutputFrames, WatchersReadingTheSameSliceFromFileShareOneReadAndOneFrame) {
    // A finished job's output is on file and read on the blocking-work thread: watchers that ask for
    // the same slice meanwhile wait for that read instead of each reading and serialising it again.
    net::io_context io;
    test::temp_dir dir;
    net::thread_pool files(1);
    std::promise<void> gate;
    net::post(files, [f = gate.get_future().share()] { f.wait(); });  // holds the file thread
    auto log = std::move(output_log::create(io.get_executor(), {.spill_file = dir.file("7.out")}).value());
    log->set_file_executor(files.get_executor());
    log->append(stream::out, "hello\n");
    log->close();
    ASSERT_TRUE(log->saved());
    output_frames frames;
    std::vector<output_frames::slice> got;
    for (int i = 0; i < 3; ++i) {
        net::co_spawn(
            io,
            [&]() -> net::awaitable<void> {
                got.push_back(co_await frames.read_async(7, *log, 0, 1024, ws()));
            },
            [](std::exception_ptr e) {
                if (e) {
                    std::rethrow_exception(e);
                }
            });
    }
    io.poll();  // all three are waiting: one for the file thread, two for it
    EXPECT_TRUE(got.empty());
    gate.set_value();
    io.restart();
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
         got.size() < 3 && std::chrono::steady_clock::now() < until;) {
        io.run_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(got.size(), 3u);
    for (const auto& s : got) {
        ASSERT_EQ(s.frames.size(), 1u);
        EXPECT_EQ(s.frames[0].get(), got[0].frames[0].get()) << "a watcher read and serialised it again";
        EXPECT_EQ(s.next, 6u);
    }
    EXPECT_EQ(json::parse(*got[0].frames[0]).as_object().at("data"), "hello\n");
    files.join();
}

TEST(OutputFrames, AShortReadIsNotReusedOnceTheLogGrows) {
    net::io_context io;
    auto log = make_log(io);
    log->append(stream::out, "abc");
    output_frames frames;
    auto first = frames.read(1, *log, 0, 1024, ws());
    EXPECT_EQ(first.next, 3u);
    log->append(stream::out, "def");
    auto second = frames.read(1, *log, 0, 1024, ws());
    EXPECT_EQ(second.next, 6u);
    EXPECT_EQ(json::parse(*second.frames.at(0)).at("data"), "abcdef");
}

TEST(OutputFrames, FramesLiveOnlyWhileAWatcherHoldsThem) {
    net::io_context io;
    auto log = make_log(io);
    log->append(stream::err, "x");
    output_frames frames;
    std::weak_ptr<const std::string> weak;
    {
        auto s = frames.read(1, *log, 0, 1024, sse());
        weak = s.frames.at(0);
        const std::string& f = *s.frames[0];
        EXPECT_TRUE(f.starts_with("id: 1:1\nevent: output\ndata: {") && f.ends_with("}\n\n")) << f;
    }
    EXPECT_TRUE(weak.expired()) << "the cache kept a frame no watcher needs";
    auto again = frames.read(1, *log, 0, 1024, sse());
    ASSERT_EQ(again.frames.size(), 1u);
    EXPECT_NE(again.frames[0]->find(R"("stream":"stderr")"), std::string::npos);
}

}  // namespace
}  // namespace corral::proto
