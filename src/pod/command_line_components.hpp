#pragma once
// Components given on corrald's command line (os-aio-pod's `KIND:key=value,...` arguments, done
// right): each becomes one more table of the config's [[KIND]] array, after those from the file,
// and is then validated with the rest, its values typed by the component's own keys.

#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "corral/core/error_info.hpp"

namespace corral::pod {

/// A component kind that can be given on the command line, and its keys, for `corrald components`.
struct component_kind {
    std::string_view name;     ///< "http", "console", "service", "asexor.raw", ...
    std::string_view summary;
    std::string_view keys;     ///< the keys, as docs/config.md lists them
};
const std::vector<component_kind>& component_kinds();

/**
 * Appends `KIND:key=value,key2=value2` to `root`'s [[KIND]] array. `\,` and `\=` stand for a comma
 * and an equals sign inside a key or value, `\\` for a backslash. A value is read as TOML when it
 * parses as one (`8`, `true`, `["a", "b"]`), otherwise as a string, so keys get the types the
 * component expects. Errors (errc::invalid_argument) name the argument: an unknown kind, a pair
 * without `=`, an empty key, a key given twice.
 */
result_info<void> add_command_line_component(toml::table& root, std::string_view argument);

}  // namespace corral::pod
