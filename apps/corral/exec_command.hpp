#pragma once

#include <string>
#include <vector>

namespace corral::cli {

/// `corral exec`: runs one job in this process and returns the exit status for corral.
int exec_command(const std::vector<std::string>& args);

}  // namespace corral::cli
