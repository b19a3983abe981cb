#include "corral/sched/time_zone.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>

namespace corral::sched {

/// A POSIX TZ rule: "STDoffset[DST[offset][,start[/time],end[/time]]]" with "Mm.w.d" dates (the form
/// the tz database writes; the Julian "Jn" and "n" forms are read too).
struct time_zone::posix_rule {
    struct date {
        char kind = 'M';  // 'M' month.week.day, 'J' Julian day 1-365 (no Feb 29), 'D' day 0-365
        int month = 0, week = 0, day = 0;
        std::int32_t time = 7200;  // seconds after local midnight (may be negative or past 24h)
    };
    std::int32_t std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    std::int32_t dst_offset = 0;
    date start, end;

    std::int32_t offset_at(std::int64_t t) const;
};

namespace {

bool is_leap(std::int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t year_of(std::int64_t t) {
    const auto days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
    return static_cast<int>(ymd.year());
}

// Unix seconds of a rule's date in `year`, its time taken in the local time `offset` seconds east.
std::int64_t transition_in(const time_zone::posix_rule::date& d, std::int64_t year, std::int32_t offset) {
    std::int64_t day = 0;
    if (d.kind == 'M') {
        const auto first = days_from_civil(year, static_cast<unsigned>(d.month), 1);
        const int weekday_first = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
        int dom = 1 + ((d.day - weekday_first) % 7 + 7) % 7 + (d.week - 1) * 7;
        static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        const int last = month_days[d.month - 1] + (d.month == 2 && is_leap(year) ? 1 : 0);
        while (dom > last) {
            dom -= 7;  // week 5 means the last such weekday
        }
        day = first + dom - 1;
    } else if (d.kind == 'J') {
        day = days_from_civil(year, 1, 1) + d.day - 1 + (is_leap(year) && d.day >= 60 ? 1 : 0);
    } else {
        day = days_from_civil(year, 1, 1) + d.day;
    }
    return day * 86400 + d.time - offset;
}

class rule_reader {
  public:
    explicit rule_reader(std::string_view text) : s_(text) {}
    bool done() const { return i_ >= s_.size(); }
    bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
    bool take(char c) {
        if (peek(c)) {
            ++i_;
            return true;
        }
        return false;
    }
    bool name() {
        if (take('<')) {
            while (i_ < s_.size() && s_[i_] != '>') {
                ++i_;
            }
            return take('>');
        }
        const auto start = i_;
        while (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_]))) {
            ++i_;
        }
        return i_ - start >= 3;
    }
    std::optional<int> number() {
        const auto start = i_;
        int n = 0;
        while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])) && i_ - start < 4) {
            n = n * 10 + (s_[i_++] - '0');
        }
        return i_ > start ? std::optional(n) : std::nullopt;
    }
    // [+-]hh[:mm[:ss]]; POSIX offsets are west of UTC, so the sign is flipped by the caller.
    std::optional<std::int32_t> time() {
        int sign = 1;
        if (take('-')) {
            sign = -1;
        } else {
            take('+');
        }
        auto h = number();
        if (!h || *h > 167) {
            return std::nullopt;
        }
        std::int32_t seconds = *h * 3600;
        if (take(':')) {
            auto m = number();
            if (!m || *m > 59) {
                return std::nullopt;
            }
            seconds += *m * 60;
            if (take(':')) {
                auto sec = number();
                if (!sec || *sec > 59) {
                    return std::nullopt;
                }
                seconds += *sec;
            }
        }
        return sign * seconds;
    }
    std::optional<time_zone::posix_rule::date> date() {
        time_zone::posix_rule::date d;
        if (take('M')) {
            auto m = number();
            if (!m || !take('.')) {
                return std::nullopt;
            }
            auto w = number();
            if (!w || !take('.')) {
                return std::nullopt;
            }
            auto day = number();
            if (!day || *m < 1 || *m > 12 || *w < 1 || *w > 5 || *day > 6) {
                return std::nullopt;
            }
            d.month = *m;
            d.week = *w;
            d.day = *day;
        } else {
            d.kind = take('J') ? 'J' : 'D';
            auto n = number();
            if (!n || *n > 365 || (d.kind == 'J' && *n < 1)) {
                return std::nullopt;
            }
            d.day = *n;
        }
        if (take('/')) {
            auto t = time();
            if (!t) {
                return std::nullopt;
            }
            d.time = *t;
        }
        return d;
    }

  private:
    std::string_view s_;
    std::size_t i_ = 0;
};

std::optional<time_zone::posix_rule> parse_rule(std::string_view text) {
    rule_reader r(text);
    time_zone::posix_rule rule;
    if (!r.name()) {
        return std::nullopt;
    }
    auto std_west = r.time();
    if (!std_west) {
        return std::nullopt;
    }
    rule.std_offset = -*std_west;
    if (r.done()) {
        return rule;
    }
    if (!r.name()) {
        return std::nullopt;
    }
    rule.has_dst = true;
    rule.dst_offset = rule.std_offset + 3600;
    if (!r.peek(',')) {
        auto dst_west = r.time();
        if (!dst_west) {
            return std::nullopt;
        }
        rule.dst_offset = -*dst_west;
    }
    if (!r.take(',')) {
        return std::nullopt;  // a DST zone without its dates: nothing sensible to assume
    }
    auto start = r.date();
    if (!start || !r.take(',')) {
        return std::nullopt;
    }
    auto end = r.date();
    if (!end || !r.done()) {
        return std::nullopt;
    }
    rule.start = *start;
    rule.end = *end;
    return rule;
}

std::int64_t be(std::string_view b, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
        v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
    }
    if (bytes == 4) {
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    }
    return static_cast<std::int64_t>(v);
}

bool valid_zone_name(std::string_view name) {
    if (name.empty() || name.size() > 128 || name.front() == '/' || name.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+';
    });
}

}  // namespace

std::int32_t time_zone::posix_rule::offset_at(std::int64_t t) const {
    if (!has_dst) {
        return std_offset;
    }
    const auto year = year_of(t + std_offset);
    // The start is given in standard local time, the end in daylight time.
    const auto on = transition_in(start, year, std_offset);
    const auto off = transition_in(end, year, dst_offset);
    const bool in_dst = on < off ? (t >= on && t < off) : !(t >= off && t < on);  // southern zones wrap
    return in_dst ? dst_offset : std_offset;
}

std::shared_ptr<const time_zone> time_zone::utc() {
    static const auto zone = [] {
        auto z = std::make_shared<time_zone>();
        z->name_ = "UTC";
        return z;
    }();
    return zone;
}

result_info<std::shared_ptr<const time_zone>> time_zone::from_posix(std::string name, std::string_view rule) {
    auto parsed = parse_rule(rule);
    if (!parsed) {
        return error_info{errc::invalid_argument, fmt::format("'{}' is not a POSIX TZ rule", rule)};
    }
    auto z = std::make_shared<time_zone>();
    z->name_ = std::move(name);
    z->initial_offset_ = parsed->std_offset;
    z->rule_ = std::make_shared<const posix_rule>(*parsed);
    return std::shared_ptr<const time_zone>(std::move(z));
}

result_info<std::shared_ptr<const time_zone>> time_zone::from_tzfile(std::string name, std::string_view b) {
    auto damaged = [&](std::string_view why) {
        return error_info{errc::invalid_argument, fmt::format("time zone '{}': {}", name, why)};
    };
    if (b.size() < 44 || b.substr(0, 4) != "TZif") {
        return damaged("not a tzfile");
    }
    const char version = b[4];
    auto counts = [&](std::size_t at) {
        std::array<std::int64_t, 6> c{};
        for (std::size_t i = 0; i < 6; ++i) {
            c[i] = be(b, at + 20 + i * 4, 4);
        }
        return c;  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    };
    auto c = counts(0);
    std::size_t at = 44;
    int time_size = 4;
    if (version >= '2') {  // skip the 32-bit block: the 64-bit one follows with its own header
        at += static_cast<std::size_t>(c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
        if (b.size() < at + 44 || b.substr(at, 4) != "TZif") {
            return damaged("its 64-bit block is missing");
        }
        c = counts(at);
        at += 44;
        time_size = 8;
    }
    const auto timecnt = static_cast<std::size_t>(c[3]);
    const auto typecnt = static_cast<std::size_t>(c[4]);
    const auto need = timecnt * static_cast<std::size_t>(time_size) + timecnt + typecnt * 6;
    if (typecnt == 0 || c[3] < 0 || b.size() < at + need) {
        return damaged("it is cut short");
    }
    auto z = std::make_shared<time_zone>();
    z->name_ = std::move(name);
    std::vector<std::int32_t> type_offsets(typecnt);
    const auto types_at = at + timecnt * static_cast<std::size_t>(time_size) + timecnt;
    for (std::size_t i = 0; i < typecnt; ++i) {
        type_offsets[i] = static_cast<std::int32_t>(be(b, types_at + i * 6, 4));
    }
    z->initial_offset_ = type_offsets[0];
    for (std::size_t i = 0; i < timecnt; ++i) {
        const auto type = static_cast<unsigned char>(b[at + timecnt * static_cast<std::size_t>(time_size) + i]);
        if (type >= typecnt) {
            return damaged("a transition names a type it does not have");
        }
        z->transitions_.push_back(be(b, at + i * static_cast<std::size_t>(time_size), time_size));
        z->offsets_after_.push_back(type_offsets[type]);
    }
    if (version >= '2') {
        const auto footer_at = types_at + typecnt * 6 + static_cast<std::size_t>(c[5] + c[2] * 12 + c[1] + c[0]);
        if (footer_at < b.size() && b[footer_at] == '\n') {
            const auto end = b.find('\n', footer_at + 1);
            const auto footer = b.substr(footer_at + 1, end == std::string_view::npos ? std::string_view::npos : end - footer_at - 1);
            if (!footer.empty()) {
                if (auto rule = parse_rule(footer)) {
                    z->rule_ = std::make_shared<const posix_rule>(*rule);
                }
            }
        }
    }
    return std::shared_ptr<const time_zone>(std::move(z));
}

result_info<std::shared_ptr<const time_zone>> time_zone::load(std::string_view name, const std::string& dir) {
    if (name == "UTC" || name == "Etc/UTC") {
        return utc();
    }
    if (!valid_zone_name(name)) {
        return error_info{errc::invalid_argument, fmt::format("'{}' is not a time zone name (such as Europe/Berlin)", name)};
    }
    std::ifstream in(dir + "/" + std::string(name), std::ios::binary);
    if (!in) {
        return error_info{errc::invalid_argument, fmt::format("there is no time zone '{}' in {}", name, dir)};
    }
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return from_tzfile(std::string(name), bytes.str());
}

std::shared_ptr<const time_zone> time_zone::local() {
    std::ifstream in("/etc/localtime", std::ios::binary);
    if (in) {
        std::ostringstream bytes;
        bytes << in.rdbuf();
        if (auto z = from_tzfile("localtime", bytes.str())) {
            return *z;
        }
    }
    return utc();
}

std::chrono::seconds time_zone::offset_at(sys_seconds t) const {
    const auto s = t.time_since_epoch().count();
    if (transitions_.empty() || s < transitions_.front()) {
        if (transitions_.empty() && rule_) {
            return std::chrono::seconds(rule_->offset_at(s));
        }
        return std::chrono::seconds(initial_offset_);
    }
    if (s >= transitions_.back() && rule_) {
        return std::chrono::seconds(rule_->offset_at(s));
    }
    const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s);
    return std::chrono::seconds(offsets_after_[static_cast<std::size_t>(it - transitions_.begin()) - 1]);
}

}  // namespace corral::sched
