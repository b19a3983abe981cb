#pragma once

// The [[component]] sections of corrald's config: components from plugins (docs/plugins.md).

#include <set>
#include <string>

#include "pod/config_section.hpp"

namespace corral::pod {

struct daemon_config;

/// Every [[component]] into `c.components`: its plugin loaded and checked, and its keys validated by
/// the plugin (each problem reported with the rest). Labels join `labels`.
void read_plugin_components(toml::table& root,
                            daemon_config& c,
                            std::set<std::string>& labels,
                            const std::string& config_dir,
                            problems& p);

}  // namespace corral::pod
