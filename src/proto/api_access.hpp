#pragma once

// Shared by api_router.cpp and api_access.cpp.

#include "corral/auth/authority.hpp"
#include "corral/net/http_types.hpp"
#include "corral/proto/http_replies.hpp"

namespace corral::proto {

/// The caller: a bearer token (header, or `?token=` for browsers), else the Unix socket peer.
result_info<auth::identity> identify(const http::request& req,
                                     const http::peer& who,
                                     const target& t,
                                     const auth::authority& auth);

/// The HTTP reply for a refused submission: 403 forbidden, 429 queue_full, 404 task_not_found,
/// 503 not_accepting, else 400 invalid_job.
http::reply submit_error_reply(const error_info& e);

}  // namespace corral::proto
