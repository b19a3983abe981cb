#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/json/object.hpp>

#include "corral/net/http_types.hpp"
#include "corral/proto/native_encoder.hpp"
#include "corral/proto/output_frames.hpp"
#include "corral/services/job_service.hpp"
#include "corral/services/subscription.hpp"

namespace corral::proto {

using services::slow_policy;

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
    /// A `stdin` message the job does not read within this long fails (api.stdin_timeout).
    std::chrono::milliseconds stdin_timeout{30'000};
};

/// Figures every watcher adds to, for /metrics.
struct watch_stats {
    std::uint64_t bytes_streamed = 0;
    /// Times a watcher's next message waited for a job pouring out output (watch_options::defer_to_jobs).
    std::uint64_t deferrals = 0;
    std::int64_t watchers = 0;
};

/// One job a watcher asks to follow.
struct follow_request {
    jobs::job_id job = 0;
    std::uint64_t from = 0;
    bool output = true;  ///< false: job events only
};

/**
 * One watcher connection (WebSocket or SSE) reading a core subscription (services::subscription):
 * job events come from it in sequence, and each followed job's output is read from the job's log at
 * the subscription's cursor, so the job never waits for a watcher and a watcher never waits for
 * another. Output messages queue up to `buffer` bytes; past that the watcher stops reading the log
 * (it resumes from its cursor later) or is disconnected, by policy. When the connection goes the
 * subscription stays (api.subscription_linger), and a client that reconnects with its id resumes:
 * followed jobs' output from the last byte it was sent, and the events it had not been sent. The
 * wire format is in docs/protocol.md ("Streams").
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class watch_session {
  public:
    using wire = wire_format;

    /// Reads `sub` for `who`. `frames` is shared by every watcher (it serialises each slice of
    /// output once).
    watch_session(services::job_service& service,
                  auth::identity who,
                  std::shared_ptr<services::subscription> sub,
                  watch_options options,
                  watch_stats& stats,
                  output_frames& frames,
                  wire format);
    ~watch_session();
    watch_session(const watch_session&) = delete;
    watch_session& operator=(const watch_session&) = delete;

    void subscribe(follow_request r);
    /// Events (not output) of every job the caller may see, including jobs submitted later.
    void subscribe_all() { sub_->follow_all(true); }
    /// Services' state changes too (`{"type": "service", ...}`), when the caller may see services;
    /// otherwise an error message says why. Returns whether it follows them.
    bool subscribe_services(bool on);

    /// Serves a WebSocket until either side closes: subscribe/unsubscribe messages in, events out.
    net::awaitable<void> serve(http::message_channel& channel);
    /// Serves an SSE stream with the subscriptions made before.
    net::awaitable<void> serve(http::event_stream& stream);

  private:
    static boost::json::object service_message(const services::event_record& e);
    /// `{"type": "stdin", ...}`: writes to a job's stdin as POST /api/v1/jobs/ID/stdin does, and
    /// answers on the stream. Writes of one session take turns in the order they came.
    net::awaitable<void> write_stdin(jobs::job_id id, std::string data, bool close);
    /**
     * Ends the writer and the followers and waits for them, however serve() ended: they use this
     * session and its connection, so they end before either goes. serve() calls it with
     * cancellation off: a serve() cancelled because corrald is stopping still waits for them (with
     * Asio's default, the co_await of finish() would throw before it starts, and the session would
     * be destroyed under a write in progress).
     */
    net::awaitable<void> finish();

    struct follower;
    /// A message waiting to be written; an output message moves its job's cursor once written.
    struct outgoing {
        output_frames::frame frame;
        jobs::job_id job = 0;
        std::uint64_t cursor = 0;
    };
    void handle_message(std::string_view text);
    void unsubscribe(jobs::job_id id);
    /// Starts reading the output of every job the subscription follows with output (a resumed one).
    void follow_resumed();
    void start_follower(jobs::job_id id, std::uint64_t from, bool resumed);
    void send(boost::json::object message, std::string_view sse_event = {}, std::string_view sse_id = {});
    void send(outgoing message);
    void close_slow(std::string reason);
    /// Ends the stream: the writer stops and a WebSocket gets a close frame with `code` and `reason`.
    void end_with(http::close_code code, std::string reason);
    bool stopping() const;
    net::awaitable<void> follow(jobs::job_id id, std::uint64_t from, std::shared_ptr<follower> self);
    /// Queues a slice's output messages (after a "lost" notice when the log dropped some).
    void send_slice(jobs::job_id id, std::uint64_t cursor, output_frames::slice slice);
    /// All of a job's output was sent: "eof", then "finished" when it has ended, and it is unfollowed.
    void end_follow(const jobs::job& j, std::uint64_t cursor, const follower& self);
    /// Waits (up to defer_to_jobs) while a job pours out output: see watch_options.
    net::awaitable<void> defer_to_jobs();
    /// A message made of an event taken from the subscription (null for a notice of lost events).
    struct event_frame {
        output_frames::frame frame;
        services::event_ptr event;
    };
    /// The subscription's pending events as messages.
    std::vector<event_frame> take_events();
    std::optional<std::string> end_reason() const;
    template <class Sender>
    net::awaitable<void> write_queue(Sender& send_one);

    services::job_service& service_;
    auth::identity who_;
    std::shared_ptr<services::subscription> sub_;
    services::subscription::reader reader_;
    watch_options options_;
    watch_stats& stats_;
    output_frames& frames_;
    wire format_;
    const native_encoder& encoder_;
    std::map<jobs::job_id, std::shared_ptr<follower>> followers_by_job_;
    /// Jobs whose follower sent "finished" before the subscription's event for it came: skipped then.
    std::set<jobs::job_id> ended_;
    std::deque<outgoing> queue_;
    std::size_t queued_bytes_ = 0;
    std::optional<std::string> close_reason_;
    /// A replaced or ended subscription closes normally (1000, as ASEXOR closes a replaced session).
    http::close_code close_code_ = http::close_code::normal;
    async_event space_;
    task_group followers_;
    /// stdin messages take turns (write_stdin).
    std::uint64_t next_stdin_turn_ = 0;
    std::uint64_t stdin_turn_ = 0;
    async_event stdin_done_;
};

}  // namespace corral::proto
