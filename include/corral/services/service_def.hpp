#pragma once
// A long-running named process the daemon keeps alive (`[[service]]`, docs/services.md): what to run,
// when to restart it, when it counts as ready, and what it must wait for.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "corral/core/error_info.hpp"
#include "corral/proc/spawn_options.hpp"
#include "corral/proc/stop_plan.hpp"
#include "corral/tasks/pattern.hpp"

namespace corral::services {

enum class restart_policy {
    never,       ///< it runs once
    on_failure,  ///< again after a failure (a non-zero exit, a signal, a readiness time-out)
    always,      ///< again after any exit, until stopped
};

/// How restarts are spaced: initial × factor^(n-1), at most `max`, each scaled by a random factor in
/// [1 - jitter, 1 + jitter] so that services that failed together do not restart together.
struct backoff_policy {
    std::chrono::milliseconds initial{1000};
    std::chrono::milliseconds max{60'000};
    double factor = 2.0;
    double jitter = 0.2;
    /// Restarts in a row after which the service is given up (`failed`); 0 never gives up.
    unsigned give_up_after = 10;
    /// A run at least this long was healthy: the next failure starts the count (and delay) over.
    std::chrono::milliseconds reset_after{60'000};
};

/// When a started service counts as ready, which its dependents wait for.
enum class ready_check {
    started,  ///< as soon as its process runs
    socket,   ///< a Unix socket at `socket` accepts a connection
    port,     ///< a TCP port on `host` accepts a connection
    line,     ///< a line of its output matches `pattern` (RE2, searched anywhere in the line)
};

struct readiness {
    ready_check kind = ready_check::started;
    std::string socket;
    std::string host = "127.0.0.1";
    unsigned short port = 0;
    std::shared_ptr<const tasks::pattern> pattern;
    /// Not ready by then: the run counts as failed (and is stopped).
    std::chrono::milliseconds timeout{30'000};
};

struct service_def {
    std::string name;
    std::string description;
    /// Program and arguments; no shell.
    std::vector<std::string> command;
    std::string cwd;
    proc::environment env;
    /// Its stdin is a pipe that operators write to (`corral svc stdin`); false: /dev/null.
    bool stdin_pipe = true;
    /// stderr joins stdout in one stream, in arrival order.
    bool merge = true;
    bool pty = false;
    restart_policy restart = restart_policy::on_failure;
    backoff_policy backoff;
    readiness ready;
    /// Services that must be ready before this one starts; it stops before them.
    std::vector<std::string> after;
    proc::stop_plan stop;
    /// Started with corrald (false: only when an operator starts it).
    bool autostart = true;
};

/// Whether `a` and `b` define the same service (a reload leaves such a service alone).
bool same_definition(const service_def& a, const service_def& b);

std::string_view to_string(restart_policy p);
std::string_view to_string(ready_check k);

/**
 * The order to start `defs` in: every service after those it names in `after`. Errors
 * (errc::invalid_argument), one line each: a name used twice, an unknown dependency, a cycle (with
 * its path, "a -> b -> a").
 */
result_info<std::vector<std::size_t>> start_order(const std::vector<service_def>& defs);

}  // namespace corral::services
