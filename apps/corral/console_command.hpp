#pragma once
// `corral console`: the operator console of a running corrald, with line editing and history.

#include <string>
#include <vector>

namespace corral::cli {

/// Runs `corral console [options]`; returns the exit status.
int console_command(const std::vector<std::string>& args);

}  // namespace corral::cli
