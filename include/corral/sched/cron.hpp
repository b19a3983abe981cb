#pragma once
// Cron expressions as cron(5) has them: five fields (minute hour day-of-month month day-of-week)
// with lists, ranges, steps and names, or one of @yearly @annually @monthly @weekly @daily
// @midnight @hourly; and when one next fires in a time zone. Debian packages no C/C++ cron
// library, so this is ours; tests/unit/sched/cron_test.cpp holds it to the grammar.

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "corral/core/error_info.hpp"
#include "corral/sched/time_zone.hpp"

namespace corral::sched {

class cron_expr {
  public:
    /// Errors: errc::invalid_argument naming the field and what is wrong with it.
    static result_info<cron_expr> parse(std::string_view text);

    /// The first instant after `t` (whole minutes) at which it fires in `zone`; none within 8
    /// years (a day that never comes: "0 0 30 2 *").
    ///
    /// Daylight-saving time, as cron(8) does it: a local time that a change skips (02:30 when the
    /// clocks jump from 02:00 to 03:00) fires once, at the change; a local time that comes twice
    /// (the hour after the clocks go back) fires once, the first time, unless the hour field is `*`
    /// (then both times round, as an every-N-minutes schedule should).
    std::optional<sys_seconds> next_after(sys_seconds t, const time_zone& zone) const;

    /// Whether a local date and time matches (`weekday` 0 = Sunday). Day of month and day of week
    /// combine as cron(5) says: when both are restricted (neither is `*`), either may match.
    bool matches(int minute, int hour, int day, int month, int weekday) const;

    const std::string& text() const { return text_; }

  private:
    std::string text_;
    std::bitset<60> minutes_;
    std::bitset<24> hours_;
    std::bitset<32> days_;    // 1-31
    std::bitset<13> months_;  // 1-12
    std::bitset<7> weekdays_;  // 0-6, Sunday 0 (7 is read as 0)
    bool day_star_ = false;
    bool weekday_star_ = false;
    bool hour_star_ = false;
};

}  // namespace corral::sched
