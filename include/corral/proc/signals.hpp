#pragma once

#include <string>
#include <string_view>

#include "corral/core/error_info.hpp"

namespace corral::proc {

/// Parses a signal given as a name ("TERM", "SIGTERM", "term") or a number ("15").
result_info<int> parse_signal(std::string_view text);

/// The signal's short name ("TERM"), or its number as text when it has no name.
std::string signal_name(int signal);

}  // namespace corral::proc
