// The pod's lifecycle with components that record what happens to them.
#include "corral/pod/pod.hpp"

#include <csignal>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace corral::pod {
namespace {

class recording_component final : public component {
  public:
    recording_component(std::vector<std::string>& log, std::string name, bool breaks_later)
        : log_(log), name_(std::move(name)), breaks_later_(breaks_later) {}

    net::awaitable<void> start() override {
        log_.push_back("start " + name_);
        if (breaks_later_) {
            // Breaks a little after a successful start, the way a listener's accept loop would.
            auto ex = co_await net::this_coro::executor;
            net::co_spawn(
                ex,
                [this, ex]() -> net::awaitable<void> {
                    net::steady_timer t(ex, std::chrono::milliseconds(20));
                    co_await t.async_wait(net::use_awaitable);
                    failed(name_ + " broke");
                },
                net::detached);
        }
    }
    void stop_accepting() override { log_.push_back("stop accepting " + name_); }
    net::awaitable<void> stop(std::chrono::steady_clock::time_point) override {
        log_.push_back("stop " + name_);
        co_return;
    }
    std::string describe() const override { return name_; }

  private:
    std::vector<std::string>& log_;
    std::string name_;
    bool breaks_later_;
};

TEST(PodLifecycle, AComponentThatBreaksAfterStartingStopsThePodWithStatusOne) {
    net::io_context io;
    std::vector<std::string> log;
    pod p(io, std::chrono::seconds(1));
    EXPECT_EQ(p.add("first", std::make_unique<recording_component>(log, "first", false)), 1);
    EXPECT_EQ(p.add("second", std::make_unique<recording_component>(log, "second", true)), 2);
    // Should the failure go unnoticed, a SIGTERM ends the pod with 0 instead of hanging the test.
    std::promise<void> done;
    std::thread watchdog([stopped = done.get_future()] {
        if (stopped.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
            std::raise(SIGTERM);
        }
    });
    const int status = p.run();
    done.set_value();
    watchdog.join();
    EXPECT_EQ(status, 1);
    EXPECT_EQ(log,
              (std::vector<std::string>{"start first",
                                        "start second",
                                        "stop accepting second",
                                        "stop accepting first",
                                        "stop second",
                                        "stop first"}));
}

}  // namespace
}  // namespace corral::pod
