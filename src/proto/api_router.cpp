#include "corral/proto/api_router.hpp"

#include <pwd.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include <unordered_map>

#include <fmt/format.h>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

#include "corral/services/job_access.hpp"
#include "corral/core/blocking_work.hpp"
#include "corral/core/parse.hpp"
#include "corral/jobs/job_json.hpp"
#include "corral/proc/signals.hpp"
#include "corral/proto/acons_rpc.hpp"
#include "corral/proto/output_json.hpp"
#include "proto/api_access.hpp"

namespace corral::proto {
namespace {

namespace json = boost::json;
namespace field = boost::beast::http;

std::optional<json::value> parse_json(std::string_view body, http::reply& error) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 32;
    auto v = json::parse(body, ec, {}, opts);
    if (ec) {
        error = error_reply(http::status::bad_request,
                            "malformed_json",
                            fmt::format("the body is not valid JSON: {}", ec.message()));
        return std::nullopt;
    }
    return v;
}

http::reply job_reply(http::status status, const jobs::job& j) {
    return json_reply(status, jobs::to_json(j));
}

http::reply not_found(jobs::job_id id) {
    return error_reply(http::status::not_found, "job_not_found", fmt::format("no job {}", id));
}

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

/// 415 unless the body is `type`. A web page's form or no-cors fetch cannot send application/json, and
/// a JSON body is never taken for text or the other way round.
std::optional<http::reply> require_body_type(const http::request& req,
                                             std::initializer_list<std::string_view> types) {
    for (auto type : types) {
        if (has_content_type(req, type)) {
            return std::nullopt;
        }
    }
    const auto given = req[field::field::content_type];
    return error_reply(http::status::unsupported_media_type,
                       "unsupported_media_type",
                       fmt::format("{} {} takes a body of type {}, not '{}': send Content-Type: {}",
                                   std::string_view(req.method_string()),
                                   std::string_view(req.target()),
                                   fmt::join(types, " or "),
                                   std::string_view(given.empty() ? "none" : given),
                                   *types.begin()));
}

std::optional<http::reply> require_json(const http::request& req) {
    return require_body_type(req, {"application/json"});
}

}  // namespace

net::awaitable<std::optional<std::string>> local_user(const http::peer& who, net::any_io_executor blocking) {
    if (!who.uid) {
        co_return std::nullopt;
    }
    // Remembered for a minute: a lookup reads /etc/nsswitch.conf and /etc/passwd, and the CLI makes
    // a connection per command. A renamed user shows under the new name a minute later at most.
    struct known {
        std::string name;
        std::chrono::steady_clock::time_point until;
    };
    thread_local std::unordered_map<uid_t, known> names;
    if (auto it = names.find(*who.uid); it != names.end() && std::chrono::steady_clock::now() < it->second.until) {
        co_return it->second.name;
    }
    // Through NSS, which may ask LDAP or a remote directory and take seconds: not on the core's thread.
    const uid_t uid = *who.uid;
    auto lookup = [uid] {
        passwd pw{};
        passwd* found = nullptr;
        char buffer[1024];
        return ::getpwuid_r(uid, &pw, buffer, sizeof buffer, &found) == 0 && found ? std::string(found->pw_name)
                                                                                  : fmt::format("uid:{}", uid);
    };
    // Named first: g++ 12 miscompiles temporaries inside a co_await expression.
    std::string name = co_await run_blocking(std::move(blocking), std::move(lookup));
    if (names.size() >= 1024) {  // bounded: uids are few, but a host could have many
        names.clear();
    }
    names[uid] = {name, std::chrono::steady_clock::now() + std::chrono::minutes(1)};
    co_return name;
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

net::awaitable<http::reply> api_router::handle(http::request& req, const http::peer& who) {
    // Before anything else, and before any credential is looked at: a page on another site or behind
    // a rebound DNS name gets nothing done, whatever the browser attaches (docs/security.md).
    if (auto refused = guard_request(req, who, options_.guard)) {
        co_return std::move(*refused);
    }
    const bool cross_origin = allowed_cross_origin(req, options_.guard);
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
        std::string error;
        auto t = parse_target(req.target(), error);
        if (t) {
            r = co_await authenticated(req, who, *t);
        } else {
            r = error_reply(http::status::bad_request, "bad_target", error);
        }
    }
    if (cross_origin) {
        r.head.set(field::field::access_control_allow_origin, req[field::field::origin]);
        r.head.set(field::field::vary, "Origin");
        r.head.set(field::field::access_control_expose_headers,
                   "Location, X-Corral-Next, X-Corral-Lost, X-Corral-Eof, X-Corral-State, X-Corral-Stream");
    }
    co_return r;
}

net::awaitable<http::reply> api_router::authenticated(http::request& req,
                                                      const http::peer& who,
                                                      const target& t) {
    const auto me = co_await identify(req, who, t, auth_, service_.blocking_executor());
    const bool health = t.segments.size() == 1 && t.segments[0] == "healthz";  // needs no caller
    if (!me && !health) {
        auto r = error_reply(http::status::unauthorized, "unauthenticated", me.error().what());
        r.head.set(field::field::www_authenticate, "Bearer");
        co_return r;
    }
    // Named first, no temporaries: g++ 12 miscompiles temporaries inside a co_await expression.
    const identity caller = me ? *me : identity{};
    auto r = co_await route(req, caller, t);
    co_return r;
}

net::awaitable<http::reply> api_router::route(http::request& req, const identity& me, const target& t) {
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
    if (s.size() == 1 && s[0] == "rpc-run" && options_.acons) {
        if (auto bad = only(http::verb::post))
            co_return *bad;
        co_return co_await rpc(req, me);
    }
    if (s.size() >= 3 && s[0] == "api" && s[1] == "v1") {
        co_return co_await route_api(req, me, t);
    }
    co_return error_reply(
        http::status::not_found,
        "not_found",
        fmt::format(
            "no route for {} {}", std::string_view(req.method_string()), std::string_view(req.target())));
}

net::awaitable<http::reply> api_router::route_api(http::request& req, const identity& me, const target& t) {
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
    if (s.size() == 3 && s[2] == "tasks") {
        if (auto bad = only(http::verb::get))
            co_return *bad;
        co_return tasks();
    }
    if (s.size() == 3 && s[2] == "audit") {
        if (auto bad = only(http::verb::get))
            co_return *bad;
        co_return co_await audit(t, me);
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
        co_return co_await route_job(req, me, t, *id);
    }
    if (s.size() == 3 && s[2] == "idle") {
        if (auto bad = only(http::verb::get))
            co_return *bad;
        co_return co_await idle(t);
    }
    if (s.size() == 3 && s[2] == "events") {
        if (auto bad = only(http::verb::get))
            co_return *bad;
        co_return events(req, t, me);
    }
    if (s.size() == 3 && s[2] == "stream") {
        if (auto bad = only(http::verb::get))
            co_return *bad;
        co_return websocket(req, t, me);
    }
    co_return error_reply(
        http::status::not_found,
        "not_found",
        fmt::format(
            "no route for {} {}", std::string_view(req.method_string()), std::string_view(req.target())));
}

net::awaitable<http::reply> api_router::route_job(http::request& req,
                                                  const identity& me,
                                                  const target& t,
                                                  jobs::job_id id) {
    const auto& s = t.segments;
    auto* j = service_.find(id);
    if (!j) {
        co_return not_found(id);
    }
    // A job the caller may not see answers as one that does not exist: ids must not tell other
    // users' jobs apart from missing ones. One it may see but not act on is a 403 saying why.
    if (!services::check_see(me, *j)) {
        co_return not_found(id);
    }
    const std::string_view action = s.size() == 5 ? std::string_view(s[4]) : std::string_view();
    const bool acts = action == "kill" || action == "stdin";
    if (auto allowed = acts ? services::check_control(me, *j) : result_info<void>{}; !allowed) {
        co_return error_reply(http::status::forbidden, "forbidden", allowed.error().what());
    }
    const bool get = req.method() == http::verb::get;
    const bool post = req.method() == http::verb::post;
    if (s.size() == 4 && get)
        co_return job_reply(http::status::ok, *j);
    if (action == "kill" && post)
        co_return kill(req, *j, me);
    if (action == "stdin" && post)
        co_return co_await write_stdin(req, t, id);
    if (action == "output" && get)
        co_return co_await read_output(t, id);
    if (action == "wait" && get)
        co_return co_await wait(t, id);
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
    q.owner = services::sees_all(me) ? t.param("owner").value_or("") : me.user;
    for (const auto& label : t.params("label")) {
        auto eq = label.find('=');
        if (eq == std::string::npos) {
            return error_reply(
                http::status::bad_request, "bad_query", fmt::format("label '{}': expected KEY=VALUE", label));
        }
        q.labels[label.substr(0, eq)] = label.substr(eq + 1);
    }
    auto after = number_param(t, "after", 0, 0, UINT64_MAX, error);
    auto limit = number_param(t, "limit", 100, 1, 1000, error);
    if (!after || !limit) {
        return error_reply(http::status::bad_request, "bad_query", error);
    }
    q.after = *after;
    q.limit = *limit;
    auto page = service_.list(q);
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
    auto r = service_.kill(j, signal, plan, me.user);
    if (!r) {
        return error_reply(
            http::status::conflict,
            "invalid_state",
            fmt::format("job {} is {}: there is nothing to kill", j.id, jobs::to_string(j.state)));
    }
    return job_reply(http::status::accepted, j);
}

net::awaitable<http::reply> api_router::write_stdin(http::request& req, const target& t, jobs::job_id id) {
    const bool close = t.param("close") == "true" || t.param("close") == "1";
    if (!req.body().empty()) {
        if (auto bad = require_body_type(req, {"application/octet-stream", "text/plain"})) {
            co_return *bad;
        }
    }
    auto* j = service_.find(id);
    services::job_service::pin keep(service_, *j);
    if (j->state == jobs::job_state::queued && j->spec.process.input == proc::input_mode::pipe) {
        // Not started yet (waiting for a slot, or its process is starting): the write waits for it.
        co_await service_.wait_started(id, options_.max_wait);
        j = &keep.get();
    }
    if (j->state != jobs::job_state::running || j->spec.process.input != proc::input_mode::pipe) {
        co_return error_reply(
            http::status::conflict,
            "stdin_closed",
            fmt::format("job {} has no open stdin: it must be running and submitted with \"stdin\": \"pipe\"",
                        id));
    }
    const auto n = req.body().size();
    if (n > 0) {
        auto written =
            co_await service_.write_stdin(keep.get(), std::move(req.body()), options_.stdin_timeout);
        if (written.error() == net::error::timed_out) {
            co_return error_reply(
                http::status::service_unavailable,
                "stdin_timeout",
                fmt::format("job {} did not read its stdin within {} (api.stdin_timeout): the "
                            "write was abandoned, and the job may have read part of it",
                            id,
                            format_duration(options_.stdin_timeout)));
        }
        if (!written) {
            co_return error_reply(
                http::status::conflict,
                "stdin_closed",
                fmt::format("writing to job {}'s stdin failed: {}", id, written.error().message()));
        }
    }
    if (close) {
        (void)service_.close_stdin(keep.get());
    }
    co_return json_reply(http::status::ok, {{"written", n}, {"closed", close}});
}

net::awaitable<http::reply> api_router::read_output(const target& t, jobs::job_id id) {
    std::string error;
    auto from = number_param(t, "from", 0, 0, UINT64_MAX, error);
    auto wait = number_param(t, "wait", 0, 0, static_cast<std::uint64_t>(options_.max_wait.count()), error);
    auto max = number_param(t, "max", 1 << 20, 1, 16 << 20, error);
    const auto format = t.param("format").value_or("json");
    if (!from || !wait || !max) {
        co_return error_reply(http::status::bad_request, "bad_query", error);
    }
    if (format != "json" && format != "raw") {
        co_return error_reply(http::status::bad_request, "bad_query", "format must be json or raw");
    }
    if (*wait > 0) {
        co_await service_.wait_output(id, *from, std::chrono::seconds(*wait));
    }
    auto* j = service_.find(id);
    if (!j) {
        co_return not_found(id);
    }
    services::job_service::pin keep(service_, *j);  // while what is on file is read
    auto slice = co_await j->log->read_async(*from, *max);
    const bool split = t.param("split").value_or("") == "true";
    if (format == "raw" && split && !slice.records.empty()) {
        // One stream per page: cut where the other stream begins, so the client can route the bytes.
        const auto source = slice.records.front().source;
        auto other = std::find_if(
            slice.records.begin(), slice.records.end(), [&](const auto& r) { return r.source != source; });
        if (other != slice.records.end()) {
            slice.next = other->offset;
            slice.records.erase(other, slice.records.end());
        }
    }
    const bool eof = j->log->closed() && slice.next >= j->log->end_offset();
    if (format == "raw") {
        std::string bytes;
        std::size_t size = 0;
        for (const auto& r : slice.records) {
            size += r.bytes.size();
        }
        bytes.reserve(size);  // one allocation: growing a many-MiB body copies it again and again
        for (const auto& r : slice.records) {
            bytes += r.bytes;
        }
        auto r = text_reply(http::status::ok, std::move(bytes), "application/octet-stream");
        r.head.set("X-Corral-Next", std::to_string(slice.next));
        r.head.set("X-Corral-Lost", std::to_string(slice.lost));
        r.head.set("X-Corral-Eof", eof ? "true" : "false");
        r.head.set("X-Corral-State", jobs::to_string(j->state));
        if (split && !slice.records.empty()) {
            r.head.set("X-Corral-Stream", output::stream_name(slice.records.front().source));
        }
        co_return r;
    }
    json::array records;
    for (const auto& r : coalesce(std::move(slice.records))) {
        records.push_back(record_json(r));
    }
    co_return json_reply(http::status::ok,
                         {{"job", id},
                          {"records", std::move(records)},
                          {"next", slice.next},
                          {"lost", slice.lost},
                          {"eof", eof},
                          {"state", jobs::to_string(j->state)}});
}

net::awaitable<http::reply> api_router::wait(const target& t, jobs::job_id id) {
    std::string error;
    auto timeout =
        number_param(t, "timeout", 30, 0, static_cast<std::uint64_t>(options_.max_wait.count()), error);
    if (!timeout) {
        co_return error_reply(http::status::bad_request, "bad_query", error);
    }
    co_await service_.wait_finished(id, std::chrono::seconds(*timeout));
    auto* j = service_.find(id);
    co_return j ? job_reply(http::status::ok, *j) : not_found(id);
}

net::awaitable<http::reply> api_router::idle(const target& t) {
    std::string error;
    auto wait = number_param(t, "wait", 0, 0, static_cast<std::uint64_t>(options_.max_wait.count()), error);
    if (!wait) {
        co_return error_reply(http::status::bad_request, "bad_query", error);
    }
    co_await service_.wait_idle(std::chrono::steady_clock::now() + std::chrono::seconds(*wait));
    const auto running = service_.running() + service_.running_sequences();
    const auto queued = service_.queued();
    co_return json_reply(http::status::ok,
                         {{"idle", running + queued == 0}, {"running", running}, {"queued", queued}});
}

http::reply api_router::events(const http::request& req, const target& t, const identity& me) {
    std::vector<subscription> subs;
    std::string error;
    auto from = number_param(t, "from", 0, 0, UINT64_MAX, error);
    if (!from) {
        return error_reply(http::status::bad_request, "bad_query", error);
    }
    const bool output = t.param("output") != "false" && t.param("output") != "0";
    for (const auto& text : t.params("job")) {
        auto id = to_number(text);
        // A job the caller may not see is "no job", as a missing one (route_job says why).
        if (!id || !service_.find(*id) || !services::check_see(me, *service_.find(*id))) {
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
    if (subs.empty() && !all) {
        return error_reply(
            http::status::bad_request, "bad_query", "give job=ID (repeatable) and/or all=true");
    }
    auto r = text_reply(http::status::ok, "", "text/event-stream");
    r.head.set(field::field::cache_control, "no-cache");
    std::optional<std::string> only = services::sees_all(me) ? std::nullopt : std::optional<std::string>(me.user);
    r.events = [this, subs, all, only](http::event_stream& stream) -> net::awaitable<void> {
        watch_session session(service_, options_.watch, watch_stats_, output_frames_, wire_format::sse);
        if (only) {
            session.restrict_to(*only);
        }
        if (all) {
            session.subscribe_all();
        }
        for (const auto& s : subs) {
            session.subscribe(s);
        }
        co_await session.serve(stream);
    };
    return r;
}

http::reply api_router::websocket(const http::request& req, const target& t, const identity& me) {
    if (!boost::beast::websocket::is_upgrade(req)) {
        return error_reply(http::status::upgrade_required,
                           "upgrade_required",
                           "this is a WebSocket endpoint: connect with a WebSocket client");
    }
    std::vector<subscription> subs;
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
    http::reply r;
    std::optional<std::string> only = services::sees_all(me) ? std::nullopt : std::optional<std::string>(me.user);
    r.websocket = [this, subs, only](http::message_channel& channel) -> net::awaitable<void> {
        watch_session session(service_, options_.watch, watch_stats_, output_frames_, wire_format::websocket);
        if (only) {
            session.restrict_to(*only);
        }
        for (const auto& s : subs) {
            session.subscribe(s);
        }
        co_await session.serve(channel);
    };
    return r;
}

net::awaitable<http::reply> api_router::rpc(const http::request& req, const identity& me) {
    if (auto bad = require_json(req)) {
        co_return *bad;
    }
    http::reply error;
    auto body = parse_json(req.body(), error);
    if (!body) {
        co_return error;
    }
    if (!body->is_object()) {
        co_return error_reply(http::status::unprocessable_entity,
                              "invalid_rpc",
                              "the body must be a JSON-RPC object {\"id\", \"method\", \"params\"}");
    }
    co_return json_reply(http::status::ok, co_await acons_->call(body->get_object(), me));
}

std::string api_router::metrics_text() const {
    prometheus_text out;
    std::map<jobs::job_state, int> by_state;
    for (auto* j : const_cast<services::job_service&>(service_).all()) {
        ++by_state[j->state];
    }
    out.family("corral_jobs", "gauge", "Jobs in the table by state.");
    for (auto s : {jobs::job_state::queued,
                   jobs::job_state::running,
                   jobs::job_state::succeeded,
                   jobs::job_state::failed,
                   jobs::job_state::killed,
                   jobs::job_state::timed_out,
                   jobs::job_state::lost}) {
        out.sample("corral_jobs", {{"state", std::string(jobs::to_string(s))}}, by_state[s]);
    }
    out.family("corral_jobs_submitted_total", "counter", "Jobs submitted since start.");
    out.sample("corral_jobs_submitted_total", static_cast<double>(service_.stats().submitted));
    out.family("corral_jobs_finished_total", "counter", "Jobs finished since start, by outcome.");
    for (const auto& [state, n] : service_.stats().finished) {
        out.sample("corral_jobs_finished_total",
                   {{"state", std::string(jobs::to_string(state))}},
                   static_cast<double>(n));
    }
    out.family("corral_jobs_running", "gauge", "Jobs running now.");
    out.sample("corral_jobs_running", static_cast<double>(service_.running()));
    out.family("corral_jobs_queued", "gauge", "Jobs waiting for a slot.");
    out.sample("corral_jobs_queued", static_cast<double>(service_.queued()));
    out.family("corral_concurrency", "gauge", "Jobs allowed to run at once.");
    out.sample("corral_concurrency", service_.concurrency());
    out.family("corral_spawn_latency_seconds", "histogram", "Time from a free slot to the running process.");
    out.histogram_samples("corral_spawn_latency_seconds", service_.stats().spawn_latency);
    out.family("corral_stream_bytes_total", "counter", "Output bytes sent to watchers.");
    out.sample("corral_stream_bytes_total", static_cast<double>(watch_stats_.bytes_streamed));
    out.family("corral_watcher_deferrals_total",
               "counter",
               "Times a watcher's next message waited while a job poured out output (api.watcher_defer).");
    out.sample("corral_watcher_deferrals_total", static_cast<double>(watch_stats_.deferrals));
    out.family("corral_output_pouring_blocks_total",
               "counter",
               "Big blocks taken from a job's pipe: the job wrote faster than it was read (watchers defer).");
    out.sample("corral_output_pouring_blocks_total", static_cast<double>(service_.pressure().pouring_blocks()));
    out.family("corral_idempotency_keys", "gauge", "Idempotency keys remembered (they go with their jobs).");
    out.sample("corral_idempotency_keys", static_cast<double>(service_.idempotency_keys()));
    out.family("corral_watchers", "gauge", "Open WebSocket and SSE watchers.");
    out.sample("corral_watchers", static_cast<double>(watch_stats_.watchers));
    out.family("corral_http_requests_total", "counter", "HTTP requests answered, by status.");
    for (const auto& [status, n] : requests_) {
        out.sample(
            "corral_http_requests_total", {{"status", std::to_string(status)}}, static_cast<double>(n));
    }
    return out.str();
}

}  // namespace corral::proto
