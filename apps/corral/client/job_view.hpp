#pragma once

#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace corral::cli {

/// The status a shell would report for a finished job: its exit code, 128 + signal, 124 for a
/// timeout, 127/126 when it could not start.
int job_exit_status(const boost::json::object& job);
/// `corral ls`: an aligned table (ID, STATE, EXIT, OWNER, CREATED, DURATION, COMMAND).
std::string format_job_table(const boost::json::array& jobs, std::size_t width);
/// `corral show`: one "key: value" line per field.
std::string format_job_details(const boost::json::object& job);
/// The job's command as one line, arguments quoted where needed.
std::string command_line(const boost::json::object& job);

}  // namespace corral::cli
