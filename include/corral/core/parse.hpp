#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "corral/core/error_info.hpp"

namespace corral {

/// Parses a duration: a decimal number with an optional unit `ms`, `s`, `m` or `h`
/// (no unit means seconds): "250ms", "1.5s", "30", "2m". Rejects negatives, junk and overflow.
result_info<std::chrono::milliseconds> parse_duration(std::string_view text);

/// Parses a byte size: a decimal number with an optional binary unit `k`, `M`, `G`, `T`
/// (case-insensitive, an optional trailing `B` or `iB`): "4096", "64M", "1GiB".
result_info<std::uint64_t> parse_size(std::string_view text);

/// Formats a duration for people: "250ms", "1.5s", "2m".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace corral
