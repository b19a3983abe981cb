#include "corral/output/table.hpp"

#include <gtest/gtest.h>

namespace corral::output {
namespace {

using row = std::vector<std::string>;

TEST(ParseTable, RightAlignedColumnsLikePs) {
    auto t = parse_table(
        "    PID TTY          TIME CMD\n"
        "      1 ?        00:00:03 systemd\n"
        "  12345 pts/0    00:00:00 bash -l\n");
    EXPECT_EQ(t.columns, (row{"pid", "tty", "time", "cmd"}));
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.rows[0], (row{"1", "?", "00:00:03", "systemd"}));
    EXPECT_EQ(t.rows[1], (row{"12345", "pts/0", "00:00:00", "bash -l"}));
}

TEST(ParseTable, MultiWordHeadersLikeDocker) {
    auto t = parse_table(
        "CONTAINER ID   IMAGE     IMAGE ID   STATUS\n"
        "4f2a9c1b7d3e   nginx     abc        Up 2 hours\n");
    EXPECT_EQ(t.columns, (row{"container id", "image", "image id", "status"}));
    ASSERT_EQ(t.rows.size(), 1u);
    EXPECT_EQ(t.rows[0], (row{"4f2a9c1b7d3e", "nginx", "abc", "Up 2 hours"}));
}

TEST(ParseTable, AconsMisplacedSubstringHeaderIsRight) {
    // acons finds column starts with header.index(token): "use" is found inside "user".
    auto t = parse_table(
        "user  use\n"
        "bob   yes\n");
    EXPECT_EQ(t.columns, (row{"user", "use"}));
    EXPECT_EQ(t.rows[0], (row{"bob", "yes"}));
}

TEST(ParseTable, TabSeparated) {
    auto t = parse_table("Name\tSize\tNote\nfile a\t10\t\nfile b\t20\tx\ty\nshort\n");
    EXPECT_EQ(t.columns, (row{"name", "size", "note"}));
    ASSERT_EQ(t.rows.size(), 3u);
    EXPECT_EQ(t.rows[0], (row{"file a", "10", ""}));
    EXPECT_EQ(t.rows[1], (row{"file b", "20", "x\ty"}));
    EXPECT_EQ(t.rows[2], (row{"short", "", ""}));
}

TEST(ParseTable, RaggedRowsGetEmptyCells) {
    auto t = parse_table("A    B    C\n1    2    3\n4\n\n5    6\r\n");
    ASSERT_EQ(t.rows.size(), 3u);
    EXPECT_EQ(t.rows[1], (row{"4", "", ""}));
    EXPECT_EQ(t.rows[2], (row{"5", "6", ""}));
}

TEST(ParseTable, EmptyOutputIsAnEmptyTable) {
    auto t = parse_table("");
    EXPECT_TRUE(t.columns.empty());
    EXPECT_TRUE(t.rows.empty());
    EXPECT_TRUE(parse_table("\n  \n").columns.empty());
    auto header_only = parse_table("NAME  SIZE\n");
    EXPECT_EQ(header_only.columns, (row{"name", "size"}));
    EXPECT_TRUE(header_only.rows.empty());
}

TEST(ParseTable, RepeatedNamesAreMadeUnique) {
    auto t = parse_table("x  x  y  x\n1  2  3  4\n");
    EXPECT_EQ(t.columns, (row{"x", "x_2", "y", "x_3"}));
}

}  // namespace
}  // namespace corral::output
