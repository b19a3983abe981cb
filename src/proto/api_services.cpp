// /api/v1/services: the daemon's services (services::supervisor). Reading a service's output and
// writing to its stdin go to its current run, a job, through the jobs' own routes.
#include <fmt/format.h>
#include <boost/json.hpp>

#include "corral/proto/api_router.hpp"
#include "corral/proc/signals.hpp"
#include "proto/api_access.hpp"

namespace corral::proto {
namespace {

namespace json = boost::json;

http::reply service_error(const error_info& e) {
    if (e.code == errc::forbidden) {
        return error_reply(http::status::forbidden, "forbidden", e.what());
    }
    if (e.code == errc::process_not_found) {
        return error_reply(http::status::not_found, "service_not_found", e.what());
    }
    if (e.code == errc::process_exists) {
        return error_reply(http::status::conflict, "service_running", e.what());
    }
    if (e.code == errc::invalid_argument) {
        return error_reply(http::status::bad_request, "invalid_service", e.what());
    }
    return error_reply(http::status::conflict, "invalid_state", e.what());
}

http::reply no_route(const http::request& req) {
    return error_reply(http::status::not_found,
                       "not_found",
                       fmt::format("no route for {} {}", std::string_view(req.method_string()),
                                   std::string_view(req.target())));
}

http::reply wrong_method(const http::request& req, http::verb allowed) {
    auto r = error_reply(http::status::method_not_allowed,
                         "method_not_allowed",
                         fmt::format("{} is not allowed on {} ({} only)", std::string_view(req.method_string()),
                                     std::string_view(req.target()), std::string_view(to_string(allowed))));
    r.head.set(boost::beast::http::field::allow, to_string(allowed));
    return r;
}

}  // namespace

net::awaitable<http::reply> api_router::route_components(http::request& req, const identity& me, const target& t) {
    const auto& s = t.segments;
    if (s.size() == 3) {
        if (req.method() != http::verb::get) {
            co_return wrong_method(req, http::verb::get);
        }
        co_return json_reply(http::status::ok, {{"components", components_.list ? components_.list() : json::array()}});
    }
    if (s.size() != 5 || s[4] != "signal") {
        co_return no_route(req);
    }
    if (req.method() != http::verb::post) {
        co_return wrong_method(req, http::verb::post);
    }
    if (auto bad = require_body_type(req, {"application/json"})) {
        co_return *bad;
    }
    if (auto allowed = service_.may_administer(me); !allowed) {
        co_return error_reply(http::status::forbidden, "forbidden", allowed.error().what());
    }
    http::reply error;
    auto body = parse_json(req.body(), error);
    if (!body) {
        co_return error;
    }
    const auto* name = body->is_object() ? body->as_object().if_contains("signal") : nullptr;
    auto sig = name && name->is_string() ? proc::parse_signal(name->as_string())
                                         : result_info<int>{error_info{make_error_code(errc::invalid_argument),
                                                                       "give {\"signal\": \"HUP\"} (a name or a number)"}};
    if (!sig) {
        co_return error_reply(http::status::unprocessable_entity, "invalid_signal", sig.error().what());
    }
    if (!components_.signal) {
        co_return error_reply(http::status::not_found, "component_not_found", "no components here");
    }
    auto done = components_.signal(s[3], *sig);
    if (!done) {
        co_return error_reply(http::status::not_found, "component_not_found", done.error().what());
    }
    co_return json_reply(http::status::ok, {{"result", *done}});
}

http::reply api_router::add_service(const http::request& req, const identity& me) {
    boost::system::error_code ec;
    auto body = json::parse(req.body(), ec);
    if (ec || !body.is_object()) {
        return error_reply(http::status::bad_request, "bad_json",
                           "the body must be a JSON object: a service as [[service]] defines one (docs/services.md)");
    }
    auto def = parse_service_(body.get_object());
    if (!def) {
        return error_reply(http::status::bad_request, "invalid_service", def.error().what());
    }
    const auto name = def->name;
    if (auto added = supervisor_->add_as(me, std::move(*def)); !added) {
        if (added.error().code == errc::process_exists) {
            return error_reply(http::status::conflict, "service_exists", added.error().what());
        }
        return service_error(added.error());
    }
    return json_reply(http::status::created, services::to_json(*supervisor_->find(name), false));
}

net::awaitable<http::reply> api_router::route_services(http::request& req,
                                                       const http::peer& who,
                                                       const identity& me,
                                                       const target& t) {
    const auto& s = t.segments;
    const auto method = req.method();
    if (s.size() == 3 && method == http::verb::post && supervisor_ && parse_service_) {
        co_return add_service(req, me);
    }
    if (s.size() == 3) {
        if (method != http::verb::get) {
            co_return wrong_method(req, http::verb::get);
        }
        if (!supervisor_) {
            co_return json_reply(http::status::ok, {{"services", json::array()}});
        }
        auto all = supervisor_->list_as(me);
        if (!all) {
            co_return service_error(all.error());
        }
        json::array list;
        for (const auto* status : *all) {
            list.push_back(services::to_json(*status, false));
        }
        co_return json_reply(http::status::ok, {{"services", std::move(list)}});
    }
    if (s.size() > 5) {
        co_return no_route(req);
    }
    if (!supervisor_) {
        co_return service_error({make_error_code(errc::process_not_found), fmt::format("no service named '{}'", s[3])});
    }
    const std::string name = s[3];
    const std::string_view action = s.size() == 5 ? std::string_view(s[4]) : std::string_view();
    if (action.empty() && method == http::verb::delete_) {
        if (auto removed = supervisor_->remove_as(me, name); !removed) {
            co_return service_error(removed.error());
        }
        co_return json_reply(http::status::ok, {{"removed", name}});
    }
    if (action.empty()) {
        if (method != http::verb::get) {
            co_return wrong_method(req, http::verb::get);
        }
        auto found = supervisor_->find_as(me, name);
        if (!found) {
            co_return service_error(found.error());
        }
        co_return json_reply(http::status::ok, services::to_json(**found, true));
    }
    if (action == "output" || action == "stdin") {
        const bool writes = action == "stdin";
        if (method != (writes ? http::verb::post : http::verb::get)) {
            co_return wrong_method(req, writes ? http::verb::post : http::verb::get);
        }
        auto run = supervisor_->run_as(me, name, writes);
        if (!run) {
            co_return service_error(run.error());
        }
        if (!service_.find(*run)) {
            co_return error_reply(http::status::gone, "run_gone",
                                  fmt::format("service '{}': its last run, job {}, is no longer kept", name, *run));
        }
        if (writes) {
            co_return co_await write_stdin(req, who, t, *run);
        }
        co_return co_await read_output(who, t, *run);
    }
    if (action != "start" && action != "stop" && action != "restart") {
        co_return no_route(req);
    }
    if (method != http::verb::post) {
        co_return wrong_method(req, http::verb::post);
    }
    auto done = action == "start" ? supervisor_->start_as(me, name)
                : action == "stop" ? supervisor_->stop_as(me, name)
                                   : supervisor_->restart_as(me, name);
    if (!done) {
        co_return service_error(done.error());
    }
    co_return json_reply(http::status::accepted, services::to_json(*supervisor_->find(name), false));
}

}  // namespace corral::proto
