#pragma once
// The workflow parts of a job spec as JSON: its retry policy, its finish hook and the jobs it runs
// after. One reader serves REST requests, task requests, the config (through its JSON form) and the
// store, so every surface gives the same messages.

#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "corral/core/error_info.hpp"
#include "corral/jobs/job.hpp"

namespace corral::jobs {

/// Attempts at most in one retry policy, and ids in one `after` list.
inline constexpr unsigned max_attempts = 100;
inline constexpr std::size_t max_dependencies = 10'000;

/// `{"attempts": N, "backoff": "1s", "max_backoff": "5m", "jitter": 0.2, "on": ["failed", ...]}`;
/// a bare number N means `{"attempts": N}`. Errors: errc::invalid_spec naming the field.
result_info<retry_policy> retry_from_json(const boost::json::value& v);
boost::json::object retry_to_json(const retry_policy& r);

/// `{"command": [...], "url": "http://...", "timeout": "10s", "attempts": 3, "secret": "..."}`; a
/// string is a URL and an array a command. Errors: errc::invalid_spec naming the field.
result_info<finish_hook> hook_from_json(const boost::json::value& v);
/// `with_secret` false (what clients see): the secret shows only as `"secret": true`.
boost::json::object hook_to_json(const finish_hook& h, bool with_secret);

/// Job ids as an array of numbers or a string "12,13"; returned sorted and without repeats.
/// Errors: errc::invalid_spec.
result_info<std::vector<job_id>> ids_from_json(const boost::json::value& v);
boost::json::array ids_to_json(const std::vector<job_id>& ids);

/// The attempts that ended before the current one, for a job's JSON and the store.
boost::json::array attempts_to_json(const std::vector<attempt_record>& attempts, bool for_people);
std::vector<attempt_record> attempts_from_json(const boost::json::value& v);

}  // namespace corral::jobs
