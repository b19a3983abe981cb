// The front door every HTTP request passes: guard, CORS, authentication, then the registered route.
#include "corral/proto/http_front.hpp"

#include <pwd.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include <fmt/format.h>
#include <boost/beast/http/field.hpp>

#include "corral/core/blocking_work.hpp"
#include "corral/net/peer_user.hpp"

namespace corral::proto {
namespace {

namespace field = boost::beast::http;

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> segments;
    while (!path.empty()) {
        path.remove_prefix(path.front() == '/' ? 1 : 0);
        const auto end = std::min(path.find('/'), path.size());
        if (end > 0) {
            segments.emplace_back(path.substr(0, end));
        }
        path.remove_prefix(end);
    }
    return segments;
}

http::reply no_route(const http::request& req) {
    return error_reply(
        http::status::not_found,
        "not_found",
        fmt::format(
            "no route for {} {}", std::string_view(req.method_string()), std::string_view(req.target())));
}

}  // namespace

http_front::http_front(guard_options guard, const auth::authority& auth, net::any_io_executor blocking)
    : guard_(std::move(guard)), auth_(auth), blocking_(std::move(blocking)) {}

void http_front::add(std::string_view path, http_route& route, route_access access) {
    routes_.push_back({split_path(path), path.ends_with('/'), &route, access});
    // Longest first, so that the first match is the most specific one.
    std::stable_sort(routes_.begin(), routes_.end(), [](const entry& a, const entry& b) {
        return a.segments.size() > b.segments.size();
    });
}

const http_front::entry* http_front::find(const target& t) const {
    for (const auto& e : routes_) {
        const bool fits = e.prefix ? t.segments.size() >= e.segments.size() : t.segments.size() == e.segments.size();
        if (fits && std::equal(e.segments.begin(), e.segments.end(), t.segments.begin())) {
            return &e;
        }
    }
    return nullptr;
}

net::awaitable<http::reply> http_front::handle(http::request& req, const http::peer& who) {
    // Before anything else, and before any credential is looked at: a page on another site or behind
    // a rebound DNS name gets nothing done, whatever the browser attaches (docs/security.md).
    if (auto refused = guard_request(req, who, guard_)) {
        co_return std::move(*refused);
    }
    const bool cross_origin = allowed_cross_origin(req, guard_);
    http::reply r;
    if (req.method() == http::verb::options) {
        // A CORS preflight carries no credentials: answered for the allowed origins without them.
        r = text_reply(http::status::no_content, "", "text/plain");
        r.head.set(field::field::allow, "GET, POST, OPTIONS");
        if (cross_origin) {
            r.head.set(field::field::access_control_allow_methods, "GET, POST, OPTIONS");
            r.head.set(field::field::access_control_allow_headers,
                       "Content-Type, Authorization, Last-Event-ID");
            r.head.set(field::field::access_control_max_age, "600");
        }
    } else {
        r = co_await dispatch(req, who);
    }
    if (cross_origin) {
        r.head.set(field::field::access_control_allow_origin, req[field::field::origin]);
        r.head.set(field::field::vary, "Origin");
        if (guard_.cors_credentials) {
            r.head.set(field::field::access_control_allow_credentials, "true");
        }
        r.head.set(field::field::access_control_expose_headers,
                   "Location, X-Corral-Next, X-Corral-Lost, X-Corral-Eof, X-Corral-State, X-Corral-Stream");
    }
    co_return r;
}

net::awaitable<http::reply> http_front::dispatch(http::request& req, const http::peer& who) {
    std::string error;
    const auto t = parse_target(req.target(), error);
    if (!t) {
        co_return error_reply(http::status::bad_request, "bad_target", error);
    }
    const auto* e = find(*t);
    if (!e) {
        co_return no_route(req);
    }
    if (e->access == route_access::open) {
        const auth::identity nobody{};
        auto r = co_await e->route->serve(req, who, nobody, *t);
        co_return r;
    }
    const auto me = co_await identify(req, who, *t, auth_, blocking_);
    if (!me) {
        auto r = error_reply(http::status::unauthorized, "unauthenticated", me.error().what());
        r.head.set(field::field::www_authenticate, "Bearer");
        co_return r;
    }
    // Named first, no temporaries: g++ 12 miscompiles temporaries inside a co_await expression.
    const auth::identity caller = *me;
    auto r = co_await e->route->serve(req, who, caller, *t);
    co_return r;
}

net::awaitable<result_info<auth::identity>> identify(const http::request& req,
                                                     const http::peer& who,
                                                     const target& t,
                                                     const auth::authority& auth,
                                                     net::any_io_executor blocking) {
    std::optional<std::string> token;
    if (auto header = req.find(field::field::authorization); header != req.end()) {
        std::string_view v = header->value();
        if (!v.starts_with("Bearer ")) {
            co_return error_info{errc::unauthenticated, "Authorization: expected \"Bearer TOKEN\""};
        }
        token = std::string(v.substr(7));
    } else if (auto param = t.param("token")) {
        token = std::move(param);  // browsers cannot set headers on EventSource and WebSocket
    }
    // Named first: g++ 12 miscompiles temporaries inside a co_await expression.
    const auto user = co_await sockets::local_user(who, std::move(blocking));
    co_return auth.identify(token, user);
}


}  // namespace corral::proto
