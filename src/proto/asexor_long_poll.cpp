// ASEXOR's HTTP long-poll: POST a call, GET the updates, a cookie names the session.
#include "corral/proto/asexor_long_poll.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>

#include "corral/core/random_id.hpp"
#include "corral/proto/http_replies.hpp"

namespace corral::proto::asexor {

namespace json = boost::json;
namespace field = boost::beast::http;
using namespace boost::asio::experimental::awaitable_operators;
using steady = std::chrono::steady_clock;

struct long_poll_route::entry {
    std::string id;
    session s;
    steady::time_point created = steady::now();
    steady::time_point used = created;
    /// Bumped by a GET that carries Authorization: polls waiting since before it return.
    std::uint64_t releases = 0;
    /// Let go (expired or evicted) while a poll still held it: that poll returns.
    bool gone = false;

    entry(std::string id_, const backend& b, auth::identity who, std::shared_ptr<services::subscription> sub)
        : id(std::move(id_)), s(b, std::move(who), std::move(sub)) {}
};

namespace {

constexpr std::size_t cookie_id_bytes = 20;  // 40 hex characters, as long as ASEXOR's id

/// A JSON message or array as ASEXOR writes it: no trailing newline (its clients compare '[]').
http::reply message_reply(http::status status, const json::value& body) {
    return text_reply(status, json::serialize(body), "application/json");
}

http::reply unauthorized(std::string_view why) {
    auto r = error_reply(http::status::unauthorized, "unauthenticated", why);
    r.head.set(field::field::www_authenticate, "Bearer");
    return r;
}

}  // namespace

std::string_view cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        const auto end = std::min(header.find(';'), header.size());
        auto pair = header.substr(0, end);
        header.remove_prefix(std::min(end + 1, header.size()));
        while (!pair.empty() && pair.front() == ' ') {
            pair.remove_prefix(1);
        }
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
            auto value = pair.substr(eq + 1);
            while (!value.empty() && value.back() == ' ') {
                value.remove_suffix(1);
            }
            return value;
        }
    }
    return {};
}

long_poll_route::long_poll_route(const backend& b,
                                 const auth::authority& auth,
                                 net::any_io_executor blocking,
                                 long_poll_options options)
    : backend_(b), auth_(auth), blocking_(std::move(blocking)), options_(options) {}

long_poll_route::~long_poll_route() = default;

bool long_poll_route::expired(const entry& e, steady::time_point now) const {
    return e.gone || now >= e.created + options_.session_max_age ||
           now >= e.used + options_.session_inactivity || e.s.ended();
}

void long_poll_route::sweep(std::size_t room) {
    const auto now = steady::now();
    auto let_go = [](entry& e) {
        e.gone = true;
        e.s.subscription().close("its long-poll session ended");
    };
    std::erase_if(sessions_, [&](auto& item) {
        if (expired(*item.second, now)) {
            let_go(*item.second);
            return true;
        }
        return false;
    });
    while (!sessions_.empty() && sessions_.size() + room > options_.max_sessions) {
        auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
            return a.second->used < b.second->used;
        });
        let_go(*oldest->second);
        sessions_.erase(oldest);
    }
}

std::shared_ptr<long_poll_route::entry> long_poll_route::find(const http::request& req) {
    auto header = req.find(field::field::cookie);
    if (header == req.end()) {
        return nullptr;
    }
    const auto id = cookie_value(header->value(), session_cookie);
    if (id.size() != 2 * cookie_id_bytes) {
        return nullptr;
    }
    auto it = sessions_.find(std::string(id));
    if (it == sessions_.end()) {
        return nullptr;
    }
    if (expired(*it->second, steady::now())) {
        it->second->gone = true;
        it->second->s.subscription().close("its long-poll session ended");
        sessions_.erase(it);
        return nullptr;
    }
    return it->second;
}

result_info<std::shared_ptr<long_poll_route::entry>> long_poll_route::open(const auth::identity& me) {
    sweep(1);
    auto sub = open_subscription(backend_, me, false);
    if (!sub) {
        return sub.error();
    }
    auto e = std::make_shared<entry>(random_id(cookie_id_bytes), backend_, me, *sub);
    sessions_[e->id] = e;
    return e;
}

net::awaitable<http::reply> long_poll_route::serve(http::request& req,
                                                   const http::peer& who,
                                                   const auth::identity&,
                                                   const target& t) {
    if (!t.segments.empty()) {
        co_return error_reply(http::status::not_found, "not_found", "ASEXOR's long-poll has one resource: /");
    }
    if (req.method() != http::verb::get && req.method() != http::verb::post) {
        auto r = error_reply(http::status::method_not_allowed, "method_not_allowed", "use GET (updates) or POST (a call)");
        r.head.set(field::field::allow, "GET, POST, OPTIONS");
        co_return r;
    }
    const bool has_auth = req.find(field::field::authorization) != req.end();
    auto e = find(req);
    std::string new_cookie;
    if (!e) {
        if (!has_auth) {
            co_return unauthorized("no session: send Authorization: Bearer TOKEN to start one");
        }
        const auto me = co_await identify(req, who, t, auth_, blocking_);
        if (!me) {
            co_return unauthorized(me.error().what());
        }
        auto opened = open(*me);
        if (!opened) {
            co_return error_reply(http::status::service_unavailable, "unavailable", opened.error().what());
        }
        e = std::move(*opened);
        new_cookie = fmt::format("{}={}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax",
                                 session_cookie,
                                 e->id,
                                 options_.session_max_age.count());
    }
    e->used = steady::now();
    http::reply r;
    if (req.method() == http::verb::post) {
        r = co_await post(req, *e);
    } else {
        r = co_await poll(who, *e, has_auth);
    }
    if (!new_cookie.empty()) {
        r.head.set(field::field::set_cookie, new_cookie);
    }
    r.head.set(field::field::cache_control, "no-store");
    co_return r;
}

net::awaitable<http::reply> long_poll_route::post(http::request& req, entry& e) {
    if (auto refused = require_body_type(req, {"application/json"})) {
        co_return std::move(*refused);
    }
    boost::system::error_code ec;
    auto message = json::parse(req.body(), ec);
    if (ec) {
        co_return message_reply(http::status::bad_request,
                                error_message(0, fmt::format("Invalid message: not JSON ({})", ec.message())));
    }
    auto answer = co_await e.s.call(message, false);
    co_return message_reply(http::status::ok, answer.message);
}

net::awaitable<http::reply> long_poll_route::poll(const http::peer& who, entry& e, bool release) {
    if (release) {
        // ASEXOR: a GET with credentials returns at once, and frees a poll left waiting.
        ++e.releases;
        e.s.subscription().wake();
    } else {
        const auto releases = e.releases;
        const auto deadline = steady::now() + options_.poll_timeout;
        auto wait = [&]() -> net::awaitable<void> {
            net::steady_timer timer(co_await net::this_coro::executor, deadline);
            while (!e.s.has_pending() && !e.gone && !e.s.ended() && e.releases == releases &&
                   steady::now() < deadline) {
                co_await (e.s.wait() || timer.async_wait(use_nothrow));
            }
        };
        if (who.link) {
            auto waiting = wait();
            const bool stayed = co_await who.link->unless_gone(std::move(waiting));
            if (!stayed) {
                co_return text_reply(http::status::no_content, "", "text/plain");  // nobody reads it
            }
        } else {
            co_await wait();
        }
    }
    json::array out;
    for (auto& m : e.s.take()) {
        out.push_back(std::move(m));
    }
    e.used = steady::now();
    co_return message_reply(http::status::ok, out);
}

}  // namespace corral::proto::asexor
