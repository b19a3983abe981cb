#pragma once

// Shared by api_router.cpp and api_access.cpp.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "corral/auth/authority.hpp"
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

/// The caller: a bearer token (header, or `?token=` for browsers), else the Unix socket peer.
net::awaitable<result_info<auth::identity>> identify(const http::request& req,
                                                     const http::peer& who,
                                                     const target& t,
                                                     const auth::authority& auth,
                                                     net::any_io_executor blocking);

/// The HTTP reply for a refused submission: 403 forbidden, 429 queue_full, 404 task_not_found,
/// 503 not_accepting, else 400 invalid_job.
http::reply submit_error_reply(const error_info& e);

}  // namespace corral::proto
