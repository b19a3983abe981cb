#include "corral/sched/cron.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

#include <fmt/format.h>

namespace corral::sched {
namespace {

struct field_spec {
    const char* name;
    int low, high;
    const char* const* names;  // for months and weekdays: three-letter names from `low`
};

constexpr const char* month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* weekday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr std::array<field_spec, 5> fields{{{"minute", 0, 59, nullptr},
                                            {"hour", 0, 23, nullptr},
                                            {"day of month", 1, 31, nullptr},
                                            {"month", 1, 12, month_names},
                                            {"day of week", 0, 7, weekday_names}}};

std::optional<int> value_of(std::string_view word, const field_spec& f) {
    if (f.names && word.size() == 3 && std::isalpha(static_cast<unsigned char>(word[0]))) {
        const int count = f.high - f.low + (f.names == weekday_names ? 0 : 1);
        for (int i = 0; i < count; ++i) {
            bool same = true;
            for (std::size_t k = 0; k < 3; ++k) {
                same = same && std::tolower(static_cast<unsigned char>(word[k])) == f.names[i][k];
            }
            if (same) {
                return f.low + i;
            }
        }
        return std::nullopt;
    }
    int n = 0;
    auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), n);
    if (word.empty() || ec != std::errc() || end != word.data() + word.size()) {
        return std::nullopt;
    }
    return n;
}

/// One field into `bits` (index = value). Returns an error message, or empty.
std::string read_field(std::string_view text, const field_spec& f, std::vector<bool>& bits, bool& star) {
    star = text == "*" || text == "?";
    if (text == "?") {
        text = "*";
    }
    std::string_view rest = text;
    while (true) {
        const auto comma = rest.find(',');
        const auto item = rest.substr(0, comma);
        if (item.empty()) {
            return fmt::format("{}: an empty item in '{}'", f.name, text);
        }
        auto range = item;
        int step = 1;
        if (const auto slash = item.find('/'); slash != std::string_view::npos) {
            range = item.substr(0, slash);
            auto s = value_of(item.substr(slash + 1), field_spec{f.name, 1, 0, nullptr});
            if (!s || *s < 1 || *s > f.high + 1) {
                return fmt::format("{}: '{}' is not a step from 1 to {}", f.name, item.substr(slash + 1), f.high + 1);
            }
            step = *s;
        }
        int from = f.low, to = f.high;
        if (range == "*") {
            if (f.names == weekday_names) {
                to = 6;  // 7 is Sunday again: * is 0-6
            }
        } else {
            const auto dash = range.find('-');
            auto a = value_of(range.substr(0, dash), f);
            if (!a || *a < f.low || *a > f.high) {
                return fmt::format("{}: '{}' is not a value from {} to {}{}",
                                   f.name,
                                   range.substr(0, dash),
                                   f.low,
                                   f.high,
                                   f.names ? " or a name" : "");
            }
            from = to = *a;
            if (dash != std::string_view::npos) {
                auto b = value_of(range.substr(dash + 1), f);
                if (!b || *b < f.low || *b > f.high) {
                    return fmt::format("{}: '{}' is not a value from {} to {}", f.name, range.substr(dash + 1), f.low, f.high);
                }
                if (*b < *a) {
                    return fmt::format("{}: the range {} goes backwards", f.name, range);
                }
                to = *b;
            } else if (item.find('/') != std::string_view::npos) {
                to = f.names == weekday_names ? 6 : f.high;  // "5/15": from 5 on, every 15
            }
        }
        for (int v = from; v <= to; v += step) {
            bits[static_cast<std::size_t>(v)] = true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        rest = rest.substr(comma + 1);
    }
    return {};
}

std::string_view macro(std::string_view text) {
    if (text == "@yearly" || text == "@annually")
        return "0 0 1 1 *";
    if (text == "@monthly")
        return "0 0 1 * *";
    if (text == "@weekly")
        return "0 0 * * 0";
    if (text == "@daily" || text == "@midnight")
        return "0 0 * * *";
    if (text == "@hourly")
        return "0 * * * *";
    return {};
}

struct local_time {
    std::int64_t days;  // since 1970-01-01, local
    int minute_of_day;
};

local_time local_of(sys_seconds t, const time_zone& zone) {
    const auto local = t.time_since_epoch().count() + zone.offset_at(t).count();
    const auto days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    return {days, static_cast<int>((local - days * 86400) / 60)};
}

}  // namespace

result_info<cron_expr> cron_expr::parse(std::string_view text) {
    cron_expr e;
    e.text_ = std::string(text);
    if (text.starts_with('@')) {
        auto expanded = macro(text);
        if (expanded.empty()) {
            return error_info{errc::invalid_argument,
                              fmt::format("'{}' is not one of @yearly @annually @monthly @weekly @daily @midnight @hourly", text)};
        }
        text = expanded;
    }
    std::vector<std::string_view> words;
    for (std::size_t i = 0; i < text.size();) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
            ++i;
        }
        const auto start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t') {
            ++i;
        }
        if (i > start) {
            words.push_back(text.substr(start, i - start));
        }
    }
    if (words.size() != 5) {
        return error_info{errc::invalid_argument,
                          fmt::format("'{}' has {} field(s); a cron expression has 5: minute hour day-of-month month "
                                      "day-of-week (or @hourly, @daily, ...)",
                                      e.text_,
                                      words.size())};
    }
    std::array<std::vector<bool>, 5> bits;
    std::array<bool, 5> stars{};
    for (std::size_t i = 0; i < 5; ++i) {
        bits[i].assign(static_cast<std::size_t>(fields[i].high + 1), false);
        if (auto problem = read_field(words[i], fields[i], bits[i], stars[i]); !problem.empty()) {
            return error_info{errc::invalid_argument, problem};
        }
    }
    for (std::size_t v = 0; v < 60; ++v)
        e.minutes_[v] = bits[0][v];
    for (std::size_t v = 0; v < 24; ++v)
        e.hours_[v] = bits[1][v];
    for (std::size_t v = 1; v <= 31; ++v)
        e.days_[v] = bits[2][v];
    for (std::size_t v = 1; v <= 12; ++v)
        e.months_[v] = bits[3][v];
    for (std::size_t v = 0; v <= 7; ++v)
        if (bits[4][v])
            e.weekdays_[v % 7] = true;
    e.hour_star_ = stars[1];
    e.day_star_ = stars[2];
    e.weekday_star_ = stars[4];
    return e;
}

bool cron_expr::matches(int minute, int hour, int day, int month, int weekday) const {
    if (!minutes_[static_cast<std::size_t>(minute)] || !hours_[static_cast<std::size_t>(hour)] ||
        !months_[static_cast<std::size_t>(month)]) {
        return false;
    }
    const bool day_ok = days_[static_cast<std::size_t>(day)];
    const bool weekday_ok = weekdays_[static_cast<std::size_t>(weekday)];
    if (day_star_ || weekday_star_) {
        return day_ok && weekday_ok;  // a * matches every day, so this is just the other field
    }
    return day_ok || weekday_ok;
}

std::optional<sys_seconds> cron_expr::next_after(sys_seconds t, const time_zone& zone) const {
    using std::chrono::minutes;
    // Walk forward in UTC minutes, reading each one's local time (as minutes since 1970-01-01,
    // local). Whole local days and hours that cannot match are skipped in one step, so even a rare
    // schedule costs a few thousand steps. `high` is the latest local minute already reached: a
    // local minute at or before it comes again (the clocks went back); a jump past it skips local
    // minutes (the clocks went forward).
    auto local_abs = [&](sys_seconds s) {
        const auto l = local_of(s, zone);
        return l.days * 1440 + l.minute_of_day;
    };
    // The first instant after `from` whose local time is at least `target`.
    auto first_reaching = [&](sys_seconds from, std::int64_t target) {
        auto hi = from + minutes(std::max<std::int64_t>(1, target - local_abs(from)));
        for (int i = 0; i < 8 && local_abs(hi) < target; ++i) {
            hi += minutes(target - local_abs(hi));
        }
        auto lo = from;  // local_abs(lo) < target
        while (hi - lo > minutes(1)) {
            const auto mid = lo + std::chrono::floor<minutes>((hi - lo) / 2);
            (local_abs(mid) >= target ? hi : lo) = mid;
        }
        return hi;
    };
    sys_seconds now = std::chrono::floor<minutes>(t) + minutes(1);
    const auto limit = now + std::chrono::days(366 * 8);
    std::int64_t high = local_abs(now - minutes(1));
    for (int k = 2; k <= 180; ++k) {  // a fold in the last 3 hours leaves local times already seen
        high = std::max(high, local_abs(now - minutes(k)));
    }
    auto civil = [](std::int64_t abs, int& minute, int& hour, int& day, int& month, int& weekday) {
        const auto d = abs >= 0 ? abs / 1440 : (abs - 1439) / 1440;
        const auto m = static_cast<int>(abs - d * 1440);
        const std::chrono::sys_days date{std::chrono::days{d}};
        const std::chrono::year_month_day ymd{date};
        minute = m % 60;
        hour = m / 60;
        day = static_cast<int>(static_cast<unsigned>(ymd.day()));
        month = static_cast<int>(static_cast<unsigned>(ymd.month()));
        weekday = static_cast<int>(std::chrono::weekday{date}.c_encoding());
    };
    while (now < limit) {
        const auto here = local_abs(now);
        int minute = 0, hour = 0, day = 0, month = 0, weekday = 0;
        if (here > high + 1) {
            // Local times in the jump never happen: one that matches fires now, at the change.
            for (auto skipped = high + 1; skipped < here && skipped < high + 24 * 60; ++skipped) {
                civil(skipped, minute, hour, day, month, weekday);
                if (matches(minute, hour, day, month, weekday)) {
                    return now;
                }
            }
        }
        const bool repeated = here <= high;
        civil(here, minute, hour, day, month, weekday);
        const bool day_ok = months_[static_cast<std::size_t>(month)] &&
                            (day_star_ || weekday_star_
                                 ? days_[static_cast<std::size_t>(day)] && weekdays_[static_cast<std::size_t>(weekday)]
                                 : days_[static_cast<std::size_t>(day)] || weekdays_[static_cast<std::size_t>(weekday)]);
        std::int64_t skip_to = 0;
        if (!day_ok) {
            skip_to = here - (here % 1440 + 1440) % 1440 + 1440;  // the next local midnight
        } else if (!hours_[static_cast<std::size_t>(hour)]) {
            skip_to = here - minute + 60;  // the next local hour
        } else if (minutes_[static_cast<std::size_t>(minute)] && (!repeated || hour_star_)) {
            return now;
        }
        if (skip_to > 0 && !repeated) {
            high = std::max(high, skip_to - 1);  // what lies before it cannot match
            now = first_reaching(now, skip_to);
            continue;
        }
        high = std::max(high, here);
        now += minutes(1);
    }
    return std::nullopt;
}

}  // namespace corral::sched
