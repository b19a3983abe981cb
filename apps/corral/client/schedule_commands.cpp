#include "client/schedule_commands.hpp"

#include <iostream>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace corral::cli {
namespace {

namespace json = boost::json;

std::string text(const json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : v.is_null() ? "-" : json::serialize(v);
}

net::awaitable<int> list(api_client& c, bool as_json) {
    auto reply = co_await call(c, "GET", "/api/v1/schedules");
    if (as_json) {
        std::cout << json::serialize(reply) << "\n";
        co_return 0;
    }
    const auto& all = reply.at("schedules").as_array();
    if (all.empty()) {
        std::cout << "no schedules ([[schedule]] in corrald's config, or corral schedules add)\n";
        co_return 0;
    }
    for (const auto& v : all) {
        const auto& s = v.as_object();
        std::cout << fmt::format("{}  {}  (overlap {}, catch-up {}, as {}{})\n", text(s.at("name")), text(s.at("when")),
                                 text(s.at("overlap")), text(s.at("catch_up")), text(s.at("owner")),
                                 s.at("added").as_bool() ? ", added at run time" : "");
        std::cout << fmt::format("    last: {}{}\n", text(s.at("last_run")),
                                 s.at("last_outcome").as_string().empty() ? "" : "  " + text(s.at("last_outcome")));
        std::string next;
        for (const auto& t : s.at("next_runs").as_array()) {
            next += (next.empty() ? "" : ", ") + text(t);
        }
        std::cout << "    next: " << (next.empty() ? "never" : next) << "\n";
    }
    co_return 0;
}

}  // namespace

net::awaitable<int> run_schedule_command(api_client& c, schedule_command cmd) {
    if (cmd.verb == "ls") {
        co_return co_await list(c, cmd.json);
    }
    if (cmd.verb == "add") {
        if (cmd.args.size() != 1) {
            throw command_error{"add: give one name: corral schedules add NAME --every 1h -- COMMAND", usage_error};
        }
        cmd.schedule["name"] = cmd.args.front();
        std::string body = json::serialize(cmd.schedule);
        auto added = co_await call(c, "POST", "/api/v1/schedules", std::move(body));
        if (cmd.json) {
            std::cout << json::serialize(added) << "\n";
        } else {
            const auto& next = added.at("next_runs").as_array();
            std::cout << fmt::format("schedule {} added: {}; next {}\n", cmd.args.front(), text(added.at("when")),
                                     next.empty() ? "never" : text(next.front()));
        }
        co_return 0;
    }
    if (cmd.verb == "rm") {
        if (cmd.args.empty()) {
            throw command_error{"rm: give the names of schedules to remove", usage_error};
        }
        int status = 0;
        for (const auto& name : cmd.args) {
            auto r = co_await c.request("DELETE", "/api/v1/schedules/" + name);
            if (!r) {
                throw command_error{r.error().what()};
            }
            if (!r->ok()) {
                std::fprintf(stderr, "corral schedules: %s\n", r->error_message().c_str());
                status = 1;
            }
        }
        co_return status;
    }
    throw command_error{fmt::format("'{}': the verbs are ls, add and rm", cmd.verb), usage_error};
}

}  // namespace corral::cli
