#pragma once

#include <memory>
#include <unordered_map>

#include "corral/core/async_event.hpp"

namespace corral {

/**
 * One async_event per key, made when the first waiter asks and forgotten when it is notified: a
 * waiter for job 7 wakes when job 7 changes and sleeps through every other job's events (one shared
 * event would wake every waiter on every event).
 *
 * @par Thread safety
 * Not thread-safe: use from the executor it was made with.
 */
template <class Key>
class keyed_event {
  public:
    explicit keyed_event(net::any_io_executor executor) : executor_(std::move(executor)) {}

    /// The event to wait on for `key`. Take it before checking the condition, so that a notify in
    /// between is not missed; hold it while waiting.
    std::shared_ptr<async_event> get(const Key& key) {
        auto& e = events_[key];
        if (!e) {
            e = std::make_shared<async_event>(executor_);
        }
        return e;
    }
    /// Wakes the waiters for `key` (nothing happens when there are none).
    void notify(const Key& key) {
        if (auto it = events_.find(key); it != events_.end()) {
            it->second->notify_all();
            events_.erase(it);
        }
    }
    /// Keys with waiters (or with waiters that timed out since the last notify).
    std::size_t size() const { return events_.size(); }

  private:
    net::any_io_executor executor_;
    std::unordered_map<Key, std::shared_ptr<async_event>> events_;
};

}  // namespace corral
