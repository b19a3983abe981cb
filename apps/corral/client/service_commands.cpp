#include "client/service_commands.hpp"

#include <iostream>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "client/job_streams.hpp"

namespace corral::cli {
namespace {

namespace json = boost::json;

std::string text(const json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

std::string path_of(const std::string& name) {
    return "/api/v1/services/" + name;
}

std::string one_name(const service_command& cmd) {
    if (cmd.args.empty()) {
        throw command_error{fmt::format("{}: give a service name (corral svc ls lists them)", cmd.verb), usage_error};
    }
    return cmd.args.front();
}

net::awaitable<int> list(api_client& c, bool as_json) {
    auto reply = co_await call(c, "GET", "/api/v1/services");
    if (as_json) {
        std::cout << json::serialize(reply) << "\n";
        co_return 0;
    }
    const auto& all = reply.at("services").as_array();
    if (all.empty()) {
        std::cout << "no services ([[service]] in corrald's config, or corral svc add)\n";
        co_return 0;
    }
    std::cout << fmt::format("{:<16} {:<9} {:>5} {:>8} {:>7}  {}\n", "NAME", "STATE", "RUNS", "RESTARTS", "JOB",
                             "REASON");
    for (const auto& v : all) {
        const auto& s = v.as_object();
        std::cout << fmt::format("{:<16} {:<9} {:>5} {:>8} {:>7}  {}\n", text(s.at("name")), text(s.at("state")),
                                 text(s.at("runs")), text(s.at("restarts")),
                                 s.at("job").as_int64() ? text(s.at("job")) : "-", text(s.at("reason")));
    }
    co_return 0;
}

net::awaitable<int> show(api_client& c, const std::string& name, bool as_json) {
    auto reply = co_await call(c, "GET", path_of(name));
    if (as_json) {
        std::cout << json::serialize(reply) << "\n";
        co_return 0;
    }
    const auto& s = reply.as_object();
    std::string command;
    for (const auto& w : s.at("command").as_array()) {
        command += (command.empty() ? "" : " ") + text(w);
    }
    std::cout << fmt::format("name:      {}\n", text(s.at("name")));
    if (const auto d = text(s.at("description")); !d.empty()) {
        std::cout << fmt::format("about:     {}\n", d);
    }
    std::cout << fmt::format("state:     {}{}\n", text(s.at("state")),
                             text(s.at("reason")).empty() ? "" : " (" + text(s.at("reason")) + ")");
    std::cout << fmt::format("command:   {}\n", command);
    std::cout << fmt::format("restart:   {}; ready when {}\n", text(s.at("restart")), text(s.at("ready")));
    if (!s.at("after").as_array().empty()) {
        std::string after;
        for (const auto& a : s.at("after").as_array()) {
            after += (after.empty() ? "" : ", ") + text(a);
        }
        std::cout << fmt::format("after:     {}\n", after);
    }
    std::cout << fmt::format("runs:      {} ({} restarts in a row); current job {}\n", text(s.at("runs")),
                             text(s.at("restarts")), text(s.at("job")));
    if (!s.at("next_start").is_null()) {
        std::cout << fmt::format("restarts:  at {}\n", text(s.at("next_start")));
    }
    std::cout << "history:\n";
    for (const auto& e : s.at("events").as_array()) {
        const auto& o = e.as_object();
        std::cout << fmt::format("  {}  {:<11} {}\n", text(o.at("time")), text(o.at("kind")), text(o.at("detail")));
    }
    co_return 0;
}

/// `svc add NAME [--set KEY=VALUE]... COMMAND [ARG]...`: a service added at run time (an admin's).
net::awaitable<int> add(api_client& c, const service_command& cmd) {
    if (cmd.args.size() < 2) {
        throw command_error{"add: give a name and a command: corral svc add NAME [--set KEY=VALUE]... -- COMMAND [ARG]...",
                            usage_error};
    }
    json::object body{{"name", cmd.args[0]}};
    json::array command;
    for (auto it = cmd.args.begin() + 1; it != cmd.args.end(); ++it) {
        command.emplace_back(*it);
    }
    body["command"] = std::move(command);
    for (const auto& set : cmd.sets) {
        const auto eq = set.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw command_error{fmt::format("--set '{}': expected KEY=VALUE", set), usage_error};
        }
        // A value that reads as JSON is that (8080, true, ["db"]); anything else is text.
        boost::system::error_code ec;
        auto value = json::parse(set.substr(eq + 1), ec);
        body[set.substr(0, eq)] = ec ? json::value(set.substr(eq + 1)) : std::move(value);
    }
    auto payload = json::serialize(body);  // named first: g++ 12 and temporaries in a co_await expression
    std::string target = "/api/v1/services";
    auto reply = co_await call(c, "POST", std::move(target), std::move(payload));
    if (cmd.json) {
        std::cout << json::serialize(reply) << "\n";
    } else {
        std::cout << fmt::format("{}: added ({}; corrald forgets it when it restarts)\n", cmd.args[0],
                                 text(reply.at("state")));
    }
    co_return 0;
}

}  // namespace

net::awaitable<int> run_service_command(api_client& c, const service_command& cmd) {
    if (cmd.verb == "ls") {
        co_return co_await list(c, cmd.json);
    }
    if (cmd.verb == "show") {
        co_return co_await show(c, one_name(cmd), cmd.json);
    }
    if (cmd.verb == "start" || cmd.verb == "stop" || cmd.verb == "restart") {
        if (cmd.args.empty()) {
            throw command_error{fmt::format("{}: give one or more service names", cmd.verb), usage_error};
        }
        for (const auto& name : cmd.args) {
            auto reply = co_await call(c, "POST", path_of(name) + "/" + cmd.verb);
            std::cout << fmt::format("{}: {}\n", name, cmd.verb == "stop" ? "stopping" : cmd.verb == "start" ? "starting" : "restarting");
        }
        co_return 0;
    }
    if (cmd.verb == "add") {
        co_return co_await add(c, cmd);
    }
    if (cmd.verb == "rm") {
        if (cmd.args.empty()) {
            throw command_error{"rm: give one or more service names", usage_error};
        }
        for (const auto& name : cmd.args) {
            auto target = path_of(name);
            co_await call(c, "DELETE", std::move(target));
            std::cout << fmt::format("{}: stopping, and removed\n", name);
        }
        co_return 0;
    }
    if (cmd.verb == "stdin") {
        const auto name = one_name(cmd);
        const std::vector<std::string> words(cmd.args.begin() + 1, cmd.args.end());
        co_await write_input(c, path_of(name) + "/stdin", words, cmd.close);
        co_return 0;
    }
    if (cmd.verb == "tail") {
        // The current run's output, as `corral tail JOB` shows a job's.
        auto reply = co_await call(c, "GET", path_of(one_name(cmd)));
        const auto job = reply.at("job").to_number<std::uint64_t>();
        if (job == 0) {
            throw command_error{fmt::format("service '{}' has not run yet", one_name(cmd))};
        }
        co_await follow_output(c, job, 0, cmd.follow);
        co_return 0;
    }
    throw command_error{fmt::format("unknown action '{}' (ls, show, start, stop, restart, stdin, tail, add, rm)", cmd.verb),
                        usage_error};
}

}  // namespace corral::cli
