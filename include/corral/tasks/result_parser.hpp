#pragma once

#include <string_view>

#include <boost/json/value.hpp>

#include "corral/core/error_info.hpp"
#include "corral/tasks/task_def.hpp"

namespace corral::tasks {

/// Makes a task's `result` from its stdout. Errors: errc::invalid_argument saying what did not parse
/// ("not valid JSON: ...", "pattern '(\\d+) ms' did not match").
result_info<boost::json::value> parse_result(const result_parser& parser, std::string_view stdout_text);

}  // namespace corral::tasks
