#include "corral/tasks/task_def.hpp"

#include <algorithm>

#include <boost/json/array.hpp>

namespace corral::tasks {

const arg_def* task_def::find_arg(std::string_view arg_name) const {
    auto it = std::find_if(args.begin(), args.end(), [&](const arg_def& a) { return a.name == arg_name; });
    return it == args.end() ? nullptr : &*it;
}

std::string_view to_string(arg_type t) {
    switch (t) {
        case arg_type::string:
            return "string";
        case arg_type::integer:
            return "int";
        case arg_type::number:
            return "float";
        case arg_type::boolean:
            return "bool";
        case arg_type::choice:
            return "enum";
        case arg_type::pattern:
            return "pattern";
        case arg_type::path:
            return "path";
    }
    return "string";
}

std::string_view to_string(arg_style s) {
    switch (s) {
        case arg_style::positional:
            return "positional";
        case arg_style::option:
            return "option";
        case arg_style::option_equals:
            return "option=";
        case arg_style::flag_switch:
            return "switch";
    }
    return "positional";
}

std::string_view to_string(result_kind k) {
    switch (k) {
        case result_kind::none:
            return "none";
        case result_kind::text:
            return "text";
        case result_kind::json:
            return "json";
        case result_kind::regex:
            return "regex";
        case result_kind::table:
            return "table";
    }
    return "none";
}

namespace {

boost::json::object arg_json(const arg_def& a) {
    boost::json::object o{{"name", a.name},
                          {"description", a.description},
                          {"type", to_string(a.type)},
                          {"style", to_string(a.style)},
                          {"required", a.required}};
    if (!a.flag.empty())
        o["flag"] = a.flag;
    if (!a.prefix.empty())
        o["prefix"] = a.prefix;
    if (a.default_value)
        o["default"] = *a.default_value;
    if (!a.choices.empty())
        o["choices"] = boost::json::array(a.choices.begin(), a.choices.end());
    if (!a.pattern.empty())
        o["pattern"] = a.pattern;
    if (a.min)
        o["min"] = *a.min;
    if (a.max)
        o["max"] = *a.max;
    if (!a.within.empty())
        o["within"] = a.within;
    return o;
}

}  // namespace

boost::json::object to_json(const task_def& t) {
    boost::json::array args;
    for (const auto& a : t.args) {
        args.emplace_back(arg_json(a));
    }
    boost::json::object o{{"name", t.name},
                          {"description", t.description},
                          {"args", std::move(args)},
                          {"result", to_string(t.result.kind)},
                          {"group", t.group}};
    if (t.multi_step()) {
        boost::json::array steps;
        for (const auto& s : t.steps) {
            steps.emplace_back(boost::json::object{{"task", s.task}, {"args", s.args}});
        }
        o["steps"] = std::move(steps);
        o["on_failure"] = t.on_failure == failure_policy::stop ? "stop" : "continue";
    } else {
        o["command"] = boost::json::array(t.command.begin(), t.command.end());
    }
    o["timeout_ms"] = t.timeout ? boost::json::value(t.timeout->count()) : boost::json::value(nullptr);
    return o;
}

}  // namespace corral::tasks
