#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "corral/core/async_event.hpp"
#include "corral/core/error_info.hpp"
#include "corral/plugin/component.hpp"

namespace corral::pod {

using plugin::component;

/**
 * The daemon's skeleton (os-aio-pod's pod, done right): components with ids 1..N in the order added
 * and a label, started in order and stopped in reverse. SIGINT/SIGTERM stop it gracefully: every
 * component stops accepting, then each gets until `signal time + stop_wait` to finish. A second signal
 * forces the exit. SIGHUP calls the reload handler. run() returns the exit status: 0 after a clean stop, 1 when a component failed to
 * start or crashed, 130 when a second signal forced the exit.
 */
class pod {
  public:
    pod(net::io_context& io, std::chrono::milliseconds stop_wait);

    /// Adds a component; returns its id.
    int add(std::string label, std::unique_ptr<component> c);
    /// Runs the io_context until the pod has stopped.
    int run();
    /// Called once every component has started, right after "corrald is ready" is logged.
    void on_ready(std::function<void()> f) { on_ready_ = std::move(f); }
    /// Called on SIGHUP once ready (until the stop begins): reload what can be reloaded.
    void on_reload(std::function<void()> f) { on_reload_ = std::move(f); }
    /// A component broke: the pod stops and exits non-zero.
    void fail(std::string why);
    /// Stops the pod as SIGTERM would, saying why in the log (the stdin console's `exit`).
    void request_stop(std::string why);

    /// One component, as `corral console`'s `components` lists it.
    struct summary {
        int id;
        std::string label;
        std::string description;
    };
    std::vector<summary> list() const;
    /// Hands `sig` to every component labelled `label`; what each did, a line each. Errors:
    /// errc::invalid_argument when no component has that label.
    result_info<std::string> signal(std::string_view label, int sig);

  private:
    struct entry {
        int id;
        std::string label;
        std::unique_ptr<component> c;
    };
    net::awaitable<void> lifecycle();
    net::awaitable<void> force_on_second_signal();
    net::awaitable<void> reload_on_hangup();

    net::io_context& io_;
    std::chrono::milliseconds stop_wait_;
    std::vector<entry> components_;
    net::signal_set signals_;
    net::signal_set hangup_;
    async_event failed_;
    std::function<void()> on_ready_;
    std::function<void()> on_reload_;
    std::string failure_;
    std::string stop_reason_;
    bool forced_ = false;
    int exit_code_ = 0;
};

}  // namespace corral::pod
