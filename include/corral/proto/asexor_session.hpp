#pragma once
// What ASEXOR's transports (WebSocket, raw socket, long-poll) share: a session that turns call
// messages into task submissions and job events into update messages. The transports only move the
// messages (research/seeds-inventory.md §4.2-§4.3).

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json/value.hpp>

#include "corral/auth/authority.hpp"
#include "corral/proto/asexor_message.hpp"
#include "corral/services/job_service.hpp"
#include "corral/services/subscription.hpp"
#include "corral/tasks/task_catalog.hpp"

namespace corral::proto::asexor {

/// What every ASEXOR transport calls into. All must outlive the transports.
struct backend {
    services::job_service& service;
    const tasks::task_catalog& catalog;
    /// Defaults every submitted job starts from (api.job_defaults).
    const jobs::job_spec& defaults;
    /// The roles that delegated calls name.
    const auth::authority& auth;
};

struct session_options {
    /// Calls carry the `user` and `role` they run for: a trusted proxy's listener only.
    bool delegated = false;
    /// Send update messages (ASEXOR's raw `no_update` turns them off).
    bool updates = true;
};

/**
 * One ASEXOR session: a caller, the core subscription its updates come from, and the call id of
 * each job it started. The call ids and the messages not yet sent are kept *with the subscription*
 * (an attachment), so a WebSocket session that reconnects within the subscription's linger time is
 * replayed its updates, call ids and all.
 *
 * Every transport sends what take() gives, in order: a call's reply (its task id) always comes
 * before that call's first update, as ASEXOR's own clients need.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class session {
  public:
    /// A session of `who` reading `sub` (new, or resumed: its attachment then carries on).
    session(const backend& b,
            auth::identity who,
            std::shared_ptr<services::subscription> sub,
            session_options options = {});
    ~session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    /// What a call is answered with: its reply (the task id) or an error message.
    struct answer {
        boost::json::value message;
        /// Why the message had no call id to answer with: `message` then has call id 0, and the
        /// transport decides (ASEXOR's long-poll answers so; a connection closes, logging why).
        std::optional<std::string> unusable;
    };
    /**
     * Runs one call message: reads it, submits its task as the caller (or, delegated, as the user
     * it names), and answers with the reply or an error message saying why not. The answer to a
     * usable message is queued ahead of the call's updates unless `queue_answer` is false (a
     * long-poll answers in the POST's response instead).
     */
    net::awaitable<answer> call(const boost::json::value& message, bool queue_answer = true);
    /// Replies, errors and updates to send now, in order; empty when there is nothing.
    std::vector<boost::json::value> take();
    /// Puts back messages taken but not sent (the connection failed): they go out first next time.
    void put_back(std::vector<boost::json::value> unsent);
    bool has_pending() const;
    /// Returns when there may be something to take, or a reason to stop.
    net::awaitable<void> wait() { return sub_->wait(); }
    /// Why the session should stop: its subscription closed (expired, too slow, corrald stopping)
    /// or another connection took it over (replaced() then).
    std::optional<std::string> ended() const;
    bool replaced() const { return !reader_.current(); }
    services::subscription& subscription() const { return *sub_; }
    const auth::identity& who() const { return who_; }

  private:
    struct book;
    /// The caller a call runs as: the session's, or the user and role a delegated call names.
    result_info<auth::identity> caller(const call_message& c) const;
    net::awaitable<boost::json::value> submit(call_message c, bool queue_answer);
    /// Follows the new job and queues the updates for what already happened to it.
    void track(jobs::job& j, const boost::json::value& call_id);
    /// The update for one event of a job this session started, if ASEXOR sends one for it.
    std::optional<boost::json::value> update_for(const services::event_record& e);

    const backend& backend_;
    auth::identity who_;
    std::shared_ptr<services::subscription> sub_;
    services::subscription::reader reader_;
    session_options options_;
    book& book_;
};

/// A subscription for a new session of `who`. A delegated listener's sessions submit for other
/// users, so theirs sees every user's jobs (it is told only of the ones it submits). Errors: those of
/// job_service::subscribe_as().
result_info<std::shared_ptr<services::subscription>> open_subscription(const backend& b,
                                                                       const auth::identity& who,
                                                                       bool delegated);

}  // namespace corral::proto::asexor
