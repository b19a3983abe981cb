#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corral/core/async_event.hpp"
#include "corral/services/events.hpp"

namespace corral::services {

class event_hub;

/**
 * What one client follows, kept by the core rather than by a connection: a filter (jobs by id, or
 * every job it may see), the events queued for it, its place in each followed job's output, and a
 * lifetime of its own. A WebSocket, an SSE stream, a long-poll session, the raw socket, WAMP and the
 * console each *read* a subscription; when the reader goes, the subscription stays for
 * subscription_options::linger, so a client that reconnects resumes exactly where it stopped.
 *
 * Only events of jobs it follows reach it (the hub indexes subscriptions by job), so an idle
 * subscription costs nothing when other jobs are busy.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class subscription {
  public:
    /// A followed job: whether its output is followed too, and the reader's place in it.
    struct followed_job {
        bool output = false;
        std::uint64_t cursor = 0;
    };
    /// What a reader takes at once: the events in order, and how many were dropped before them
    /// (slow_policy::resume). A reader that sees `lost` should re-read the jobs' states.
    struct batch {
        std::vector<event_ptr> events;
        std::uint64_t lost = 0;
    };

    subscription(event_hub& hub, std::string id, std::string user, std::optional<std::string> only_owner);
    ~subscription();
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;

    /// The token a client resumes it with (unguessable; only its user may resume it).
    const std::string& id() const { return id_; }
    const std::string& user() const { return user_; }
    /// Set for a caller that may see only their own jobs: events of others' jobs never reach it.
    const std::optional<std::string>& only_owner() const { return only_owner_; }

    // --- the filter ---
    /// Follows job `job`'s events, and its output from `from` when `output`. Following it again
    /// replaces how. The caller checked that the user may see the job (job_service::subscribe_as).
    void follow(jobs::job_id job, bool output, std::uint64_t from = 0);
    void unfollow(jobs::job_id job);
    /// Events (not output) of every job the user may see, including jobs submitted later.
    void follow_all(bool on);
    bool follows_all() const { return all_; }
    /// Services' events (state changes) too. The caller checked that the user may see services
    /// (job_service::follow_services_as).
    void follow_services(bool on);
    bool follows_services() const { return services_; }
    bool follows(jobs::job_id job) const { return followed_.count(job) != 0; }
    const std::map<jobs::job_id, followed_job>& followed() const { return followed_; }
    /// The reader sent `job`'s output up to `cursor`.
    void advance(jobs::job_id job, std::uint64_t cursor);

    // --- reading ---
    /// Takes every pending event (and the count of those dropped); the cursor moves past them.
    batch take();
    /// Puts back, in front of what is pending, events taken but not delivered (the reader's
    /// connection failed while writing them): a reader that resumes gets them first.
    void put_back(std::vector<event_ptr> unsent);
    bool has_pending() const { return head_ < pending_.size() || lost_ > 0; }
    /// Sequence number of the last event taken (0: none yet).
    std::uint64_t cursor() const { return cursor_; }
    /// Returns when something changed for the reader: an event queued, the subscription closed,
    /// another reader took over, or the wait was cancelled. Re-check after waking.
    net::awaitable<void> wait() { co_await changed_.wait(); }
    /// Wakes the reader for a reason of its own (it queued something else to send): one event to
    /// wait on is cheaper than waiting on two.
    void wake() { changed_.notify_all(); }
    /// Why it ended (too slow under slow_policy::disconnect, expired, the daemon stopping); a reader
    /// that sees a reason stops.
    const std::optional<std::string>& closed() const { return closed_; }
    void close(std::string reason);

    /**
     * The reader of a subscription, for as long as it lives. Taking a subscription replaces its
     * reader: the earlier one sees current() turn false (ASEXOR's "session replaced") and should
     * stop. When the last reader goes, the linger time starts.
     */
    class reader {
      public:
        explicit reader(std::shared_ptr<subscription> s);
        ~reader();
        reader(const reader&) = delete;
        reader& operator=(const reader&) = delete;
        bool current() const { return sub_->reader_ == generation_; }
        subscription& operator*() const { return *sub_; }
        subscription* operator->() const { return sub_.get(); }

      private:
        std::shared_ptr<subscription> sub_;
        std::uint64_t generation_;
    };
    /// Whether some reader has it now.
    bool read() const { return readers_ > 0; }

    /// What the adapter reading it keeps beside it for as long as it lives (ASEXOR's call id of each
    /// job a session started, which a reconnecting session needs for the updates it is replayed),
    /// let go with it. One per subscription; the adapter that made the subscription sets it.
    class attachment {
      public:
        virtual ~attachment() = default;
    };
    void attach(std::unique_ptr<attachment> a) { attachment_ = std::move(a); }
    attachment* attached() const { return attachment_.get(); }
    /// When its last reader left (meaningful while !read()).
    std::chrono::steady_clock::time_point left_at() const { return left_at_; }

  private:
    friend class event_hub;
    /// The hub hands it an event it follows.
    void deliver(const event_ptr& e);

    event_hub* hub_;  ///< null once the hub let it go
    std::string id_;
    std::string user_;
    std::optional<std::string> only_owner_;
    std::map<jobs::job_id, followed_job> followed_;
    bool all_ = false;
    bool services_ = false;
    /// Pending events from head_ on (a vector, not a deque: an idle subscription allocates nothing).
    std::vector<event_ptr> pending_;
    std::size_t head_ = 0;
    std::uint64_t lost_ = 0;
    std::uint64_t cursor_ = 0;
    std::optional<std::string> closed_;
    std::uint64_t reader_ = 0;
    int readers_ = 0;
    std::chrono::steady_clock::time_point left_at_;
    async_event changed_;
    std::unique_ptr<attachment> attachment_;
};

}  // namespace corral::services
