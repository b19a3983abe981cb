#pragma once
// Waiting for a named process's Unix socket: with a time limit, and not at all once it has died.

#include <string>
#include <string_view>

#include "corral/core/asio.hpp"
#include "corral/core/error_info.hpp"
#include "corral/proc/child.hpp"
#include "corral/runner/app_config.hpp"

namespace corral::runner {

/// errc::invalid_argument when `path` cannot name a Unix socket (empty, or too long for sun_path).
result_info<void> check_socket_path(const std::string& path);

/// Removes what is at `path` (a socket or file left by an earlier run), so the wait below does not
/// connect to it. A directory there stays, and the wait then fails clearly.
void remove_stale_socket(const std::string& path);

/**
 * Connects to `options.socket` once `child` listens there (polling every 10 ms, as the seed did),
 * and returns the connected descriptor. Fails with errc::spawn_failed as soon as the child has
 * exited, and with errc::timed_out after `options.socket_wait`; the child is then killed and reaped.
 */
net::awaitable<result_info<int>> connect_when_listening(proc::child& child,
                                                        std::string_view alias,
                                                        const app_options& options);

}  // namespace corral::runner
