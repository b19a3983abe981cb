#include "pod/task_config.hpp"

#include <fmt/format.h>

#include "corral/jobs/workflow_json.hpp"
#include "corral/proc/stop_plan.hpp"

namespace corral::pod {
boost::json::value json_of(const toml::node& n) {
    if (auto i = n.value<std::int64_t>(); n.is_integer())
        return *i;
    if (auto d = n.value<double>(); n.is_floating_point())
        return *d;
    if (auto b = n.value<bool>(); n.is_boolean())
        return *b;
    if (const auto* a = n.as_array()) {
        boost::json::array out;
        for (const auto& e : *a)
            out.push_back(json_of(e));
        return out;
    }
    if (const auto* t = n.as_table()) {
        boost::json::object out;
        for (const auto& [k, v] : *t)
            out[k.str()] = json_of(v);
        return out;
    }
    return boost::json::string(n.value_or(std::string()));
}

std::string read_retry(const toml::node& n, std::optional<jobs::retry_policy>& out) {
    auto r = jobs::retry_from_json(json_of(n));
    if (!r)
        return r.error().message;
    out = *r;
    return {};
}

std::string read_hook(const toml::node& n, jobs::finish_hook& out) {
    auto h = jobs::hook_from_json(json_of(n));
    if (!h)
        return h.error().message;
    out = std::move(*h);
    return {};
}

namespace {

using tasks::arg_style;
using tasks::arg_type;

boost::json::object json_table(const toml::table& t) {
    boost::json::object o;
    for (const auto& [k, v] : t) {
        o[k.str()] = json_of(v);
    }
    return o;
}

tasks::arg_def read_arg(const toml::table* t, const std::string& path, problems& p) {
    tasks::arg_def a;
    section s(t, path, p);
    s.string("name", a.name);
    s.string("description", a.description);
    s.choice("type",
             a.type,
             {{"string", arg_type::string},
              {"int", arg_type::integer},
              {"float", arg_type::number},
              {"bool", arg_type::boolean},
              {"enum", arg_type::choice},
              {"pattern", arg_type::pattern},
              {"path", arg_type::path}});
    s.choice("style",
             a.style,
             {{"positional", arg_style::positional},
              {"option", arg_style::option},
              {"option=", arg_style::option_equals},
              {"switch", arg_style::flag_switch}});
    s.string("flag", a.flag);
    s.string("prefix", a.prefix);
    s.boolean("required", a.required);
    s.read("default", [&](const toml::node& n) -> std::string {
        a.default_value = json_of(n);
        return {};
    });
    s.read("choices", [&](const toml::node& n) { return read_string_list(n, a.choices); });
    s.string("pattern", a.pattern);
    s.read("min", [&](const toml::node& n) -> std::string {
        if (!n.is_number())
            return "expected a number";
        a.min = *n.value<double>();
        return {};
    });
    s.read("max", [&](const toml::node& n) -> std::string {
        if (!n.is_number())
            return "expected a number";
        a.max = *n.value<double>();
        return {};
    });
    s.size("max_length", a.max_length);
    s.string("within", a.within);
    s.boolean("allow_leading_dash", a.allow_leading_dash);
    s.finish();
    const auto where = t ? t->source() : toml::source_region{};
    if (a.name.empty())
        p.add(where, path + ".name", "required");
    if (a.style != arg_style::positional && a.flag.empty())
        p.add(where, path + ".flag", "required for this style");
    if (a.style == arg_style::flag_switch && a.type != arg_type::boolean)
        p.add(where, path + ".style", "\"switch\" needs type = \"bool\"");
    if (a.type == arg_type::choice && a.choices.empty())
        p.add(where, path + ".choices", "required for type = \"enum\"");
    if (a.type == arg_type::pattern) {
        if (auto compiled = tasks::pattern::compile(a.pattern)) {
            a.compiled = *compiled;
        } else {
            p.add(where, path + ".pattern", compiled.error().what());
        }
    }
    return a;
}

void read_result(
    section& s, tasks::task_def& t, const std::string& path, problems& p, const toml::table* table) {
    s.choice("result",
             t.result.kind,
             {{"none", tasks::result_kind::none},
              {"text", tasks::result_kind::text},
              {"json", tasks::result_kind::json},
              {"regex", tasks::result_kind::regex},
              {"table", tasks::result_kind::table}});
    s.string("result_pattern", t.result.pattern);
    s.read("result_fields", [&](const toml::node& n) { return read_string_list(n, t.result.fields); });
    if (t.result.kind == tasks::result_kind::regex) {
        if (auto compiled = tasks::pattern::compile(t.result.pattern)) {
            t.result.compiled = *compiled;
        } else {
            p.add(table->source(), path + ".result_pattern", compiled.error().what());
        }
    }
}

tasks::task_def read_task(const toml::table* table, const std::string& path, problems& p) {
    tasks::task_def t;
    section s(table, path, p);
    s.string("name", t.name);
    s.string("description", t.description);
    s.read("command", [&](const toml::node& n) { return read_string_list(n, t.command); });
    s.read("args", [&](const toml::node& n) -> std::string {
        const auto* list = n.as_array();
        if (!list)
            return "expected [[task.args]] tables";
        for (std::size_t i = 0; i < list->size(); ++i) {
            t.args.push_back(read_arg((*list)[i].as_table(), fmt::format("{}.args[{}]", path, i + 1), p));
        }
        return {};
    });
    read_result(s, t, path, p, table);
    std::chrono::milliseconds timeout{0};
    s.duration("timeout", timeout);
    if (timeout.count() > 0)
        t.timeout = timeout;
    s.read("stop", [&](const toml::node& n) -> std::string {
        auto plan = proc::stop_plan::parse(n.value_or(std::string()));
        if (!plan)
            return plan.error().what();
        t.stop = *plan;
        return {};
    });
    s.string("group", t.group);
    s.read("steps", [&](const toml::node& n) -> std::string {
        const auto* list = n.as_array();
        if (!list)
            return "expected an array of { task = NAME, args = { ... } }";
        for (const auto& item : *list) {
            const auto* step = item.as_table();
            if (!step || !step->get("task") || !step->get("task")->is_string())
                return "each step needs task = NAME (and may have args = { ... })";
            const auto* args = step->get("args");
            t.steps.push_back(
                {*step->get("task")->value<std::string>(),
                 args && args->is_table() ? json_table(*args->as_table()) : boost::json::object{}});
        }
        return {};
    });
    s.choice("on_failure",
             t.on_failure,
             {{"stop", tasks::failure_policy::stop}, {"continue", tasks::failure_policy::continue_}});
    s.read("retry", [&](const toml::node& n) { return read_retry(n, t.retry); });
    s.read("on_finish", [&](const toml::node& n) {
        jobs::finish_hook hook;
        auto problem = read_hook(n, hook);
        if (problem.empty())
            t.on_finish = std::make_shared<const jobs::finish_hook>(std::move(hook));
        return problem;
    });
    s.finish();
    const auto where = table ? table->source() : toml::source_region{};
    if (t.name.empty())
        p.add(where, path + ".name", "required");
    if (t.command.empty() == t.steps.empty())
        p.add(where, path, "give either command (an argv template) or steps");
    return t;
}

}  // namespace

std::vector<tasks::task_def> read_tasks(toml::table& root, problems& p) {
    std::vector<tasks::task_def> out;
    auto* list = root["task"].as_array();
    if (!list) {
        if (root.contains("task"))
            p.add(root["task"].node()->source(), "task", "expected [[task]] tables");
        return out;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        out.push_back(read_task((*list)[i].as_table(), fmt::format("task[{}]", i + 1), p));
    }
    return out;
}

auth::auth_options read_auth(toml::table& root, const std::string& config_dir, problems& p) {
    auth::auth_options a;
    section s(root["auth"].as_table(), "auth", p);
    s.string("tokens_file", a.tokens_file);
    if (!a.tokens_file.empty() && a.tokens_file.front() != '/' && !config_dir.empty())
        a.tokens_file = config_dir + "/" + a.tokens_file;
    s.string("local_role", a.local_role);
    s.string("anonymous_role", a.anonymous_role);
    s.read("roles", [&](const toml::node& n) -> std::string {
        const auto* roles = n.as_table();
        if (!roles)
            return "expected [auth.roles.NAME] tables";
        for (const auto& [name, node] : *roles) {
            auth::role_policy r;
            r.name = std::string(name.str());
            section rs(node.as_table(), "auth.roles." + r.name, p);
            rs.integer("priority", r.priority, 0, 9);
            rs.boolean("set_priority", r.set_priority);
            rs.read("tasks", [&](const toml::node& t) { return read_string_list(t, r.tasks); });
            rs.boolean("commands", r.commands);
            rs.boolean("see_all", r.see_all);
            rs.boolean("kill_all", r.kill_all);
            rs.boolean("admin", r.admin);
            rs.finish();
            a.roles.emplace(r.name, std::move(r));
        }
        return {};
    });
    s.finish();
    return a;
}

}  // namespace corral::pod
