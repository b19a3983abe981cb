#pragma once
// An HTTP(S) POST the daemon makes (finish hooks), as the core asks for it. The core names the
// request; the transport that sends it (net/webhook_post.cpp, Beast) is given to it by the pod, so
// the engine library carries no HTTP client of its own.

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "corral/core/asio.hpp"
#include "corral/core/error_info.hpp"

namespace corral::http {

struct post_request {
    std::string url;  ///< http://host[:port]/path or https://…
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds timeout{10'000};  ///< for everything: resolve, connect, TLS, write, read
};

/// Sends one POST; returns the reply's status code, whatever it is.
using post_sender = std::function<net::awaitable<result_info<unsigned>>(post_request)>;

}  // namespace corral::http
