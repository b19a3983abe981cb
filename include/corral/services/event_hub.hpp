#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "corral/core/error_info.hpp"
#include "corral/services/subscription.hpp"

namespace corral::services {

/// What /metrics reports about subscriptions.
struct subscription_stats {
    std::uint64_t events = 0;     ///< events numbered
    std::uint64_t delivered = 0;  ///< events queued for a subscription (one per subscriber)
    std::uint64_t dropped = 0;    ///< events dropped for slow subscriptions (slow_policy::resume)
    std::uint64_t expired = 0;    ///< subscriptions let go after their linger time
};

/**
 * Numbers job events, keeps the recent ones, and hands each to the subscriptions that follow its
 * job (and those that follow every job), found through an index by job id: an event wakes only its
 * own subscribers. It owns the subscriptions and lets one go once it has had no reader for its
 * linger time.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class event_hub {
  public:
    event_hub(net::any_io_executor executor, subscription_options options);
    ~event_hub();
    event_hub(const event_hub&) = delete;
    event_hub& operator=(const event_hub&) = delete;

    /// Numbers the event, keeps it, and queues it for its subscribers.
    event_ptr publish(const jobs::job& j, jobs::job_event e);
    /// Numbers a service's event, keeps it, and queues it for the subscriptions that follow services.
    event_ptr publish_service(service_event_info info, jobs::job_id run);

    /// A new subscription for `user` (seeing only `only_owner`'s jobs when given). Errors:
    /// errc::queue_full when max_subscriptions have a reader each; errc::invalid_state after stop().
    result_info<std::shared_ptr<subscription>> create(std::string user,
                                                      std::optional<std::string> only_owner);
    /// The subscription `id` of `user`; null when there is none (expired, closed, or another user's).
    std::shared_ptr<subscription> find(std::string_view id, std::string_view user) const;
    /// Queues for `s` the kept events after sequence number `after` that it follows (for a client
    /// that knows where it stopped). Returns false when events after `after` are no longer kept.
    bool replay(subscription& s, std::uint64_t after);
    /// Sequence number of the newest event (0: none yet).
    std::uint64_t last_seq() const { return seq_; }
    std::size_t size() const { return subs_.size(); }
    const subscription_options& options() const { return options_; }
    const subscription_stats& stats() const { return stats_; }
    net::any_io_executor executor() const { return executor_; }
    /// Closes every subscription: readers see the reason and stop.
    void close_all(std::string reason);
    /// close_all(), and no more sweeps: nothing of the hub's keeps the io_context running (the
    /// service is winding down). New subscriptions are refused after it.
    void stop(std::string reason);

  private:
    friend class subscription;
    void index(subscription& s, jobs::job_id job, bool add);
    void index_all(subscription& s, bool add);
    void index_services(subscription& s, bool add);
    void reader_left(subscription& s);
    void sweep();
    void arm_sweep(std::chrono::steady_clock::time_point when);
    void let_go(subscription& s);
    bool sees(const subscription& s, const event_record& e) const;

    net::any_io_executor executor_;
    subscription_options options_;
    std::uint64_t seq_ = 0;
    std::deque<event_ptr> recent_;
    std::unordered_map<std::string, std::shared_ptr<subscription>> subs_;
    std::unordered_map<jobs::job_id, std::vector<subscription*>> by_job_;
    std::vector<subscription*> all_;
    std::vector<subscription*> services_;
    net::steady_timer sweep_timer_;
    std::optional<std::chrono::steady_clock::time_point> sweep_at_;
    bool stopped_ = false;
    subscription_stats stats_;
};

}  // namespace corral::services
