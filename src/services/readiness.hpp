#pragma once
// Whether a service's run is ready: its socket or port accepts, or a line of its output matches.

#include <string>

#include "corral/core/asio.hpp"
#include "corral/jobs/job.hpp"
#include "corral/services/service_def.hpp"

namespace corral::services {

/// What a readiness check found.
struct ready_outcome {
    bool ready = false;
    std::string detail;  ///< "port 127.0.0.1:8080 accepts", "line 'listening on 8080'", or why not
};

/**
 * Waits until `j` is ready by `check`, or until its output ends (its process is gone), or until
 * `check.timeout`. Polls sockets and ports every 20 ms; reads lines as they come.
 */
net::awaitable<ready_outcome> wait_ready(const readiness& check, jobs::job& j);

}  // namespace corral::services
