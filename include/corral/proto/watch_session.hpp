#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "corral/net/http_types.hpp"
#include "corral/proto/output_frames.hpp"
#include "corral/services/job_service.hpp"

namespace corral::proto {

/// What happens to a watcher that falls a whole buffer behind.
enum class slow_policy {
    resume,      ///< it waits, and reads on from the log at its own cursor when it catches up
    disconnect,  ///< it is closed with a reason saying so
};

struct watch_options {
    /// Bytes of messages queued for one watcher before it counts as slow.
    std::size_t buffer = 1 << 20;
    slow_policy on_slow = slow_policy::resume;
    /// Output bytes per message.
    std::size_t max_chunk = 64 * 1024;
    /// While a job pours out output faster than corrald takes it (jobs::output_pressure), each
    /// watcher's next message waits up to this long for the pressure to drop, so that fan-out never
    /// slows the job; watchers catch up from the log afterwards. 0: never wait.
    std::chrono::milliseconds defer_to_jobs{50};
};

/// Figures every watcher adds to, for /metrics.
struct watch_stats {
    std::uint64_t bytes_streamed = 0;
    /// Times a watcher's next message waited for a job pouring out output (watch_options::defer_to_jobs).
    std::uint64_t deferrals = 0;
    std::int64_t watchers = 0;
};

/// One job a watcher follows.
struct subscription {
    jobs::job_id job = 0;
    std::uint64_t from = 0;
    bool output = true;  ///< false: job events only
};

/**
 * One watcher connection (WebSocket or SSE) following any number of jobs. Each followed job is read
 * from the job's log at the watcher's own cursor, so the job never waits for a watcher and a watcher
 * never waits for another. Messages queue up to `buffer` bytes; past that the watcher stops reading
 * the log (it resumes from its cursor later) or is disconnected, by policy. The wire format is in
 * docs/protocol.md ("Streams").
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class watch_session {
  public:
    using wire = wire_format;

    /// `frames` is shared by every watcher (it serialises each slice of output once).
    watch_session(services::job_service& service,
                  watch_options options,
                  watch_stats& stats,
                  output_frames& frames,
                  wire format);
    ~watch_session();
    watch_session(const watch_session&) = delete;
    watch_session& operator=(const watch_session&) = delete;

    void subscribe(subscription s);
    /// Events (not output) of every job, including jobs submitted later.
    void subscribe_all() { all_jobs_ = true; }
    /// Only `owner`'s jobs may be followed, and only theirs are in "all jobs" (a role without see_all).
    void restrict_to(std::string owner) { only_owner_ = std::move(owner); }

    /// Serves a WebSocket until either side closes: subscribe/unsubscribe messages in, events out.
    net::awaitable<void> serve(http::message_channel& channel);
    /// Serves an SSE stream with the subscriptions made before.
    net::awaitable<void> serve(http::event_stream& stream);

  private:
    struct follower;
    void handle_message(std::string_view text);
    void unsubscribe(jobs::job_id id);
    void on_job_event(const jobs::job& j, jobs::job_event e);
    void send(boost::json::object message, std::string_view sse_event = {}, std::string_view sse_id = {});
    void send(output_frames::frame frame);
    void close_slow(std::string reason);
    net::awaitable<void> follow(jobs::job_id id, std::uint64_t from, std::shared_ptr<follower> self);
    /// Waits (up to defer_to_jobs) while a job pours out output: see watch_options.
    net::awaitable<void> defer_to_jobs();
    template <class Sender>
    net::awaitable<void> write_queue(Sender& send_one);

    services::job_service& service_;
    watch_options options_;
    watch_stats& stats_;
    output_frames& frames_;
    wire format_;
    int listener_ = 0;
    bool all_jobs_ = false;
    std::optional<std::string> only_owner_;
    std::map<jobs::job_id, std::shared_ptr<follower>> followed_;
    std::deque<output_frames::frame> queue_;
    std::size_t queued_bytes_ = 0;
    std::optional<std::string> close_reason_;
    async_event queue_changed_;
    async_event space_;
    task_group followers_;
};

}  // namespace corral::proto
