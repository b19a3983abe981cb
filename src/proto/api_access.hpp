#pragma once

// Shared by the files of api_router (api_router.cpp, api_access.cpp, api_job_io.cpp, api_streams.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "corral/auth/authority.hpp"
#include "corral/jobs/job.hpp"
#include "corral/net/http_types.hpp"
#include "corral/proto/http_replies.hpp"

namespace corral::proto {

std::optional<std::uint64_t> to_number(std::string_view text);
/// A numeric query parameter within [min, max] (`fallback` when absent); `error` says which and why
/// when it is not a number in range.
std::optional<std::uint64_t> number_param(const target& t,
                                          std::string_view key,
                                          std::uint64_t fallback,
                                          std::uint64_t min,
                                          std::uint64_t max,
                                          std::string& error);

/// 200/201/202 with the job's record.
http::reply job_reply(http::status status, const jobs::job& j);
/// 404 job_not_found: missing, or hidden from the caller.
http::reply not_found(jobs::job_id id);

/// The HTTP reply for a refused submission: 403 forbidden, 429 queue_full, 404 task_not_found,
/// 503 not_accepting, else 400 invalid_job.
http::reply submit_error_reply(const error_info& e);

}  // namespace corral::proto
