#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "corral/core/async_event.hpp"
#include "corral/proto/asexor_session.hpp"
#include "corral/proto/http_front.hpp"

namespace corral::proto::asexor {

struct websocket_options {
    /// Where the route is served on every HTTP listener (ASEXOR: /ws).
    std::string path = "/ws";
    /// A session to which nothing was sent for this long is closed (ASEXOR's INACTIVE_TIMEOUT).
    std::chrono::seconds inactive_timeout{3600};
};

/**
 * ASEXOR's WebSocket, `GET /ws?token=T[&session_id=S]` (research/seeds-inventory.md §4.3): text
 * frames carry call messages in and replies, errors and updates out. The front has authenticated
 * the caller (no valid token: 401). A session named by `session_id` is kept by the core
 * subscription it reads, so updates for a disconnected session wait there (api.subscription_linger,
 * ASEXOR's 60 s) and are replayed when the same user reconnects with the same id; a second
 * connection with that id takes the session over and the first is closed (1000, "Closing session S
 * replaced or timeout"). corrald stopping closes sessions with 1012 "Server shutdown".
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class websocket_route final : public http_route {
  public:
    websocket_route(const backend& b, websocket_options options);
    void add_to(http_front& front) { front.add(options_.path, *this, route_access::caller); }

    net::awaitable<http::reply> serve(http::request& req,
                                      const http::peer& who,
                                      const auth::identity& me,
                                      const target& t) override;
    /// Named sessions remembered (some may have expired since).
    std::size_t named_sessions() const { return named_.size(); }
    /// Connections open now.
    std::size_t connections() const { return live_.size(); }

    /// corrald is stopping: each connection sends what it has, then closes with 1012 "Server
    /// shutdown" (before the listener cancels it: a cancelled WebSocket can send no close frame).
    void shut_down();
    /// Returns once every connection has closed, or at `deadline`.
    net::awaitable<void> wait_closed(std::chrono::steady_clock::time_point deadline);

  private:
    /// The subscription of `me`'s session `name`: the one it had if it is still kept, else a new one.
    result_info<std::shared_ptr<services::subscription>> subscription_for(const auth::identity& me,
                                                                          const std::optional<std::string>& name);
    net::awaitable<void> run(http::message_channel& channel, session& s, std::string name);

    const backend& backend_;
    websocket_options options_;
    /// (user, session_id) to the subscription it reads; swept of expired ones as it grows.
    std::map<std::pair<std::string, std::string>, std::string> named_;
    std::size_t sweep_at_ = 1024;
    /// The subscriptions of open connections, to wake at shutdown.
    std::multiset<services::subscription*> live_;  // a replaced session's two connections share one
    bool stopping_ = false;
    async_event closed_;
};

}  // namespace corral::proto::asexor
