#pragma once
// The part of corrald everything with a lifecycle implements: its listeners, the job service, the
// store, and plugins' components (plugin.hpp). Installed with libcorral so that a plugin can be built
// against it; its interface is the plugin ABI, so a change here bumps plugin::api_version.

#include <chrono>
#include <functional>
#include <string>

#include "corral/core/asio.hpp"

namespace corral::plugin {

/**
 * A part of the daemon with a lifecycle (os-aio-pod's component). The pod starts components in the
 * order they were added, each once the one before has started, and stops them in reverse: first every
 * one stops accepting, then each gets until the deadline to finish.
 */
class component {
  public:
    virtual ~component() = default;
    /// Gets ready (binds, opens); throws std::exception with a message saying why it cannot. Must not
    /// wait for long: the components after it start only once it returns.
    virtual net::awaitable<void> start() = 0;
    /// First stop phase, at once for every component: take no new work.
    virtual void stop_accepting() {}
    /// Second phase: finish up by `deadline`, then end what is left.
    virtual net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) = 0;
    /// The second signal: end everything now.
    virtual void force_stop() {}
    /// A signal aimed at this component by its label (the console's `signal`): what it did with
    /// it, or "" when it takes none.
    virtual std::string signal(int /*sig*/) { return {}; }
    /// One line about what it is and where it listens, for the log and `corrald components`.
    virtual std::string describe() const = 0;

    /// Set by the pod: how a component that breaks after starting makes the pod stop and exit 1.
    void on_failure(std::function<void(std::string)> f) { on_failure_ = std::move(f); }

  protected:
    /// Says the component broke: corrald stops and exits with status 1, naming it and `why`.
    void failed(std::string why) {
        if (on_failure_) {
            on_failure_(std::move(why));
        }
    }

  private:
    std::function<void(std::string)> on_failure_;
};

}  // namespace corral::plugin
