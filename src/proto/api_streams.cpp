// api_router's stream routes: WebSocket (`/api/v1/stream`) and SSE (`/api/v1/events`), each a
// watch_session reading a subscription of the job service (new, or resumed with `session=ID`).
#include <fmt/format.h>
#include <boost/beast/websocket/rfc6455.hpp>

#include "corral/proto/api_router.hpp"
#include "proto/api_access.hpp"

namespace corral::proto {
namespace {

namespace field = boost::beast::http;

}  // namespace

http::reply api_router::events(const http::request& req, const target& t, const identity& me) {
    std::vector<follow_request> subs;
    std::string error;
    auto from = number_param(t, "from", 0, 0, UINT64_MAX, error);
    if (!from) {
        return error_reply(http::status::bad_request, "bad_query", error);
    }
    const bool output = t.param("output") != "false" && t.param("output") != "0";
    for (const auto& text : t.params("job")) {
        auto id = to_number(text);
        // A job the caller may not see is "no job", as a missing one (route_job says why).
        if (!id || !service_.find_as(me, *id)) {
            return error_reply(http::status::not_found, "job_not_found", fmt::format("no job '{}'", text));
        }
        subs.push_back({*id, *from, output});
    }
    // EventSource reconnects with the id of the last event it saw: "JOB:OFFSET" resumes that job there.
    if (auto last = req.find("Last-Event-ID"); last != req.end()) {
        std::string_view v = last->value();
        auto colon = v.find(':');
        auto id = to_number(v.substr(0, colon));
        auto offset = colon == std::string_view::npos ? std::nullopt : to_number(v.substr(colon + 1));
        for (auto& s : subs) {
            if (id && offset && s.job == *id) {
                s.from = *offset;
            }
        }
    }
    const bool all = t.param("all") == "true" || t.param("all") == "1";
    const bool services = t.param("services") == "true" || t.param("services") == "1";
    if (subs.empty() && !all && !services) {
        return error_reply(
            http::status::bad_request, "bad_query", "give job=ID (repeatable), all=true and/or services=true");
    }
    auto sub = subscription_for(t, me);
    if (!sub) {
        return subscription_error(sub.error());
    }
    if (services) {
        if (auto ok = service_.follow_services_as(me, **sub, true); !ok) {
            return error_reply(http::status::forbidden, "forbidden", ok.error().what());
        }
    }
    auto r = text_reply(http::status::ok, "", "text/event-stream");
    r.head.set(field::field::cache_control, "no-cache");
    r.head.set("X-Corral-Session", (*sub)->id());
    r.events = [this, subs, all, me, sub = *sub](http::event_stream& stream) -> net::awaitable<void> {
        watch_session session(service_, me, sub, options_.watch, watch_stats_, output_frames_, wire_format::sse);
        if (all) {
            session.subscribe_all();
        }
        for (const auto& s : subs) {
            if (!sub->follows(s.job)) {  // a resumed subscription goes on from its own cursor
                session.subscribe(s);
            }
        }
        co_await session.serve(stream);
    };
    return r;
}

result_info<std::shared_ptr<services::subscription>> api_router::subscription_for(const target& t,
                                                                                  const identity& me) {
    if (auto id = t.param("session")) {
        return service_.resume_as(me, *id);
    }
    return service_.subscribe_as(me);
}

http::reply api_router::subscription_error(const error_info& e) {
    if (e.code == errc::queue_full) {
        return error_reply(http::status::service_unavailable, "too_many_subscriptions", e.what());
    }
    if (e.code == errc::invalid_state) {
        return error_reply(http::status::service_unavailable, "stopping", e.what());
    }
    return error_reply(http::status::not_found, "subscription_not_found", e.what());
}

http::reply api_router::websocket(const http::request& req, const target& t, const identity& me) {
    if (!boost::beast::websocket::is_upgrade(req)) {
        return error_reply(http::status::upgrade_required,
                           "upgrade_required",
                           "this is a WebSocket endpoint: connect with a WebSocket client");
    }
    std::vector<follow_request> subs;
    std::string error;
    auto from = number_param(t, "from", 0, 0, UINT64_MAX, error);
    if (!from) {
        return error_reply(http::status::bad_request, "bad_query", error);
    }
    for (const auto& text : t.params("job")) {
        auto id = to_number(text);
        if (!id) {
            return error_reply(
                http::status::bad_request, "bad_query", fmt::format("job '{}' is not a job id", text));
        }
        subs.push_back({*id, *from, true});
    }
    auto sub = subscription_for(t, me);
    if (!sub) {
        return subscription_error(sub.error());
    }
    if (t.param("services") == "true" || t.param("services") == "1") {
        if (auto ok = service_.follow_services_as(me, **sub, true); !ok) {
            return error_reply(http::status::forbidden, "forbidden", ok.error().what());
        }
    }
    http::reply r;
    r.websocket = [this, subs, me, sub = *sub](http::message_channel& channel) -> net::awaitable<void> {
        watch_session session(service_, me, sub, options_.watch, watch_stats_, output_frames_, wire_format::websocket);
        for (const auto& s : subs) {
            if (!sub->follows(s.job)) {  // a resumed subscription goes on from its own cursor
                session.subscribe(s);
            }
        }
        co_await session.serve(channel);
    };
    return r;
}

}  // namespace corral::proto
