#pragma once

// The [[console]] sections of corrald's config (docs/config.md, docs/console.md).

#include <set>
#include <string>

#include "pod/config_section.hpp"

namespace corral::pod {

struct daemon_config;

/// Every [[console]] into `c.consoles` (load_config adds one labelled "console" on
/// `unix:<state_dir>/console.sock` when the file has none). Labels join `labels`.
void read_consoles(toml::table& root, daemon_config& c, std::set<std::string>& labels, problems& p);

}  // namespace corral::pod
