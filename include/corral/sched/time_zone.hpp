#pragma once
// A time zone from the system's tz database (tzfile(5) in /usr/share/zoneinfo, Debian's tzdata),
// for schedules: the offset from UTC at any instant. libstdc++ 12 has no std::chrono::tzdb, and the
// C library's localtime_r() works in one process-wide TZ only, so the file is read here: its
// transitions (64-bit, TZif version 2 and later), then its POSIX TZ rule (the footer) for instants
// after the last one.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "corral/core/error_info.hpp"

namespace corral::sched {

using sys_seconds = std::chrono::sys_seconds;

class time_zone {
  public:
    /// UTC: no file needed.
    static std::shared_ptr<const time_zone> utc();
    /// The zone named like "Europe/Berlin" (or "UTC"), from `dir`. Errors: errc::invalid_argument
    /// for a name that is not a zone name, errc::invalid_argument also when there is no such zone.
    static result_info<std::shared_ptr<const time_zone>> load(std::string_view name,
                                                              const std::string& dir = "/usr/share/zoneinfo");
    /// The host's own zone (/etc/localtime), or UTC when it has none.
    static std::shared_ptr<const time_zone> local();
    /// A zone from a tzfile's bytes (for tests); `name` is what name() says.
    static result_info<std::shared_ptr<const time_zone>> from_tzfile(std::string name, std::string_view bytes);
    /// A zone from a POSIX TZ rule alone, such as "CET-1CEST,M3.5.0,M10.5.0/3".
    static result_info<std::shared_ptr<const time_zone>> from_posix(std::string name, std::string_view rule);

    const std::string& name() const { return name_; }
    /// Seconds east of UTC at instant `t` (CET: +3600).
    std::chrono::seconds offset_at(sys_seconds t) const;

    struct posix_rule;

  private:
    std::string name_;
    std::vector<std::int64_t> transitions_;     // instants (Unix seconds), ascending
    std::vector<std::int32_t> offsets_after_;   // the offset from each transition on
    std::int32_t initial_offset_ = 0;           // before the first transition
    std::shared_ptr<const posix_rule> rule_;    // after the last transition (none: the last offset)
};

}  // namespace corral::sched
