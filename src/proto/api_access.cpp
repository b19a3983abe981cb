// api_router's routes for tasks and the queue, and how it learns who is calling and what they submit.

#include <fmt/format.h>
#include <boost/json.hpp>

#include "corral/auth/access.hpp"
#include "corral/jobs/job_json.hpp"
#include "corral/proto/api_router.hpp"
#include "corral/services/task_request.hpp"
#include "proto/api_access.hpp"

namespace corral::proto {

namespace json = boost::json;

result_info<auth::identity> identify(const http::request& req,
                                     const http::peer& who,
                                     const target& t,
                                     const auth::authority& auth) {
    std::optional<std::string> token;
    if (auto header = req.find(boost::beast::http::field::authorization); header != req.end()) {
        std::string_view v = header->value();
        if (!v.starts_with("Bearer ")) {
            return error_info{errc::unauthenticated, "Authorization: expected \"Bearer TOKEN\""};
        }
        token = std::string(v.substr(7));
    } else if (auto param = t.param("token")) {
        token = std::move(param);  // browsers cannot set headers on EventSource and WebSocket
    }
    return auth.identify(token, local_user(who));
}

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
    return error_reply(http::status::bad_request, "invalid_job", e.what());
}

result_info<services::submit_request> api_router::parse_submission(const json::value& body,
                                                                   const identity& me) {
    auto request = services::is_task_request(body)
                       ? services::parse_task_request(body, catalog_, options_.job_defaults, options_.limits)
                       : services::parse_job_request(body, options_.job_defaults, options_.limits);
    if (!request) {
        return request.error();
    }
    const bool priority_given = body.is_object() && body.get_object().contains("priority");
    if (auto allowed = auth::check_submit(me, *request, priority_given); !allowed) {
        return allowed.error();
    }
    if (!priority_given) {
        request->spec.priority = me.role->priority;
    }
    request->owner = me.user;
    return request;
}

http::reply api_router::tasks() const {
    json::array list;
    for (const auto& t : catalog_.all()) {
        list.emplace_back(tasks::to_json(t));
    }
    return json_reply(http::status::ok, {{"tasks", std::move(list)}});
}

http::reply api_router::queue(const http::request&, const identity& me, std::string_view action) {
    if (action == "drain" || action == "resume") {
        if (auto allowed = auth::check_admin(me); !allowed) {
            return error_reply(http::status::forbidden, "forbidden", allowed.error().what());
        }
        service_.set_draining(action == "drain");
    } else if (!action.empty()) {
        return error_reply(http::status::not_found,
                           "not_found",
                           fmt::format("no queue action '{}' (drain, resume)", action));
    }
    const auto& sched = service_.scheduler();
    json::array waiting;
    for (const auto& q : sched.snapshot(1000)) {
        const auto* j = service_.find(q.id);
        if (!j || (!auth::sees_all(me) && j->owner != me.user)) {
            continue;
        }
        waiting.push_back(json::object{{"id", q.id},
                                       {"priority", q.position.priority},
                                       {"group", q.group},
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
