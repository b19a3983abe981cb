#include "corral/proc/stop_plan.hpp"

#include <csignal>

#include <gtest/gtest.h>

#include "corral/proc/signals.hpp"

namespace corral::proc {
namespace {

using namespace std::chrono_literals;

TEST(StopPlan, DefaultIsTermThenKill) {
    stop_plan p;
    ASSERT_EQ(p.steps().size(), 2u);
    EXPECT_EQ(p.steps()[0], (stop_step{SIGTERM, 5s}));
    EXPECT_EQ(p.steps()[1].signal, SIGKILL);
}

TEST(StopPlan, AlwaysEndsInKill) {
    stop_plan p({{SIGINT, 1s}, {SIGTERM, 2s}});
    ASSERT_EQ(p.steps().size(), 3u);
    EXPECT_EQ(p.steps().back().signal, SIGKILL);
    EXPECT_EQ(stop_plan(std::vector<stop_step>{}).steps().size(), 1u);
    EXPECT_EQ(stop_plan::kill_now().steps().front().signal, SIGKILL);
}

TEST(StopPlan, ParsesTextForm) {
    auto p = stop_plan::parse("INT:2s,SIGTERM:500ms,kill:1s");
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->steps(), (std::vector<stop_step>{{SIGINT, 2s}, {SIGTERM, 500ms}, {SIGKILL, 1s}}));
    auto q = stop_plan::parse("TERM");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->steps().front(), (stop_step{SIGTERM, stop_plan::default_grace}));
    EXPECT_EQ(q->steps().back().signal, SIGKILL);
}

TEST(StopPlan, TextRoundTrips) {
    auto p = stop_plan::parse("HUP:1.5s,15:3s,KILL");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->to_string(), "HUP:1.5s,TERM:3s,KILL:2s");
    auto again = stop_plan::parse(p->to_string());
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *p);
}

TEST(StopPlan, RejectsMalformedPlansWithTheReason) {
    for (const char* bad : {"", "TERM,,KILL", "NOPE:1s", "TERM:5parsecs", "TERM:-1s", "99:1s"}) {
        auto p = stop_plan::parse(bad);
        ASSERT_FALSE(p) << bad;
        EXPECT_EQ(p.error().code, make_error_code(errc::invalid_argument));
        EXPECT_NE(p.error().message.find("stop plan"), std::string::npos);
    }
}

TEST(Signals, ParsesNamesAndNumbers) {
    EXPECT_EQ(parse_signal("TERM").value(), SIGTERM);
    EXPECT_EQ(parse_signal("sigint").value(), SIGINT);
    EXPECT_EQ(parse_signal("9").value(), SIGKILL);
    EXPECT_FALSE(parse_signal("0"));
    EXPECT_FALSE(parse_signal("SIGFOO"));
    EXPECT_EQ(signal_name(SIGUSR1), "USR1");
    EXPECT_EQ(signal_name(40), "40");
}

}  // namespace
}  // namespace corral::proc
