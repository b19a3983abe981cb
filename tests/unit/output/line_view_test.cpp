#include "corral/output/line_view.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace corral::output {
namespace {

using lines = std::vector<std::string>;

class LineViewTest : public ::testing::Test {
  protected:
    net::io_context ioc_;
    std::unique_ptr<output_log> log_ = std::move(*output_log::create(ioc_.get_executor()));
};

TEST_F(LineViewTest, HoldsPartialLinesUntilTheirNewline) {
    // acons would flush ["ab", "cd"] here; the line is "abcd".
    line_view view(*log_);
    log_->append(stream::out, "ab");
    EXPECT_EQ(view.take(), lines{});
    log_->append(stream::out, "cd\nef");
    EXPECT_EQ(view.take(), lines{"abcd"});
    log_->append(stream::out, "\n");
    EXPECT_EQ(view.take(), lines{"ef"});
    EXPECT_EQ(view.take(), lines{});
}

TEST_F(LineViewTest, NeverRepeatsALine) {
    line_view view(*log_);
    log_->append(stream::out, "one\ntwo\n");
    EXPECT_EQ(view.take(), (lines{"one", "two"}));
    EXPECT_EQ(view.take(), lines{});
    log_->append(stream::out, "three\n");
    EXPECT_EQ(view.take(), lines{"three"});
}

TEST_F(LineViewTest, ReturnsTheLastPartialLineWhenTheJobEnds) {
    line_view view(*log_);
    log_->append(stream::out, "done\nno newline");
    EXPECT_EQ(view.take(), lines{"done"});
    EXPECT_FALSE(view.finished());
    log_->close();
    EXPECT_EQ(view.take(), lines{"no newline"});
    EXPECT_TRUE(view.finished());
    EXPECT_EQ(view.take(), lines{});
}

TEST_F(LineViewTest, HandlesCrlfAndKeepsLoneCarriageReturns) {
    line_view view(*log_);
    log_->append(stream::out, "dos\r\n10%\r20%\r\n\n");
    EXPECT_EQ(view.take(), (lines{"dos", "10%\r20%", ""}));
}

TEST_F(LineViewTest, InterleavedStreamsDoNotSplice) {
    line_view view(*log_);
    log_->append(stream::out, "out-");
    log_->append(stream::err, "err line\n");
    log_->append(stream::out, "line\n");
    EXPECT_EQ(view.take(), (lines{"err line", "out-line"}));
}

TEST_F(LineViewTest, StripsAnsiOnRequest) {
    line_view view(*log_, {.strip_ansi = true});
    log_->append(stream::out, "\x1b[1;31mred\x1b[0m\n");
    EXPECT_EQ(view.take(), lines{"red"});
}

TEST_F(LineViewTest, SplitsOverlongLinesToBoundMemory) {
    line_view view(*log_, {.max_line = 4});
    log_->append(stream::out, "abcdefghij\n");
    EXPECT_EQ(view.take(), (lines{"abcd", "efgh", "ij"}));
}

TEST_F(LineViewTest, MarksDroppedOutput) {
    auto small = std::move(*output_log::create(ioc_.get_executor(), {.memory_limit = 300 * 1024}));
    line_view view(*small);
    std::string line(99, 'q');
    line += '\n';
    for (int i = 0; i < 10000; ++i) {
        small->append(stream::out, line);
    }
    auto got = view.take();
    ASSERT_FALSE(got.empty());
    EXPECT_NE(got.front().find("bytes of output were dropped"), std::string::npos) << got.front();
    EXPECT_EQ(got.back(), std::string(99, 'q'));
}

}  // namespace
}  // namespace corral::output
