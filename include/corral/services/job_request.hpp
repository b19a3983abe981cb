#pragma once

#include <boost/json/value.hpp>

#include "corral/core/error_info.hpp"
#include "corral/services/job_service.hpp"

namespace corral::services {

/// The priorities a request may ask for (ASEXOR's scale: 0 runs first, 9 last).
inline constexpr int min_priority = 0;
inline constexpr int max_priority = 9;

/// Limits on what a client may ask for in one job request.
struct request_limits {
    std::size_t max_argv = 4096;
    std::size_t max_string = 64 * 1024;
    std::size_t max_env = 4096;
    std::size_t max_labels = 64;
};

/**
 * Parses the body of `POST /api/v1/jobs` (docs/protocol.md lists the fields). Every problem is
 * reported at once, each with its field: "command: must be a non-empty array of strings; timeout:
 * invalid duration 'soon'". Unknown fields are errors. Errors: errc::invalid_spec.
 */
result_info<submit_request> parse_job_request(const boost::json::value& body,
                                              const jobs::job_spec& defaults,
                                              const request_limits& limits = {});

/// The workflow fields of a job or task request (`retry`, `after`, `after_ok`, `after_any`,
/// `on_finish`), into `request.spec`; each problem is added to `problems` ("; " between them).
void read_workflow(const boost::json::object& body, submit_request& request, std::string& problems);

}  // namespace corral::services
