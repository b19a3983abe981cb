#pragma once

// The [[service]] sections of corrald's config (docs/config.md, docs/services.md).

#include <set>
#include <string>
#include <vector>

#include "corral/services/service_def.hpp"
#include "pod/config_section.hpp"

namespace corral::pod {

/// Every [[service]], checked whole (names, dependencies, cycles); problems are added to `p`. Each
/// name also takes its place in `labels`, which components and sections share.
std::vector<services::service_def> read_services(toml::table& root, std::set<std::string>& labels, problems& p);

}  // namespace corral::pod
