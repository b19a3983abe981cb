#include "corral/core/parse.hpp"

#include <gtest/gtest.h>

namespace corral {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsUnits) {
    EXPECT_EQ(parse_duration("250ms").value(), 250ms);
    EXPECT_EQ(parse_duration("1.5s").value(), 1500ms);
    EXPECT_EQ(parse_duration("30").value(), 30s);
    EXPECT_EQ(parse_duration("2m").value(), 120s);
    EXPECT_EQ(parse_duration("1h").value(), 3600s);
    EXPECT_EQ(parse_duration("0").value(), 0ms);
}

TEST(ParseDuration, RejectsJunkWithTheReason) {
    for (const char* bad : {"", "-1s", "abc", "5 parsecs", "1e400", "1..2s", "5d"}) {
        auto d = parse_duration(bad);
        ASSERT_FALSE(d) << bad;
        EXPECT_NE(d.error().message.find("duration"), std::string::npos) << d.error().message;
    }
}

TEST(ParseSize, AcceptsBinaryUnits) {
    EXPECT_EQ(parse_size("4096").value(), 4096u);
    EXPECT_EQ(parse_size("64M").value(), 64u << 20);
    EXPECT_EQ(parse_size("1GiB").value(), 1u << 30);
    EXPECT_EQ(parse_size("512kb").value(), 512u << 10);
    EXPECT_EQ(parse_size("1.5k").value(), 1536u);
}

TEST(ParseSize, RejectsJunk) {
    for (const char* bad : {"", "M", "-5", "12Q", "99999999999T"}) {
        EXPECT_FALSE(parse_size(bad)) << bad;
    }
}

TEST(FormatDuration, IsReadable) {
    EXPECT_EQ(format_duration(250ms), "250ms");
    EXPECT_EQ(format_duration(5s), "5s");
    EXPECT_EQ(format_duration(1500ms), "1.5s");
    EXPECT_EQ(format_duration(120s), "2m");
}

}  // namespace
}  // namespace corral
