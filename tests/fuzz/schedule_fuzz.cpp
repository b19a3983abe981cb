// Schedules from users (the config's [[schedule]], POST /api/v1/schedules): any cron expression or
// schedule body is read or refused with a reason, and a valid expression's next times come out in
// bounded work, in UTC and in a zone with daylight-saving changes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json/parse.hpp>

#include "corral/sched/cron.hpp"
#include "corral/services/schedules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (!text.empty() && text.front() == '{') {
        boost::system::error_code ec;
        auto v = boost::json::parse(text, ec);
        if (!ec) {
            (void)corral::services::schedule_from_json(v);
        }
        return 0;
    }
    auto e = corral::sched::cron_expr::parse(text);
    if (!e) {
        return 0;
    }
    static const auto berlin = corral::sched::time_zone::from_posix("berlin", "CET-1CEST,M3.5.0,M10.5.0/3").value();
    const auto start = corral::sched::sys_seconds(std::chrono::seconds(1'774'746'000));  // 2026-03-29, a DST day
    auto t = e->next_after(start, *corral::sched::time_zone::utc());
    for (int i = 0; i < 3 && t; ++i) {
        t = e->next_after(*t, *berlin);
    }
    return 0;
}
