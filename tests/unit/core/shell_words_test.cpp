// split_shell_words() against what Python's shlex.split() gives for the same lines.
#include <gtest/gtest.h>

#include "corral/core/shell_words.hpp"

namespace corral {
namespace {

using words = std::vector<std::string>;

words split(std::string_view line) {
    auto r = split_shell_words(line);
    EXPECT_TRUE(r) << line;
    return r ? *r : words{"<error>"};
}

TEST(ShellWords, BlanksSeparateAndRunsOfThemCountOnce) {
    EXPECT_EQ(split("  cat   -n\tfile\n"), (words{"cat", "-n", "file"}));
    EXPECT_EQ(split(""), words{});
    EXPECT_EQ(split(" \t "), words{});
}

TEST(ShellWords, QuotesAsShlexReadsThem) {
    EXPECT_EQ(split("echo 'a b' \"c d\""), (words{"echo", "a b", "c d"}));
    EXPECT_EQ(split("a'b'\"c\"d"), (words{"abcd"}));
    EXPECT_EQ(split("x '' \"\""), (words{"x", "", ""}));
    EXPECT_EQ(split(R"('a\b' "a\b" "q\"q" "s\\s")"), (words{R"(a\b)", R"(a\b)", "q\"q", R"(s\s)"}));
    EXPECT_EQ(split(R"(a\ b \'c)"), (words{"a b", "'c"}));
    EXPECT_EQ(split("#not-a-comment $HOME ~ *"), (words{"#not-a-comment", "$HOME", "~", "*"}));
}

TEST(ShellWords, UnbalancedQuotesAndATrailingBackslashAreErrors) {
    for (const char* bad : {"echo 'open", "echo \"open", "echo \"esc\\\"", "end\\"}) {
        auto r = split_shell_words(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, make_error_code(errc::invalid_argument));
        EXPECT_FALSE(r.error().message.empty());
    }
}

TEST(ShellWords, QuotedWordsSplitBackToThemselves) {
    for (std::string w : {"plain", "", "two words", "it's", "a\"b", "$x", "back\\slash"}) {
        EXPECT_EQ(split(quote_shell_word(w)), words{w}) << quote_shell_word(w);
    }
}

}  // namespace
}  // namespace corral
