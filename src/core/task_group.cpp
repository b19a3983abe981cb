#include "corral/core/task_group.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

#include "corral/core/log_exceptions.hpp"

namespace corral {
namespace {

// A cancelled coroutine that co_awaits another awaitable throws operation_aborted (Asio's
// throw_if_cancelled default): that is how cancellation ends it, not a failure worth logging.
bool is_cancellation(std::exception_ptr e) {
    if (!e) {
        return false;
    }
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& ex) {
        return ex.code() == net::error::operation_aborted;
    } catch (...) {
        return false;
    }
}

}  // namespace

task_group::task_group(net::any_io_executor executor) : executor_(executor), changed_(executor) {}

void task_group::spawn(net::awaitable<void> task, std::string what) {
    auto it = signals_.emplace(signals_.end());
    net::co_spawn(
        executor_,
        std::move(task),
        net::bind_cancellation_slot(it->slot(), [this, it, what = std::move(what)](std::exception_ptr e) {
            if (!is_cancellation(e)) {
                log_exceptions{what}(e);
            }
            // co_spawn may still touch the slot after calling us: drop the signal later.
            net::post(executor_, [this, it] {
                signals_.erase(it);
                changed_.notify_all();
            });
        }));
}

void task_group::cancel_all() {
    for (auto& s : signals_) {
        s.emit(net::cancellation_type::terminal);
    }
}

net::awaitable<void> task_group::wait() {
    while (!signals_.empty()) {
        co_await changed_.wait();
    }
}

}  // namespace corral
