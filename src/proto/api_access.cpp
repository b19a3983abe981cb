// api_router's routes for tasks, the queue and the audit trail, and what a caller submits (the job
// service decides whether they may, and makes it durable before it is acknowledged; who is calling
// was settled by http_front).

#include <charconv>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "corral/services/job_service.hpp"
#include "corral/jobs/job_json.hpp"
#include "corral/proto/api_router.hpp"
#include "corral/services/task_request.hpp"
#include "proto/api_access.hpp"

namespace corral::proto {

namespace json = boost::json;

http::reply submit_error_reply(const error_info& e) {
    if (e.code == errc::forbidden) {
        return error_reply(http::status::forbidden, "forbidden", e.what());
    }
    if (e.code == errc::queue_full) {
        return error_reply(http::status::too_many_requests, "queue_full", e.what());
    }
    if (e.code == errc::task_not_found) {
        return error_reply(http::status::not_found, "task_not_found", e.what());
    }
    if (e.code == errc::invalid_state) {
        return error_reply(http::status::service_unavailable, "not_accepting", e.what());
    }
    if (e.code == errc::store_failed) {
        return error_reply(http::status::service_unavailable, "store_failed", e.what());
    }
    return error_reply(http::status::bad_request, "invalid_job", e.what());
}

result_info<services::submit_request> api_router::parse_submission(const json::value& body) {
    auto request = services::is_task_request(body)
                       ? services::parse_task_request(body, catalog_, options_.job_defaults, options_.limits)
                       : services::parse_job_request(body, options_.job_defaults, options_.limits);
    if (request) {
        // Who may submit it, as whom and at which priority is the job service's to decide (submit_as).
        request->priority_given = body.is_object() && body.get_object().contains("priority");
    }
    return request;
}

http::reply api_router::tasks() const {
    json::array list;
    for (const auto& t : catalog_.all()) {
        list.emplace_back(tasks::to_json(t));
    }
    return json_reply(http::status::ok, {{"tasks", std::move(list)}});
}

http::reply api_router::who_am_i(const identity& me) const {
    const auto& r = *me.role;
    json::array tasks;
    if (r.admin) {
        tasks.emplace_back("*");
    } else {
        tasks = json::array(r.tasks.begin(), r.tasks.end());
    }
    return json_reply(http::status::ok,
                      {{"user", me.user},
                       {"role",
                        {{"name", r.name},
                         {"tasks", std::move(tasks)},
                         {"commands", r.commands || r.admin},
                         {"see_all", r.see_all || r.admin},
                         {"kill_all", r.kill_all || r.admin},
                         {"set_priority", r.set_priority || r.admin},
                         {"priority", r.priority},
                         {"admin", r.admin}}}});
}

std::optional<std::uint64_t> to_number(std::string_view text) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return n;
}

std::optional<std::uint64_t> number_param(const target& t,
                                          std::string_view key,
                                          std::uint64_t fallback,
                                          std::uint64_t min,
                                          std::uint64_t max,
                                          std::string& error) {
    auto text = t.param(key);
    if (!text) {
        return fallback;
    }
    auto n = to_number(*text);
    if (!n || *n < min || *n > max) {
        error = fmt::format(
            "query parameter {}: expected a whole number from {} to {}, got '{}'", key, min, max, *text);
        return std::nullopt;
    }
    return n;
}

net::awaitable<http::reply> api_router::audit(const target& t, const identity& me) {
    std::string error;
    auto job = number_param(t, "job", 0, 0, UINT64_MAX, error);
    auto limit = number_param(t, "limit", 100, 1, 1000, error);
    auto before = number_param(t, "before", 0, 0, INT64_MAX, error);
    if (!job || !limit || !before) {
        co_return error_reply(http::status::bad_request, "bad_query", error);
    }
    auto page = co_await service_.audit_trail_as(me, *job, *limit, static_cast<std::int64_t>(*before));
    if (!page && page.error().code == errc::forbidden) {
        co_return error_reply(http::status::forbidden, "forbidden", page.error().what());
    }
    if (!page) {
        const bool none = page.error().code == errc::unsupported;
        co_return error_reply(none ? http::status::not_found : http::status::service_unavailable,
                              none ? "no_store" : "store_failed",
                              page.error().what());
    }
    json::array entries;
    for (const auto& e : page->entries) {
        entries.push_back(json::object{{"time", jobs::format_time(e.time)},
                                       {"actor", e.actor},
                                       {"action", e.action},
                                       {"job", e.job},
                                       {"detail", e.detail}});
    }
    json::object body{{"entries", std::move(entries)}};
    body["next"] = page->next ? json::value(page->next) : json::value(nullptr);
    co_return json_reply(http::status::ok, body);
}

http::reply api_router::queue(const http::request&, const identity& me, std::string_view action) {
    if (action == "drain" || action == "resume") {
        if (auto done = service_.set_draining_as(me, action == "drain"); !done) {
            return error_reply(http::status::forbidden, "forbidden", done.error().what());
        }
    } else if (!action.empty()) {
        return error_reply(http::status::not_found,
                           "not_found",
                           fmt::format("no queue action '{}' (drain, resume)", action));
    }
    const auto& sched = service_.scheduler();
    json::array waiting;
    for (const auto* j : service_.queue_as(me, 1000)) {
        waiting.push_back(json::object{{"id", j->id},
                                       {"priority", j->spec.priority},
                                       {"group", j->spec.group},
                                       {"owner", j->owner},
                                       {"task", j->task},
                                       {"created", jobs::format_time(j->created)}});
    }
    json::object groups;
    for (const auto& [name, load] : sched.groups()) {
        groups[name.empty() ? "(none)" : name] = {
            {"running", load.running}, {"queued", load.queued}, {"limit", load.limit}};
    }
    return json_reply(http::status::ok,
                      {{"draining", service_.draining()},
                       {"slots", sched.slots()},
                       {"running", sched.running()},
                       {"queued", sched.queued()},
                       {"groups", std::move(groups)},
                       {"jobs", std::move(waiting)}});
}

}  // namespace corral::proto
