#pragma once

// The [[service]] sections of corrald's config (docs/config.md, docs/services.md).

#include <set>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "corral/services/service_def.hpp"
#include "pod/config_section.hpp"

namespace corral::pod {

/// Every [[service]], checked whole (names, dependencies, cycles); problems are added to `p`. Each
/// name also takes its place in `labels`, which components and sections share.
std::vector<services::service_def> read_services(toml::table& root, std::set<std::string>& labels, problems& p);

/// A service as `POST /api/v1/services` gives it: a JSON object with [[service]]'s keys, checked
/// the same way. Errors: errc::invalid_argument naming every problem, "; "-separated.
result_info<services::service_def> parse_service(const boost::json::object& body);

}  // namespace corral::pod
