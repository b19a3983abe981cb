// /api/v1/schedules: the schedules (services::schedule_runner), with when each fires next. Reading
// them takes see_all (a schedule's job may carry what other users should not see); adding and
// removing one takes an admin (its jobs are submitted by the daemon, as the owner it names).
#include <fmt/format.h>
#include <boost/json.hpp>

#include "corral/jobs/job_json.hpp"
#include "corral/proto/api_router.hpp"

namespace corral::proto {
namespace {

namespace json = boost::json;

json::value time_or_null(const std::optional<jobs::clock::time_point>& t) {
    return t ? json::value(jobs::format_time(*t)) : json::value(nullptr);
}

json::object view(const services::schedule_runner& runner, const services::schedule_runner::entry& e) {
    auto o = services::schedule_to_json(e.def);
    o["when"] = e.def.when();
    o["added"] = e.def.added;
    o["last_run"] = time_or_null(e.last_run);
    o["last_job"] = e.last_job ? json::value(e.last_job) : json::value(nullptr);
    o["last_outcome"] = e.last_outcome;
    json::array next;
    for (auto t : runner.next_runs(e, jobs::clock::now(), 3)) {
        next.emplace_back(jobs::format_time(t));
    }
    o["next_runs"] = std::move(next);
    return o;
}

http::reply method_not_allowed(const http::request& req, std::string_view allowed) {
    auto r = error_reply(http::status::method_not_allowed,
                         "method_not_allowed",
                         fmt::format("{} is not allowed on {} ({})", std::string_view(req.method_string()),
                                     std::string_view(req.target()), allowed));
    r.head.set(boost::beast::http::field::allow, allowed);
    return r;
}

}  // namespace

http::reply api_router::route_schedules(const http::request& req, const identity& me, const target& t) {
    const auto& s = t.segments;
    const auto method = req.method();
    if (s.size() > 4) {
        return error_reply(http::status::not_found, "not_found", "no such route: /api/v1/schedules[/NAME]");
    }
    if (s.size() == 3 && method == http::verb::get) {
        if (auto allowed = service_.may_see_all(me, "schedules"); !allowed) {
            return error_reply(http::status::forbidden, "forbidden", allowed.error().what());
        }
        json::array list;
        if (schedules_) {
            for (const auto& [name, e] : schedules_->all()) {
                list.push_back(view(*schedules_, e));
            }
        }
        return json_reply(http::status::ok, {{"schedules", std::move(list)}});
    }
    if (!(s.size() == 3 && method == http::verb::post) && !(s.size() == 4 && method == http::verb::delete_)) {
        return method_not_allowed(req, s.size() == 3 ? "GET, POST" : "DELETE");
    }
    if (auto allowed = service_.may_administer(me); !allowed) {
        return error_reply(http::status::forbidden, "forbidden", allowed.error().what());
    }
    if (!schedules_) {
        return error_reply(http::status::conflict, "invalid_state", "this corrald runs no schedules");
    }
    if (s.size() == 4) {
        const std::string name(s[3]);
        if (auto removed = schedules_->remove(name); !removed) {
            const bool missing = removed.error().code == errc::process_not_found;
            return error_reply(missing ? http::status::not_found : http::status::conflict,
                               missing ? "schedule_not_found" : "invalid_state",
                               removed.error().what());
        }
        return json_reply(http::status::ok, {{"removed", name}});
    }
    if (auto bad = require_body_type(req, {"application/json"})) {
        return *bad;
    }
    http::reply error;
    auto body = parse_json(req.body(), error);
    if (!body) {
        return error;
    }
    auto def = services::schedule_from_json(*body);
    if (!def) {
        return error_reply(http::status::bad_request, "invalid_schedule", def.error().what());
    }
    const auto name = def->name;
    if (auto added = schedules_->add(std::move(*def)); !added) {
        const bool exists = added.error().code == errc::process_exists;
        return error_reply(exists ? http::status::conflict : http::status::bad_request,
                           exists ? "schedule_exists" : "invalid_schedule",
                           added.error().what());
    }
    return json_reply(http::status::created, view(*schedules_, schedules_->all().find(name)->second));
}

}  // namespace corral::proto
