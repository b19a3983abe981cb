#pragma once
// An HTTP(S) POST the daemon makes (finish hooks), as the job service asks for it. The service
// names the request; the transport that sends it (src/net/webhook_post.cpp, Beast) is given to it
// by corrald's main, so libcorral carries no HTTP client of its own (and this header is installed
// with the service's).

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
