#pragma once
// os-aio-pod's simple server, as a plugin base class: startup, a run loop, on_stop and cleanup.

#include <exception>
#include <string>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include "corral/core/async_event.hpp"
#include "corral/plugin/plugin.hpp"

namespace corral::plugin {

/**
 * A component that does one thing for as long as it runs. corrald calls startup() when the component
 * starts (a throw there fails the start), then runs run() in a coroutine of its own; on stop it calls
 * on_stop() and gives run() until the deadline to return, then cancels it (its next co_await throws
 * operation_aborted), and calls cleanup() in every case. run() returning early is fine (the
 * component is then idle); run() throwing makes corrald stop and exit 1, naming the component.
 *
 * sleep_for() is the loop's friend: it returns false at once when a stop is asked.
 */
class simple_server : public component_base {
  public:
    explicit simple_server(component_context context)
        : component_base(std::move(context)),
          woken_(this->context().executor),
          done_(this->context().executor) {}

    net::awaitable<void> start() override {
        co_await startup();
        running_ = true;
        net::co_spawn(context().executor,
                      run(),
                      net::bind_cancellation_slot(cancel_.slot(), [this](std::exception_ptr e) { ran(e); }));
    }
    void stop_accepting() override {
        if (!stopping_) {
            stopping_ = true;
            on_stop();
            woken_.notify_all();
        }
    }
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override {
        using namespace net::experimental::awaitable_operators;
        stop_accepting();
        net::steady_timer timer(context().executor, deadline);
        while (running_ && std::chrono::steady_clock::now() < deadline) {
            co_await (done_.wait() || timer.async_wait(use_nothrow));
        }
        if (running_) {
            log(log_level::warn, "run() did not return by the deadline: cancelling it");
            force_stop();
            while (running_) {
                co_await done_.wait();
            }
        }
        co_await cleanup();
    }
    void force_stop() override {
        stopping_ = true;
        woken_.notify_all();
        if (running_) {
            cancel_.emit(net::cancellation_type::terminal);
        }
    }

  protected:
    /// Gets ready; a throw fails corrald's start with its message.
    virtual net::awaitable<void> startup() { co_return; }
    /// The work, until it is done or stopping() turns true.
    virtual net::awaitable<void> run() = 0;
    /// A stop was asked (make run() return soon); called once, before the deadline starts to count.
    virtual void on_stop() {}
    /// After run() has returned or been cancelled.
    virtual net::awaitable<void> cleanup() { co_return; }

    bool stopping() const { return stopping_; }
    /// Waits `d`; false when a stop was asked meanwhile (or before).
    net::awaitable<bool> sleep_for(std::chrono::steady_clock::duration d) {
        using namespace net::experimental::awaitable_operators;
        if (stopping_) {
            co_return false;
        }
        net::steady_timer timer(context().executor, d);
        co_await (timer.async_wait(use_nothrow) || woken_.wait());
        co_return !stopping_;
    }

  private:
    void ran(std::exception_ptr e) {
        running_ = false;
        done_.notify_all();
        if (auto why = failure_of(e, stopping_, "run()"); !why.empty()) {
            failed(std::move(why));
        }
    }

    async_event woken_;
    async_event done_;
    net::cancellation_signal cancel_;
    bool running_ = false;
    bool stopping_ = false;
};

}  // namespace corral::plugin
