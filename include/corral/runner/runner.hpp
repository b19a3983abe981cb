#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "corral/core/error_info.hpp"
#include "corral/proc/exit_status.hpp"
#include "corral/proc/launcher.hpp"
#include "corral/runner/app_config.hpp"
#include "corral/runner/channel.hpp"
#include "corral/runner/registry.hpp"

namespace corral::runner {

/**
 * runner's Runner for programs without an event loop: registry's calls, each returning when done.
 * It owns a small io_context and a launcher of its own (process groups, or cgroup v2 where the host
 * allows it), and runs them only inside its calls. Errors throw boost::system::system_error with the
 * registry's code and message (start() on a running alias: errc::process_exists, runner's
 * ProcessExistsException).
 *
 * The destructor terminates every process still running, by its stop plan.
 *
 * @par Thread safety
 * Not thread-safe.
 */
class runner {
  public:
    explicit runner(proc::launcher_options options = {});
    ~runner();
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;

    void add(const std::string& name, std::string_view command, app_options options = {});
    void update_config(std::map<std::string, app_config> config);
    std::shared_ptr<channel> start(const std::string& app, start_request request = {});
    std::shared_ptr<channel> ensure_running(const std::string& app, start_request request = {});
    /// Null for an unknown or terminated alias (runner's None).
    std::shared_ptr<channel> get_channel(std::string_view alias) const { return registry_.get_channel(alias); }
    bool is_running(std::string_view alias) { return registry_.is_running(alias); }
    std::optional<pid_t> pid(std::string_view alias) const { return registry_.pid(alias); }
    proc::exit_status terminate(const std::string& alias);
    void terminate_all();

    /// The registry underneath, for a program that later moves to coroutines.
    registry& async() { return registry_; }

  private:
    template <class T>
    T run(net::awaitable<T> op);

    net::io_context context_;
    std::unique_ptr<proc::launcher> launcher_;
    registry registry_;
};

}  // namespace corral::runner
