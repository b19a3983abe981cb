#pragma once
// Loading a plugin's shared library and checking that it is one corrald can use (docs/plugins.md).

#include <memory>
#include <string>

#include "corral/core/error_info.hpp"
#include "corral/plugin/plugin.hpp"

namespace corral::pod {

/// A plugin library loaded into corrald. It stays loaded until corrald exits (its code may run until
/// the very end of a stop), so nothing here unloads it.
struct loaded_plugin {
    std::string path;
    const plugin::plugin_info* info = nullptr;
};

/**
 * Where a plugin named in the config is: a name with a slash is a path (relative to `config_dir` when
 * there is a config file); a bare name ("libcorral_echo_server.so") is looked for in the installed
 * plugin directory (`<bin>/../lib/corral/plugins`), then in this build's.
 */
std::string resolve_plugin_path(const std::string& name, const std::string& config_dir);

/// The directories bare plugin names are looked for in, in order.
std::vector<std::string> plugin_search_dirs();

/**
 * Loads the library at `path` (once per path) and checks it. Errors (errc::invalid_argument), each
 * naming the file: it does not exist or cannot be loaded (dlerror's reason: a missing dependency, an
 * undefined symbol), it is not a corral plugin (no corral_plugin_abi), it was built for another ABI
 * (both tags shown), or its plugin_info is incomplete.
 */
result_info<std::shared_ptr<const loaded_plugin>> load_plugin(const std::string& path);

}  // namespace corral::pod
