#include "corral/proto/api_router.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "corral/services/job_service.hpp"
#include "corral/core/parse.hpp"
#include "corral/jobs/job_json.hpp"
#include "corral/proc/signals.hpp"
#include "corral/proto/acons_rpc.hpp"
#include "corral/proto/http_front.hpp"
#include "corral/proto/output_json.hpp"
#include "proto/api_access.hpp"

namespace corral::proto {
namespace {

namespace json = boost::json;
namespace field = boost::beast::http;

/// 405 with an Allow header unless the request uses `allowed`.
std::optional<http::reply> require_method(const http::request& req,
                                          const std::vector<std::string>& segments,
                                          http::verb allowed) {
    if (req.method() == allowed) {
        return std::nullopt;
    }
    auto r = error_reply(http::status::method_not_allowed,
                         "method_not_allowed",
                         fmt::format("{} /{} takes {} only",
                                     std::string_view(req.method_string()),
                                     fmt::join(segments, "/"),
                                     std::string_view(to_string(allowed))));
    r.head.set(field::field::allow, to_string(allowed));
    return r;
}

std::optional<http::reply> require_json(const http::request& req) {
    return require_body_type(req, {"application/json"});
}

}  // namespace

http::reply job_reply(http::status status, const jobs::job& j) {
    return json_reply(status, jobs::to_json(j));
}

http::reply not_found(jobs::job_id id) {
    return error_reply(http::status::not_found, "job_not_found", fmt::format("no job {}", id));
}

api_router::api_router(services::job_service& service,
                       api_options options,
                       const auth::authority& auth,
                       const tasks::task_catalog& catalog)
    : service_(service),
      options_(std::move(options)),
      auth_(auth),
      catalog_(catalog),
      acons_(std::make_unique<acons_rpc>(
          service,
          options_.job_defaults,
          acons_rpc::limits{.output = options_.acons_max_output, .flush = options_.acons_max_flush})) {}

api_router::~api_router() = default;

void api_router::add_routes(http_front& front) {
    front.add("/api/v1/", *this, route_access::caller);
    front.add("/metrics", *this, route_access::caller);
    front.add("/healthz", *this, route_access::open);  // for load balancers and service managers
    if (options_.acons) {
        front.add("/rpc-run", *acons_, route_access::caller);
    }
    front_ = &front;
}

net::awaitable<http::reply> api_router::serve(http::request& req,
                                              const http::peer& who,
                                              const identity& me,
                                              const target& t) {
    auto r = co_await route(req, who, me, t);
    co_return r;
}

net::awaitable<http::reply> api_router::route(http::request& req,
                                              const http::peer& who,
                                              const identity& me,
                                              const target& t) {
    const auto& s = t.segments;
    auto only = [&](http::verb allowed) { return require_method(req, s, allowed); };
    if (s.size() == 1 && s[0] == "healthz") {
        if (auto bad = only(http::verb::get))
            co_return *bad;
        co_return json_reply(http::status::ok,
                             {{"status",
                               !service_.accepting() ? "stopping"
                               : service_.draining() ? "draining"
                                                     : "ok"},
                              {"running", service_.running()},
                              {"queued", service_.queued()}});
    }
    if (s.size() == 1 && s[0] == "metrics") {
        if (auto bad = only(http::verb::get))
            co_return *bad;
        co_return text_reply(http::status::ok, metrics_text(), "text/plain; version=0.0.4");
    }
    if (s.size() >= 3 && s[0] == "api" && s[1] == "v1") {
        co_return co_await route_api(req, who, me, t);
    }
    co_return error_reply(
        http::status::not_found,
        "not_found",
        fmt::format(
            "no route for {} {}", std::string_view(req.method_string()), std::string_view(req.target())));
}

net::awaitable<http::reply> api_router::route_api(http::request& req,
                                                  const http::peer& who,
                                                  const identity& me,
                                                  const target& t) {
    const auto& s = t.segments;
    const auto method = req.method();
    auto only = [&](http::verb allowed) { return require_method(req, s, allowed); };
    if (s.size() == 3 && s[2] == "jobs") {
        if (method == http::verb::post) {
            co_return co_await submit(req, me);
        }
        if (auto bad = only(http::verb::get))
            co_return *bad;
        co_return list(t, me);
    }
    if (s.size() == 4 && s[2] == "jobs" && s[3] == "batch") {
        if (auto bad = only(http::verb::post))
            co_return *bad;
        co_return co_await submit_batch(req, me);
    }
    if (s.size() == 3) {
        if (auto r = co_await route_view(req, who, me, t)) {
            co_return std::move(*r);
        }
    }
    if (s[2] == "services") {
        co_return co_await route_services(req, who, me, t);
    }
    if (s[2] == "schedules") {
        co_return route_schedules(req, me, t);
    }
    if (s[2] == "components") {
        co_return co_await route_components(req, me, t);
    }
    if (s[2] == "queue" && s.size() <= 4) {
        const std::string_view action = s.size() == 4 ? std::string_view(s[3]) : std::string_view();
        if (auto bad = only(action.empty() ? http::verb::get : http::verb::post))
            co_return *bad;
        co_return queue(req, me, action);
    }
    if (s.size() >= 4 && s[2] == "jobs") {
        auto id = to_number(s[3]);
        if (!id || *id == 0) {
            co_return error_reply(http::status::bad_request,
                                  "bad_job_id",
                                  fmt::format("'{}' is not a job id (a positive whole number)", s[3]));
        }
        co_return co_await route_job(req, who, me, t, *id);
    }
    co_return error_reply(
        http::status::not_found,
        "not_found",
        fmt::format(
            "no route for {} {}", std::string_view(req.method_string()), std::string_view(req.target())));
}

net::awaitable<std::optional<http::reply>> api_router::route_view(http::request& req,
                                                                  const http::peer& who,
                                                                  const identity& me,
                                                                  const target& t) {
    const auto& name = t.segments[2];
    const bool known = name == "tasks" || name == "me" || name == "audit" || name == "idle" || name == "events" ||
                       name == "stream";
    if (!known) {
        co_return std::nullopt;
    }
    if (auto bad = require_method(req, t.segments, http::verb::get)) {
        co_return *bad;
    }
    if (name == "tasks")
        co_return tasks();
    if (name == "me")
        co_return who_am_i(me);
    if (name == "audit")
        co_return co_await audit(t, me);
    if (name == "idle")
        co_return co_await idle(who, t);
    if (name == "events")
        co_return events(req, t, me);
    co_return websocket(req, t, me);
}

net::awaitable<http::reply> api_router::route_job(http::request& req,
                                                  const http::peer& who,
                                                  const identity& me,
                                                  const target& t,
                                                  jobs::job_id id) {
    const auto& s = t.segments;
    const std::string_view action = s.size() == 5 ? std::string_view(s[4]) : std::string_view();
    const bool acts = action == "kill" || action == "stdin";
    // The service decides: a job the caller may not see is a 404 like a missing one; one it may see
    // but not act on is a 403 saying why.
    auto job = acts ? service_.control_as(me, id) : service_.find_as(me, id);
    if (!job) {
        co_return job.error().code == errc::forbidden
                      ? error_reply(http::status::forbidden, "forbidden", job.error().what())
                      : not_found(id);
    }
    auto* j = &(*job)->get();
    const bool get = req.method() == http::verb::get;
    const bool post = req.method() == http::verb::post;
    if (s.size() == 4 && get)
        co_return job_reply(http::status::ok, *j);
    if (action == "kill" && post)
        co_return kill(req, *j, me);
    if (action == "stdin" && post)
        co_return co_await write_stdin(req, who, t, id);
    if (action == "output" && get)
        co_return co_await read_output(who, t, id);
    if (action == "wait" && get)
        co_return co_await wait(who, t, id);
    if (s.size() <= 5 &&
        (s.size() == 4 || action == "kill" || action == "stdin" || action == "output" || action == "wait")) {
        co_return error_reply(http::status::method_not_allowed,
                              "method_not_allowed",
                              fmt::format("{} is not allowed on {}",
                                          std::string_view(req.method_string()),
                                          std::string_view(req.target())));
    }
    co_return error_reply(
        http::status::not_found,
        "not_found",
        fmt::format(
            "no route for {} {}", std::string_view(req.method_string()), std::string_view(req.target())));
}

net::awaitable<http::reply> api_router::submit(const http::request& req, const identity& me) {
    if (auto bad = require_json(req)) {
        co_return *bad;
    }
    http::reply error;
    auto body = parse_json(req.body(), error);
    if (!body) {
        co_return error;
    }
    auto request = parse_submission(*body);
    if (!request) {
        co_return submit_error_reply(request.error());
    }
    std::vector<services::submit_request> one;
    one.push_back(std::move(*request));
    auto submitted = co_await service_.submit_as(me, std::move(one));
    if (!submitted) {
        co_return submit_error_reply(submitted.error());
    }
    const auto& j = submitted->jobs.front()->get();
    auto r = job_reply(submitted->created ? http::status::created : http::status::ok, j);
    r.head.set(field::field::location, fmt::format("/api/v1/jobs/{}", j.id));
    co_return r;
}

net::awaitable<http::reply> api_router::submit_batch(const http::request& req, const identity& me) {
    if (auto bad = require_json(req)) {
        co_return *bad;
    }
    http::reply error;
    auto body = parse_json(req.body(), error);
    if (!body) {
        co_return error;
    }
    const auto* list = body->is_object() ? body->get_object().if_contains("jobs") : nullptr;
    if (!list || !list->is_array() || list->get_array().empty() ||
        list->get_array().size() > options_.max_batch) {
        co_return error_reply(
            http::status::bad_request,
            "invalid_batch",
            fmt::format("the body must be {{\"jobs\": [job, ...]}} with 1 to {} jobs", options_.max_batch));
    }
    // Validate everything first: a batch is taken whole or not at all.
    std::vector<services::submit_request> requests;
    for (std::size_t i = 0; i < list->get_array().size(); ++i) {
        auto request = parse_submission(list->get_array()[i]);
        if (!request) {
            auto e = request.error();
            e.message = fmt::format("jobs[{}]: {}", i, e.what());
            co_return submit_error_reply(e);
        }
        requests.push_back(std::move(*request));
    }
    auto submitted = co_await service_.submit_as(me, std::move(requests));
    if (!submitted) {
        co_return submit_error_reply(submitted.error());
    }
    json::array list_of_ids;
    for (const auto& j : submitted->jobs) {
        list_of_ids.emplace_back(j->get().id);
    }
    co_return json_reply(http::status::created, {{"ids", std::move(list_of_ids)}});
}

http::reply api_router::list(const target& t, const identity& me) {
    services::job_query q;
    std::string error;
    if (auto state = t.param("state")) {
        auto s = jobs::job_state_from_string(*state);
        if (!s) {
            return error_reply(
                http::status::bad_request, "bad_query", fmt::format("unknown state '{}'", *state));
        }
        q.state = *s;
    }
    q.owner = t.param("owner").value_or("");
    for (const auto& label : t.params("label")) {
        auto eq = label.find('=');
        if (eq == std::string::npos) {
            return error_reply(
                http::status::bad_request, "bad_query", fmt::format("label '{}': expected KEY=VALUE", label));
        }
        q.labels[label.substr(0, eq)] = label.substr(eq + 1);
    }
    auto after = number_param(t, "after", 0, 0, UINT64_MAX, error);
    auto before = number_param(t, "before", 0, 0, UINT64_MAX, error);
    auto limit = number_param(t, "limit", 100, 1, 1000, error);
    if (!after || !before || !limit) {
        return error_reply(http::status::bad_request, "bad_query", error);
    }
    const auto order = t.param("order").value_or("oldest");
    if (order != "oldest" && order != "newest") {
        return error_reply(http::status::bad_request,
                           "bad_query",
                           fmt::format("order '{}': expected 'oldest' (the default) or 'newest'", order));
    }
    q.newest_first = order == "newest";
    if ((q.newest_first && *after) || (!q.newest_first && *before)) {
        return error_reply(http::status::bad_request,
                           "bad_query",
                           "after= pages oldest first and before= newest first (order=newest)");
    }
    q.before = *before;
    q.after = *after;
    q.limit = *limit;
    auto page = service_.list_as(me, q);
    json::array items;
    for (auto* j : page.jobs) {
        items.push_back(jobs::to_json(*j));
    }
    return json_reply(
        http::status::ok,
        {{"jobs", std::move(items)}, {"next", page.next ? json::value(*page.next) : json::value(nullptr)}});
}

http::reply api_router::kill(const http::request& req, jobs::job& j, const identity& me) {
    std::optional<int> signal;
    std::optional<proc::stop_plan> plan;
    if (!req.body().empty()) {
        if (auto bad = require_json(req)) {
            return *bad;
        }
        http::reply error;
        auto body = parse_json(req.body(), error);
        if (!body) {
            return error;
        }
        if (!body->is_object()) {
            return error_reply(
                http::status::bad_request,
                "invalid_kill",
                "the body must be an object: {\"signal\": \"TERM\"} or {\"stop\": \"TERM:5s,KILL\"}");
        }
        const auto& o = body->get_object();
        for (const auto& [key, value] : o) {
            if (key == "signal" && value.is_string()) {
                auto s = proc::parse_signal(value.get_string());
                if (!s) {
                    return error_reply(http::status::bad_request, "invalid_kill", s.error().what());
                }
                signal = *s;
            } else if (key == "signal" && value.is_int64() && value.get_int64() > 0 &&
                       value.get_int64() < 65) {
                signal = static_cast<int>(value.get_int64());
            } else if (key == "stop" && value.is_string()) {
                auto p = proc::stop_plan::parse(value.get_string());
                if (!p) {
                    return error_reply(http::status::bad_request, "invalid_kill", p.error().what());
                }
                plan = *p;
            } else {
                return error_reply(http::status::bad_request,
                                   "invalid_kill",
                                   fmt::format("unexpected field '{}' (give \"signal\" or \"stop\")",
                                               std::string_view(key)));
            }
        }
    }
    if (auto r = service_.kill_as(me, j.id, signal, plan); !r) {
        return error_reply(http::status::conflict, "invalid_state", r.error().what());
    }
    return job_reply(http::status::accepted, j);
}

}  // namespace corral::proto
