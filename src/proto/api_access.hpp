#pragma once

// Shared by the files of api_router (api_router.cpp, api_access.cpp, api_job_io.cpp, api_streams.cpp).

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

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

/// The body as JSON (nesting at most 32 deep); nullopt with `error` set to a 400 saying why not.
std::optional<boost::json::value> parse_json(std::string_view body, http::reply& error);

/// 415 unless the body is one of `types`. A web page's form or no-cors fetch cannot send
/// application/json, and a JSON body is never taken for text or the other way round.
std::optional<http::reply> require_body_type(const http::request& req,
                                             std::initializer_list<std::string_view> types);

/// 200/201/202 with the job's record.
http::reply job_reply(http::status status, const jobs::job& j);
/// 404 job_not_found: missing, or hidden from the caller.
http::reply not_found(jobs::job_id id);

/// The HTTP reply for a refused submission: 403 forbidden, 429 queue_full, 404 task_not_found,
/// 503 not_accepting, else 400 invalid_job.
http::reply submit_error_reply(const error_info& e);

}  // namespace corral::proto
