#pragma once

#include <string>

#include <boost/json/object.hpp>

#include "corral/jobs/job.hpp"

namespace corral::jobs {

/**
 * A job as JSON, the shape every surface uses (docs/exec.md shows it):
 * `{"id", "owner", "state", "reason", "pid", "command" | "shell", "cwd", "created", "started",
 *   "finished", "duration_ms", "exit": {"code"} | {"signal", "signal_number", "core_dumped"} | null,
 *   "output": {"bytes", "dropped", "discarded"}, "labels"}`. Times are RFC 3339 UTC with milliseconds.
 */
boost::json::object to_json(const job& j);

/// "2026-11-23T18:01:29.123Z"
std::string format_time(clock::time_point t);

}  // namespace corral::jobs
