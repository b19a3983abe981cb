#include "corral/jobs/output_pressure.hpp"

#include <gtest/gtest.h>
#include <boost/asio/detached.hpp>

#include "helpers/test_support.hpp"

namespace corral::jobs {
namespace {

using namespace std::chrono_literals;
using test::run_coro;

TEST(OutputPressure, IsLowUntilAPipePoursAndLowAgainOnceItCalms) {
    net::io_context ioc;
    auto pressure = std::make_shared<output_pressure>(ioc.get_executor(), 5ms);
    EXPECT_FALSE(pressure->high());
    pressure->pouring();
    EXPECT_TRUE(pressure->high());
    // Nothing pours any more: the wait ends because the pressure fell, not at its one-hour limit.
    run_coro(ioc, pressure->wait_low(1h));
    EXPECT_FALSE(pressure->high());
}

TEST(OutputPressure, AWaitEndsAtItsLimitWhileAPipeKeepsPouring) {
    net::io_context ioc;
    auto pressure = std::make_shared<output_pressure>(ioc.get_executor(), 1h);
    pressure->pouring();
    // A watcher's wait is bounded, so a job that never lets up cannot starve its watchers.
    run_coro(ioc, pressure->wait_low(10ms));
    EXPECT_TRUE(pressure->high());
}

TEST(OutputPressure, EveryWaiterWakesWhenItCalms) {
    net::io_context ioc;
    auto pressure = std::make_shared<output_pressure>(ioc.get_executor(), 5ms);
    pressure->pouring();
    int woken = 0;
    auto waiter = [&]() -> net::awaitable<void> {
        co_await pressure->wait_low(1h);
        ++woken;
    };
    for (int i = 0; i < 3; ++i) {
        net::co_spawn(ioc, waiter(), net::detached);
    }
    ioc.run();  // ends when all three have returned and the calm timer has fired
    EXPECT_EQ(woken, 3);
    EXPECT_FALSE(pressure->high());
}

}  // namespace
}  // namespace corral::jobs
