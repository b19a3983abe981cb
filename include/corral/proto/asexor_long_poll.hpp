#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "corral/proto/asexor_session.hpp"
#include "corral/proto/http_front.hpp"

namespace corral::proto::asexor {

struct long_poll_options {
    /// A GET with nothing to return waits this long, then returns `[]` (ASEXOR's LONG_POLL_TIMEOUT).
    std::chrono::seconds poll_timeout{600};
    /// The cookie's Max-Age, and a session's longest life (MAX_SESSION_TIME).
    std::chrono::seconds session_max_age{86'400};
    /// A session not used for this long is let go (MAX_SESSION_INACTIVITY).
    std::chrono::seconds session_inactivity{3'600};
    /// Sessions at most; past it the one used longest ago goes.
    std::size_t max_sessions = 10'000;
};

/// The session cookie's name, as ASEXOR's clients expect it.
inline constexpr std::string_view session_cookie = "ASEXOR_LP_SESSION";

/// The value of cookie `name` in a Cookie header ("a=1; ASEXOR_LP_SESSION=ab12"); empty when absent.
std::string_view cookie_value(std::string_view header, std::string_view name);

/**
 * ASEXOR's HTTP long-poll, on a listener of its own at `/` (research/seeds-inventory.md §4.3).
 * `POST /` with a JSON call message answers with its reply or error message; `GET /` answers with
 * a JSON array of the session's pending update messages, waiting until there is one or the poll
 * timeout passes (then `[]`). The session is named by the cookie ASEXOR_LP_SESSION (40 random hex
 * characters); a request without a valid cookie must carry `Authorization: Bearer TOKEN` (else 401)
 * and starts a session, setting the cookie. A GET that carries Authorization returns at once and
 * releases any poll of its session still waiting. A poll whose client goes away stops waiting.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class long_poll_route final : public http_route {
  public:
    /// `b` and `auth` must outlive the route; `blocking` looks up Unix socket peers' names.
    long_poll_route(const backend& b,
                    const auth::authority& auth,
                    net::any_io_executor blocking,
                    long_poll_options options);
    ~long_poll_route() override;
    /// Serves every path of `front` (ASEXOR's long-poll has the one resource, `/`).
    void add_to(http_front& front) { front.add("/", *this, route_access::open); }

    net::awaitable<http::reply> serve(http::request& req,
                                      const http::peer& who,
                                      const auth::identity& me,
                                      const target& t) override;
    std::size_t sessions() const { return sessions_.size(); }

  private:
    struct entry;
    /// The live session the request's cookie names; null when none (missing, unknown, expired).
    std::shared_ptr<entry> find(const http::request& req);
    result_info<std::shared_ptr<entry>> open(const auth::identity& me);
    /// Lets expired sessions go, and the least recently used ones past max_sessions.
    void sweep(std::size_t room);
    bool expired(const entry& e, std::chrono::steady_clock::time_point now) const;
    net::awaitable<http::reply> poll(const http::peer& who, entry& e, bool release);
    net::awaitable<http::reply> post(http::request& req, entry& e);

    const backend& backend_;
    const auth::authority& auth_;
    net::any_io_executor blocking_;
    long_poll_options options_;
    std::unordered_map<std::string, std::shared_ptr<entry>> sessions_;
};

}  // namespace corral::proto::asexor
