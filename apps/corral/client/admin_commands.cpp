#include "client/admin_commands.hpp"

#include <iostream>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace corral::cli {
namespace {

namespace json = boost::json;

std::string text_of(const json::value& v) {
    if (v.is_double()) {
        return fmt::format("{}", v.get_double());  // 3600, not 3.6E3
    }
    return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

// One argument as a line: `  name  type  how it is passed  constraints`.
std::string describe_arg(const json::object& a) {
    std::string how = text_of(a.at("style"));
    if (const auto* flag = a.if_contains("flag"); flag && !flag->get_string().empty()) {
        how += " " + text_of(*flag);
    }
    std::string notes = a.contains("required") && a.at("required").as_bool() ? "required" : "optional";
    for (const char* key : {"default", "choices", "pattern", "min", "max", "within", "prefix"}) {
        if (const auto* v = a.if_contains(key)) {
            notes += fmt::format(", {} {}", key, v->is_string() ? json::serialize(*v) : text_of(*v));
        }
    }
    return fmt::format(
        "    {:<12} {:<8} {:<18} {}\n", text_of(a.at("name")), text_of(a.at("type")), how, notes);
}

}  // namespace

net::awaitable<int> list_tasks(api_client& c, bool as_json, bool names_only) {
    auto reply = co_await call(c, "GET", "/api/v1/tasks");
    if (as_json) {
        std::cout << json::serialize(reply) << "\n";
        co_return 0;
    }
    const auto& tasks = reply.at("tasks").as_array();
    if (names_only) {
        for (const auto& t : tasks) {
            std::cout << text_of(t.at("name")) << "\n";
        }
        co_return 0;
    }
    if (tasks.empty()) {
        std::cout << "no tasks are configured ([[task]] in corrald's config)\n";
    }
    for (const auto& value : tasks) {
        const auto& t = value.as_object();
        std::cout << text_of(t.at("name"));
        if (const auto& d = t.at("description").as_string(); !d.empty()) {
            std::cout << " - " << std::string_view(d);
        }
        std::cout << "\n";
        if (const auto* steps = t.if_contains("steps")) {
            std::cout << "    steps: ";
            for (const auto& s : steps->as_array()) {
                std::cout << text_of(s.at("task")) << " ";
            }
            std::cout << "(on failure: " << text_of(t.at("on_failure")) << ")\n";
        }
        for (const auto& a : t.at("args").as_array()) {
            std::cout << describe_arg(a.as_object());
        }
    }
    co_return 0;
}

net::awaitable<int> show_queue(api_client& c, const std::string& action, bool as_json) {
    // (g++ 12 miscompiles co_await inside a conditional expression: docs/development.md.)
    const std::string method = action.empty() ? "GET" : "POST";
    const std::string target = action.empty() ? "/api/v1/queue" : "/api/v1/queue/" + action;
    auto q = co_await call(c, method, target);
    if (as_json) {
        std::cout << json::serialize(q) << "\n";
        co_return 0;
    }
    std::cout << fmt::format(
        "{} running on {} slots, {} queued{}\n",
        text_of(q.at("running")),
        text_of(q.at("slots")),
        text_of(q.at("queued")),
        q.at("draining").as_bool() ? " - draining: nothing new starts (corral queue --resume)" : "");
    for (const auto& [name, g] : q.at("groups").as_object()) {
        const auto limit = g.at("limit").to_number<std::uint64_t>();
        std::cout << fmt::format("group {}: {} running, {} queued, {}\n",
                                 std::string_view(name),
                                 text_of(g.at("running")),
                                 text_of(g.at("queued")),
                                 limit ? fmt::format("limit {}", limit) : std::string("no limit of its own"));
    }
    const auto& jobs = q.at("jobs").as_array();
    if (!jobs.empty()) {
        std::cout << fmt::format(
            "{:>8}  {:>3}  {:<10} {:<12} {:<14} {}\n", "ID", "PRI", "GROUP", "OWNER", "TASK", "SUBMITTED");
    }
    for (const auto& value : jobs) {
        const auto& j = value.as_object();
        std::cout << fmt::format("{:>8}  {:>3}  {:<10} {:<12} {:<14} {}\n",
                                 text_of(j.at("id")),
                                 text_of(j.at("priority")),
                                 text_of(j.at("group")),
                                 text_of(j.at("owner")),
                                 text_of(j.at("task")),
                                 text_of(j.at("created")));
    }
    co_return 0;
}

net::awaitable<int> show_audit(api_client& c, std::uint64_t job, std::size_t last, bool as_json) {
    auto page = co_await call(c, "GET", fmt::format("/api/v1/audit?job={}&limit={}", job, last));
    if (as_json) {
        std::cout << json::serialize(page) << "\n";
        co_return 0;
    }
    const auto& entries = page.at("entries").as_array();
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {  // oldest first, like a log
        const auto& e = it->as_object();
        const auto id = e.at("job").to_number<std::uint64_t>();
        std::cout << fmt::format("{}  {:<10} {:<8} {:>8}  {}\n",
                                 text_of(e.at("time")),
                                 text_of(e.at("actor")),
                                 text_of(e.at("action")),
                                 id ? "job " + std::to_string(id) : std::string("-"),
                                 text_of(e.at("detail")));
    }
    co_return 0;
}

}  // namespace corral::cli
