#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "corral/auth/authority.hpp"
#include "corral/net/http_types.hpp"
#include "corral/proto/http_replies.hpp"
#include "corral/proto/request_guard.hpp"

namespace corral::proto {

/// One adapter's part of the HTTP surface: the requests under the path it registered.
class http_route {
  public:
    virtual ~http_route() = default;
    /// `me` is the authenticated caller; on an open route, an empty identity.
    virtual net::awaitable<http::reply> serve(http::request& req,
                                              const http::peer& who,
                                              const auth::identity& me,
                                              const target& t) = 0;
};

/// Who may reach a route.
enum class route_access {
    caller,  ///< an authenticated caller (a token, or a Unix socket peer); others get 401
    open,    ///< anyone who passes the request guard: /healthz, the web page's files
};

/**
 * The front door of every HTTP listener. Before any route sees a request it applies the request
 * guard (no page on another origin or behind a rebound `Host` gets anything done), answers CORS
 * preflights, parses the target and authenticates the caller; then it hands the request to the
 * route registered for its path. Adapters register their own paths (the native API, acons's
 * JSON-RPC, the web page's files; later ASEXOR's and WAMP's) instead of editing one central router.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class http_front final : public http::handler, public http::request_counter {
  public:
    /// `auth` must outlive the front; `blocking` runs user-name lookups for Unix socket peers.
    http_front(guard_options guard, const auth::authority& auth, net::any_io_executor blocking);

    /// Serves `path` with `route`: exactly ("/healthz"), or every path under it when it ends in '/'
    /// ("/api/v1/"; "/" alone catches everything). The longest match wins. `route` must outlive the
    /// front.
    void add(std::string_view path, http_route& route, route_access access);

    net::awaitable<http::reply> handle(http::request& req, const http::peer& who) override;
    void count(unsigned status) override { ++requests_[status]; }
    /// Requests answered, by status.
    const std::map<unsigned, std::uint64_t>& requests() const { return requests_; }

  private:
    struct entry {
        std::vector<std::string> segments;
        bool prefix = false;
        http_route* route = nullptr;
        route_access access = route_access::caller;
    };
    const entry* find(const target& t) const;
    net::awaitable<http::reply> dispatch(http::request& req, const http::peer& who);

    guard_options guard_;
    const auth::authority& auth_;
    net::any_io_executor blocking_;
    std::vector<entry> routes_;
    std::map<unsigned, std::uint64_t> requests_;
};

/// The caller: a bearer token (header, or `?token=` for browsers), else the Unix socket peer.
net::awaitable<result_info<auth::identity>> identify(const http::request& req,
                                                     const http::peer& who,
                                                     const target& t,
                                                     const auth::authority& auth,
                                                     net::any_io_executor blocking);

}  // namespace corral::proto
