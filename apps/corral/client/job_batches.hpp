#pragma once
// Many jobs at once from the CLI: `corral submit --each` (one job per input line, through the batch
// API in chunks) and waiting for a lot of jobs with one progress line and a summary.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options/variables_map.hpp>

#include "client/api_client.hpp"

namespace corral::cli {

/// `corral submit --each [--from FILE|-] [--wait] -- COMMAND {}`: prints the ids (or waits for them).
net::awaitable<int> submit_each(api_client& c,
                                const boost::program_options::variables_map& vm,
                                const std::vector<std::string>& command);

struct wait_options {
    bool progress = false;  ///< one line on stderr, redrawn
    bool summary = false;   ///< outcomes by state on stderr at the end
    std::optional<std::chrono::seconds> timeout;
};

/// Waits until every job in `ids` has ended (or is no longer kept). Returns the worst exit status,
/// as a shell would report it; throws command_error (124) on timeout.
net::awaitable<int> wait_for_jobs(api_client& c, std::vector<std::uint64_t> ids, wait_options options);

}  // namespace corral::cli
