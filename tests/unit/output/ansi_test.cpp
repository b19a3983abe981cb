#include "corral/output/ansi.hpp"

#include <gtest/gtest.h>

namespace corral::output {
namespace {

TEST(StripAnsi, RemovesColoursAndCursorMovement) {
    EXPECT_EQ(strip_ansi("\x1b[1mbold\x1b[0m"), "bold");  // acons's own example
    EXPECT_EQ(strip_ansi("\x1b[38;5;196mred\x1b[39m plain"), "red plain");
    EXPECT_EQ(strip_ansi("a\x1b[2Kb\x1b[1Ac"), "abc");
}

TEST(StripAnsi, RemovesWholeOscSequences) {
    EXPECT_EQ(strip_ansi("\x1b]0;window title\x07text"), "text");
    EXPECT_EQ(strip_ansi("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), "link");
}

TEST(StripAnsi, RemovesEightBitControlsButNotUtf8Text) {
    EXPECT_EQ(strip_ansi("\xc2\x9b"
                         "31mred"),
              "red");  // C1 CSI, UTF-8 encoded
    EXPECT_EQ(strip_ansi("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
}

TEST(StripAnsi, LeavesPlainTextAndTruncatedSequencesSafe) {
    EXPECT_EQ(strip_ansi("plain text\n"), "plain text\n");
    EXPECT_EQ(strip_ansi(""), "");
    EXPECT_EQ(strip_ansi("end\x1b"), "end\x1b");
    EXPECT_EQ(strip_ansi("end\x1b[31"), "end");
}

}  // namespace
}  // namespace corral::output
