#pragma once
// Job events as subscribers see them: numbered, timed, and the limits of what a subscription keeps.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "corral/jobs/job.hpp"
#include "corral/jobs/job_table.hpp"

namespace corral::services {

/// What happened to a service (services::supervisor): for subscriptions that follow services.
struct service_event_info {
    std::string name;
    std::string state;  ///< the service's state just after it
    std::string kind;   ///< starting, ready, exited, backoff, failed, stopping, stopped, waiting, added, removed, changed
    std::string detail;
};

/// One thing that happened to a job, or to a service, numbered in the order the daemon saw it.
struct event_record {
    std::uint64_t seq = 0;  ///< per daemon, from 1, without gaps
    jobs::clock::time_point time{};
    jobs::job_id job = 0;
    jobs::job_event kind = jobs::job_event::queued;
    jobs::job_state state = jobs::job_state::queued;  ///< the job's state just after the event
    std::string owner;
    /// Set for a service's event (`job` is then its current run, or 0): only subscriptions that
    /// follow services get these.
    std::shared_ptr<const service_event_info> service;
};
/// Shared by every subscription that queues it: an event costs one allocation however many follow it.
using event_ptr = std::shared_ptr<const event_record>;

std::string_view event_name(jobs::job_event e);

/// What happens to a subscription (or a watcher) that falls a whole buffer behind.
enum class slow_policy {
    resume,      ///< it keeps up as it can: the oldest pending events are dropped and counted (output
                 ///< is re-read from the log at its own cursor later)
    disconnect,  ///< it is closed with a reason saying so
};

struct subscription_options {
    /// Events queued for one subscription before it counts as slow (`api.subscription_events`).
    std::size_t max_pending = 10'000;
    slow_policy on_slow = slow_policy::resume;
    /// How long a subscription is kept after its last reader left, so that a client that reconnects
    /// resumes exactly where it stopped (`api.subscription_linger`; ASEXOR's 60 s replay).
    std::chrono::milliseconds linger{60'000};
    /// Subscriptions at most; past it the one whose reader left longest ago goes first, and when
    /// every one has a reader a new one is refused (`api.max_subscriptions`).
    std::size_t max_subscriptions = 50'000;
    /// Recent events kept for a subscription that starts after a given sequence number.
    std::size_t events_kept = 10'000;
};

}  // namespace corral::services
