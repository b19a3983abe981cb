#include "corral/jobs/output_pressure.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace corral::jobs {

using namespace net::experimental::awaitable_operators;

output_pressure::output_pressure(net::any_io_executor core, duration calm_after)
    : calm_after_(calm_after), calm_timer_(core), low_(core) {}

void output_pressure::pouring() {
    ++blocks_;
    last_ = std::chrono::steady_clock::now();
    if (!high_) {
        high_ = true;
        arm();
    }
}

// One timer for every waiter: it fires calm_after past the last big block (re-armed while blocks
// keep coming), so a burst costs a wake-up per calm_after, not one per block or per waiter.
void output_pressure::arm() {
    calm_timer_.expires_at(last_ + calm_after_);
    calm_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        if (std::chrono::steady_clock::now() - self->last_ < self->calm_after_) {
            self->arm();
            return;
        }
        self->high_ = false;
        self->low_.notify_all();
    });
}

net::awaitable<void> output_pressure::wait_low(duration at_most) {
    if (!high_) {
        co_return;
    }
    net::steady_timer limit(co_await net::this_coro::executor, at_most);
    co_await (low_.wait() || limit.async_wait(use_nothrow));
}

}  // namespace corral::jobs
