#pragma once

#include <boost/json/value.hpp>

#include "corral/core/error_info.hpp"
#include "corral/services/job_request.hpp"
#include "corral/tasks/task_catalog.hpp"

namespace corral::services {

/**
 * Parses a task submission (docs/protocol.md "Tasks"): `{"task": NAME, "args": {...} | [...]}` or an
 * ad-hoc sequence `{"steps": [{"task": NAME, "args": ...}, ...], "on_failure": "stop" | "continue"}`,
 * with optional `priority`, `labels` and `idempotency_key`. Arguments are checked against the task's
 * schema; every problem is reported at once. Errors: errc::task_not_found (the message names it),
 * errc::invalid_spec.
 */
result_info<submit_request> parse_task_request(const boost::json::value& body,
                                               const tasks::task_catalog& catalog,
                                               const jobs::job_spec& defaults,
                                               const request_limits& limits = {});

/// The job request for one call of `task` with arguments as given (checked here). Errors as above.
result_info<submit_request> make_task_request(const tasks::task_catalog& catalog,
                                              const tasks::task_def& task,
                                              const boost::json::object& args,
                                              const jobs::job_spec& defaults);

/// True when `body` asks for a task (it has "task" or "steps") rather than a command.
bool is_task_request(const boost::json::value& body);

}  // namespace corral::services
