#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "corral/core/asio.hpp"
#include "corral/core/error_info.hpp"
#include "corral/proc/exit_status.hpp"
#include "corral/proc/launcher.hpp"
#include "corral/runner/app_config.hpp"
#include "corral/runner/channel.hpp"

namespace corral::runner {

/**
 * Named processes (runner's Runner, research/seeds-inventory.md §3), as coroutines on the same
 * launcher that runs jobs: definitions by name, processes by alias, each with a channel to its stdio
 * or its Unix socket.
 *
 * Unlike the seed, an alias whose process has exited is no longer running (ensure_running() starts
 * it again, start() allows it), a socket is waited for with a time limit and not at all once the
 * process has died, a cwd given at start is honoured, and terminate() never hangs on a process that
 * ignores SIGTERM. runner::runner offers the same calls without coroutines.
 *
 * The calls that are coroutines take their arguments by value (they outlive the caller's
 * expression); name them before `co_await` all the same, as g++ 12 mishandles temporaries there.
 *
 * Channels are shared: one that outlives terminate() (or a restart of its alias) is closed, and
 * reading or writing it throws endpoint_closed.
 *
 * @par Thread safety
 * Not thread-safe: use from the launcher's executor.
 */
class registry {
  public:
    explicit registry(proc::launcher& launcher);
    /// Processes still running are killed (SIGKILL to their trees): terminate_all() first to stop
    /// them by their stop plans.
    ~registry();
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;

    /// Defines (or replaces) `name`; `command` is split like a shell would (no shell runs it).
    /// Errors: errc::invalid_argument for bad quoting or an empty command.
    result_info<void> add(const std::string& name, std::string_view command, app_options options = {});
    /// Replaces the definition of every name in `config` (runner's update_config: no merging).
    /// Errors: errc::invalid_argument naming the first app with an empty command; nothing changes then.
    result_info<void> update_config(std::map<std::string, app_config> config);

    /**
     * Starts `app` under `request.alias` (the app's name when empty) and returns its channel.
     * Errors: errc::process_not_found (no such app), errc::process_exists (that alias is running),
     * the launcher's spawn errors, errc::timed_out (the socket did not accept in time; the process
     * is killed), errc::spawn_failed (the process exited before its socket accepted; with its status).
     */
    net::awaitable<result_info<std::shared_ptr<channel>>> start(std::string app, start_request request) {
        return launch(std::move(app), std::move(request), false);
    }
    net::awaitable<result_info<std::shared_ptr<channel>>> start(std::string app) {
        return launch(std::move(app), start_request{}, false);
    }
    /// Like start(), but an alias that is running already is left alone and its channel returned.
    net::awaitable<result_info<std::shared_ptr<channel>>> ensure_running(std::string app, start_request request) {
        return launch(std::move(app), std::move(request), true);
    }
    net::awaitable<result_info<std::shared_ptr<channel>>> ensure_running(std::string app) {
        return launch(std::move(app), start_request{}, true);
    }

    /// The channel of a started alias (also after its process exited, for what it left to read);
    /// null for an unknown or terminated one.
    std::shared_ptr<channel> get_channel(std::string_view alias) const;
    /// True while the alias's process has not exited.
    bool is_running(std::string_view alias);
    /// The alias's process id, while it is known.
    std::optional<pid_t> pid(std::string_view alias) const;
    /// How the alias's process ended, once it has.
    std::optional<proc::exit_status> exit_status(std::string_view alias);

    /**
     * Closes the alias's channel, stops its process tree by its stop plan, reaps it and forgets the
     * alias. Returns how it ended. Errors: errc::process_not_found for an unknown alias.
     */
    net::awaitable<result_info<proc::exit_status>> terminate(std::string alias);
    /// terminate() for every alias, all at once.
    net::awaitable<void> terminate_all();

  private:
    struct process;
    net::awaitable<void> terminate_quietly(std::string alias);
    net::awaitable<result_info<std::shared_ptr<channel>>> launch(std::string app,
                                                                 start_request request,
                                                                 bool reuse_running);

    proc::launcher& launcher_;
    std::map<std::string, app_config, std::less<>> apps_;
    std::map<std::string, std::unique_ptr<process>, std::less<>> processes_;
};

}  // namespace corral::runner
