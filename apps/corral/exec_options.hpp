#pragma once

#include <string>
#include <vector>

#include "corral/core/error_info.hpp"
#include "corral/jobs/job.hpp"
#include "corral/proc/launcher.hpp"

namespace corral::cli {

/// `corral exec` options, validated.
struct exec_options {
    jobs::job_spec spec;
    proc::tree_mode tree = proc::tree_mode::automatic;
    std::string output_file;
    bool forward_stdin = false;
    bool quiet = false;
    bool json = false;
    bool verbose = false;
    bool help = false;
};

/**
 * Parses the arguments after `exec`. Options end at `--` or at the first argument that is not an
 * option, so `corral exec ls -la` and `corral exec -- ls -la` both work. Every problem is a
 * errc::invalid_argument with a message naming the option.
 */
result_info<exec_options> parse_exec_options(const std::vector<std::string>& args);

/// The `corral exec --help` text.
std::string exec_usage();

}  // namespace corral::cli
