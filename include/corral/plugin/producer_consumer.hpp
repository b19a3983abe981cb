#pragma once
// os-aio-pod's producer/consumer flow, as a plugin base class: one producer, N consumers, a bounded
// queue between them, and a stop that finishes what was queued.

#include <cstddef>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <vector>

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
 * produce() makes items, which wait in a queue of at most `queue_size` (the producer waits while it
 * is full), and `consumers` coroutines take them in order, each calling consume(). produce()
 * returning nullopt ends production: the consumers finish the queue and the flow is done.
 *
 * Stopping: the producer is cancelled at once (its pending co_await throws operation_aborted), and
 * the consumers go on with what is queued until the deadline; then they are cancelled too. A throw
 * from produce() or consume() (other than that cancellation) makes corrald stop and exit 1, naming
 * the component.
 */
template <class T>
class producer_consumer : public component_base {
  public:
    producer_consumer(component_context context, std::size_t consumers, std::size_t queue_size)
        : component_base(std::move(context)),
          consumers_(consumers == 0 ? 1 : consumers),
          queue_size_(queue_size == 0 ? 1 : queue_size),
          changed_(this->context().executor),
          cancel_consumers_(consumers_) {}

    net::awaitable<void> start() override {
        running_ = 1 + consumers_;
        producing_ = true;
        net::co_spawn(this->context().executor,
                      produce_all(),
                      net::bind_cancellation_slot(cancel_producer_.slot(), [this](std::exception_ptr e) {
                          producing_ = false;
                          ended(e, "produce()");
                      }));
        for (std::size_t i = 0; i < consumers_; ++i) {
            net::co_spawn(
                this->context().executor,
                consume_all(i),
                net::bind_cancellation_slot(cancel_consumers_[i].slot(),
                                            [this](std::exception_ptr e) { ended(e, "consume()"); }));
        }
        co_return;
    }
    void stop_accepting() override {
        if (!stopping_) {
            stopping_ = true;
            if (producing_) {
                cancel_producer_.emit(net::cancellation_type::terminal);
            }
            changed_.notify_all();
        }
    }
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override {
        using namespace net::experimental::awaitable_operators;
        stop_accepting();
        net::steady_timer timer(this->context().executor, deadline);
        while (running_ > 0 && std::chrono::steady_clock::now() < deadline) {
            co_await (changed_.wait() || timer.async_wait(use_nothrow));
        }
        if (running_ > 0) {
            log(log_level::warn,
                std::to_string(queue_.size()) + " queued items were not consumed by the deadline");
            force_stop();
        }
        while (running_ > 0) {
            co_await changed_.wait();
        }
    }
    void force_stop() override {
        stop_accepting();
        if (!cancelled_) {
            cancelled_ = true;
            for (auto& c : cancel_consumers_) {
                c.emit(net::cancellation_type::terminal);
            }
        }
        changed_.notify_all();
    }

  protected:
    /// The next item; nullopt when there will be no more.
    virtual net::awaitable<std::optional<T>> produce() = 0;
    /// Handles one item; `consumer` is 0..consumers-1.
    virtual net::awaitable<void> consume(T item, std::size_t consumer) = 0;

    bool stopping() const { return stopping_; }
    std::size_t queued() const { return queue_.size(); }

  private:
    net::awaitable<void> produce_all() {
        while (!stopping_) {
            auto item = co_await produce();
            if (!item) {
                break;
            }
            while (queue_.size() >= queue_size_ && !stopping_) {
                co_await changed_.wait();
            }
            if (stopping_) {
                break;  // made after the stop: dropped, as if produce() had been cancelled
            }
            queue_.push_back(std::move(*item));
            changed_.notify_all();
        }
    }
    net::awaitable<void> consume_all(std::size_t index) {
        for (;;) {
            while (queue_.empty() && producing_ && !cancelled_) {
                co_await changed_.wait();
            }
            if (queue_.empty() || cancelled_) {
                co_return;
            }
            T item = std::move(queue_.front());
            queue_.pop_front();
            changed_.notify_all();  // room for the producer
            co_await consume(std::move(item), index);
        }
    }
    void ended(std::exception_ptr e, const char* what) {
        --running_;
        changed_.notify_all();
        if (auto why = failure_of(e, stopping_, what); !why.empty()) {
            this->failed(std::move(why));
        }
    }

    std::size_t consumers_;
    std::size_t queue_size_;
    std::deque<T> queue_;
    async_event changed_;
    net::cancellation_signal cancel_producer_;
    std::vector<net::cancellation_signal> cancel_consumers_;
    std::size_t running_ = 0;
    bool producing_ = false;
    bool stopping_ = false;
    bool cancelled_ = false;
};

}  // namespace corral::plugin
