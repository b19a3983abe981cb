#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "corral/core/error_info.hpp"
#include "corral/jobs/job.hpp"

namespace corral::jobs {

/// The whole spec as JSON, for the durable store: spec_from_json() reads it back to an equal spec.
/// This is a storage form, not the API's submit body (services/job_request.hpp parses that).
boost::json::object spec_to_json(const job_spec& spec);
/// Errors: errc::invalid_argument naming the field that is missing or has the wrong type.
result_info<job_spec> spec_from_json(const boost::json::value& v);

/// An exit status as `{"code": N}` or `{"signal": N, "core_dumped": B}`, and back.
boost::json::value exit_to_json(const std::optional<proc::exit_status>& status);
std::optional<proc::exit_status> exit_from_json(const boost::json::value& v);

}  // namespace corral::jobs
