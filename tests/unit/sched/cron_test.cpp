// cron_expr against cron(5)'s grammar and its time-zone rules, on a fake clock: each case names the
// instant it starts from, in UTC, and the instant the expression must fire next.
#include <gtest/gtest.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "corral/sched/cron.hpp"
#include "corral/sched/time_zone.hpp"

namespace corral::sched {
namespace {

using namespace std::chrono;

sys_seconds at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
    return sys_days{year{y} / month{mo} / day{d}} + hours(h) + minutes(mi);
}

std::string text(std::optional<sys_seconds> t) {
    return t ? fmt::format("{:%F %R}", *t) : "never";
}

std::string next(std::string_view expr, sys_seconds from, const time_zone& zone = *time_zone::utc()) {
    auto e = cron_expr::parse(expr);
    if (!e) {
        return "error: " + e.error().what();
    }
    return text(e->next_after(from, zone));
}

const time_zone& zone(std::string_view name) {
    static std::map<std::string, std::shared_ptr<const time_zone>, std::less<>> zones;
    auto it = zones.find(name);
    if (it == zones.end()) {
        it = zones.emplace(std::string(name), time_zone::load(name).value()).first;
    }
    return *it->second;
}

TEST(Cron, FieldsListsRangesAndSteps) {
    EXPECT_EQ(next("*/5 * * * *", at(2026, 5, 4, 10, 2)), "2026-05-04 10:05");
    EXPECT_EQ(next("*/5 * * * *", at(2026, 5, 4, 10, 5)), "2026-05-04 10:10") << "strictly after";
    EXPECT_EQ(next("* * * * *", at(2026, 5, 4, 23, 59)), "2026-05-05 00:00");
    auto e = cron_expr::parse("1-10/3,30 * * * *").value();
    std::vector<int> minutes;
    for (int m = 0; m < 60; ++m) {
        if (e.matches(m, 0, 1, 1, 4)) {
            minutes.push_back(m);
        }
    }
    EXPECT_EQ(minutes, (std::vector<int>{1, 4, 7, 10, 30}));
    EXPECT_EQ(next("5/20 * * * *", at(2026, 5, 4, 10, 30)), "2026-05-04 10:45") << "5/20: 5, 25, 45";
    EXPECT_EQ(next("0 */6 * * *", at(2026, 5, 4, 7, 0)), "2026-05-04 12:00");
    EXPECT_EQ(next("15 14 1 * *", at(2026, 5, 4)), "2026-06-01 14:15");
    EXPECT_EQ(next("0 0 1 1 *", at(2026, 5, 4)), "2027-01-01 00:00");
}

TEST(Cron, NamesAreCaseInsensitiveAndSundayIsZeroOrSeven) {
    // 2026-05-04 is a Monday.
    EXPECT_EQ(next("0 9 * * mon-fri", at(2026, 5, 8, 10)), "2026-05-11 09:00") << "Friday 10:00 → Monday";
    EXPECT_EQ(next("0 9 * JAN,Jul *", at(2026, 5, 4)), "2026-07-01 09:00");
    EXPECT_EQ(next("0 0 * * 0", at(2026, 5, 4)), "2026-05-10 00:00");
    EXPECT_EQ(next("0 0 * * 7", at(2026, 5, 4)), "2026-05-10 00:00");
    EXPECT_EQ(next("0 0 * * sun", at(2026, 5, 4)), "2026-05-10 00:00");
    EXPECT_EQ(next("0 0 * * 5-7", at(2026, 5, 4)), "2026-05-08 00:00") << "Friday to Sunday";
}

TEST(Cron, DayOfMonthAndDayOfWeekMatchEitherWhenBothAreRestricted) {
    // cron(5): "0 0 13 * fri" runs on every 13th AND every Friday.
    EXPECT_EQ(next("0 0 13 * fri", at(2026, 5, 4)), "2026-05-08 00:00") << "a Friday before the 13th";
    EXPECT_EQ(next("0 0 13 * fri", at(2026, 5, 10)), "2026-05-13 00:00") << "the 13th, a Wednesday";
    // With one of them *, only the other counts.
    EXPECT_EQ(next("0 0 13 * *", at(2026, 5, 4)), "2026-05-13 00:00");
    EXPECT_EQ(next("0 0 * * fri", at(2026, 5, 9)), "2026-05-15 00:00");
    EXPECT_EQ(next("0 0 */10 * mon", at(2026, 5, 4, 1)), "2026-05-11 00:00") << "1, 11, 21, 31 or Mondays";
}

TEST(Cron, MacrosLeapDaysAndDaysThatNeverCome) {
    EXPECT_EQ(next("@hourly", at(2026, 5, 4, 10, 2)), "2026-05-04 11:00");
    EXPECT_EQ(next("@daily", at(2026, 5, 4, 10)), "2026-05-05 00:00");
    EXPECT_EQ(next("@midnight", at(2026, 5, 4, 10)), "2026-05-05 00:00");
    EXPECT_EQ(next("@weekly", at(2026, 5, 4)), "2026-05-10 00:00");
    EXPECT_EQ(next("@monthly", at(2026, 5, 4)), "2026-06-01 00:00");
    EXPECT_EQ(next("@yearly", at(2026, 5, 4)), "2027-01-01 00:00");
    EXPECT_EQ(next("@annually", at(2026, 5, 4)), "2027-01-01 00:00");
    EXPECT_EQ(next("0 0 29 2 *", at(2026, 5, 4)), "2028-02-29 00:00");
    EXPECT_EQ(next("0 0 31 4 *", at(2026, 5, 4)), "never") << "April has 30 days";
    EXPECT_EQ(next("0 0 30 2 *", at(2026, 5, 4)), "never");
}

TEST(Cron, MalformedExpressionsAreRefusedWithTheFieldNamed) {
    for (auto [expr, message] : std::initializer_list<std::pair<const char*, const char*>>{
             {"* * * *", "has 4 field(s)"},
             {"* * * * * *", "has 6 field(s)"},
             {"60 * * * *", "minute: '60' is not a value from 0 to 59"},
             {"* 24 * * *", "hour: '24'"},
             {"* * 0 * *", "day of month: '0'"},
             {"* * * 13 *", "month: '13'"},
             {"* * * * 8", "day of week: '8'"},
             {"*/0 * * * *", "minute: '0' is not a step"},
             {"5-1 * * * *", "the range 5-1 goes backwards"},
             {"1,,2 * * * *", "an empty item"},
             {"* * * foo *", "month: 'foo'"},
             {"* * * * funday", "day of week: 'funday'"},
             {"-1 * * * *", "minute: ''"},
             {"@fortnightly", "is not one of @yearly"},
             {"", "has 0 field(s)"}}) {
        auto e = cron_expr::parse(expr);
        ASSERT_FALSE(e) << expr;
        EXPECT_NE(e.error().what().find(message), std::string::npos) << expr << " → " << e.error().what();
    }
}

TEST(Cron, ItRunsInItsTimeZone) {
    // 09:00 in Berlin is 08:00 UTC in winter (CET) and 07:00 UTC in summer (CEST).
    EXPECT_EQ(next("0 9 * * *", at(2026, 1, 10), zone("Europe/Berlin")), "2026-01-10 08:00");
    EXPECT_EQ(next("0 9 * * *", at(2026, 7, 10), zone("Europe/Berlin")), "2026-07-10 07:00");
    EXPECT_EQ(next("0 9 * * *", at(2026, 7, 10), zone("America/New_York")), "2026-07-10 13:00");
    // The local date decides the day: 23:30 UTC Sunday is already Monday in Tokyo.
    EXPECT_EQ(next("0 8 * * mon", at(2026, 5, 3, 12), zone("Asia/Tokyo")), "2026-05-03 23:00");
}

TEST(Cron, ALocalTimeTheClocksSkipFiresOnceAtTheChange) {
    // Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC; 02:30 never happens.
    const auto& berlin = zone("Europe/Berlin");
    EXPECT_EQ(next("30 2 * * *", at(2026, 3, 28, 23), berlin), "2026-03-29 01:00");
    EXPECT_EQ(next("30 2 * * *", at(2026, 3, 29, 1), berlin), "2026-03-30 00:30") << "then as usual, in CEST";
    EXPECT_EQ(next("0 3 * * *", at(2026, 3, 28, 23), berlin), "2026-03-29 01:00") << "03:00 CEST is the change itself";
    // New York, 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
    EXPECT_EQ(next("15 2 * * *", at(2026, 3, 8, 0), zone("America/New_York")), "2026-03-08 07:00");
}

TEST(Cron, ALocalTimeThatComesTwiceFiresOnceUnlessTheHourIsAny) {
    // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:00-02:59 come twice.
    const auto& berlin = zone("Europe/Berlin");
    EXPECT_EQ(next("30 2 * * *", at(2026, 10, 24, 23), berlin), "2026-10-25 00:30") << "the first 02:30 (CEST)";
    EXPECT_EQ(next("30 2 * * *", at(2026, 10, 25, 0, 30), berlin), "2026-10-26 01:30") << "not the second 02:30";
    // Every 30 minutes keeps its pace through the repeated hour.
    std::vector<std::string> fires;
    auto every = cron_expr::parse("*/30 * * * *").value();
    auto t = at(2026, 10, 24, 23, 59);
    for (int i = 0; i < 5; ++i) {
        t = *every.next_after(t, berlin);
        fires.push_back(fmt::format("{:%R}", t));
    }
    EXPECT_EQ(fires, (std::vector<std::string>{"00:00", "00:30", "01:00", "01:30", "02:00"}));
    // New York, 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00 UTC.
    EXPECT_EQ(next("30 1 * * *", at(2026, 11, 1, 6), zone("America/New_York")), "2026-11-02 06:30");
}

TEST(Cron, SouthernZonesAndDatesPastTheZoneFilesTransitions) {
    // Sydney: daylight time from the first Sunday of October to the first Sunday of April.
    EXPECT_EQ(next("0 12 * * *", at(2026, 1, 10), zone("Australia/Sydney")), "2026-01-10 01:00") << "AEDT, +11";
    EXPECT_EQ(next("0 12 * * *", at(2026, 7, 10), zone("Australia/Sydney")), "2026-07-10 02:00") << "AEST, +10";
    // 2050 is past the transitions a tzfile lists: its POSIX rule takes over.
    EXPECT_EQ(zone("Europe/Berlin").offset_at(at(2050, 7, 1)), seconds(7200));
    EXPECT_EQ(zone("Europe/Berlin").offset_at(at(2050, 12, 1)), seconds(3600));
    EXPECT_EQ(next("0 9 * * *", at(2050, 7, 1), zone("Europe/Berlin")), "2050-07-01 07:00");
}

TEST(TimeZone, NamesAreCheckedAndRulesRead) {
    EXPECT_FALSE(time_zone::load("../../etc/passwd"));
    EXPECT_EQ(time_zone::load("../../etc/passwd").error().code, errc::invalid_argument);
    EXPECT_NE(time_zone::load("Mars/Olympus").error().what().find("there is no time zone"), std::string::npos);
    EXPECT_FALSE(time_zone::from_tzfile("x", "not a tzfile"));
    auto rule = time_zone::from_posix("x", "EST5EDT,M3.2.0,M11.1.0").value();
    EXPECT_EQ(rule->offset_at(at(2031, 1, 15)), hours(-5));
    EXPECT_EQ(rule->offset_at(at(2031, 7, 15)), hours(-4));
    EXPECT_EQ(time_zone::from_posix("x", "<+0330>-3:30").value()->offset_at(at(2031, 1, 1)), minutes(210));
    EXPECT_FALSE(time_zone::from_posix("x", "CET-1CEST"));
    EXPECT_EQ(time_zone::utc()->offset_at(at(2031, 1, 1)), seconds(0));
}

}  // namespace
}  // namespace corral::sched
