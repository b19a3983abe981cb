#pragma once

// The [[schedule]] sections of corrald's config (docs/config.md), read through the same reader as
// POST /api/v1/schedules.

#include <vector>

#include "corral/services/schedules.hpp"
#include "pod/config_section.hpp"

namespace corral::pod {

/// Every [[schedule]]; problems are added to `p` with their key paths.
std::vector<services::schedule_def> read_schedules(toml::table& root, problems& p);

}  // namespace corral::pod
