#include "corral/tasks/task_catalog.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <variant>

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

namespace corral::tasks {
namespace {

namespace json = boost::json;

/// A checked value, or why it was refused.
using checked = std::variant<json::value, std::string>;

std::string text_of(const json::value& v) {
    if (v.is_string()) {
        return std::string(v.get_string());
    }
    if (v.is_bool()) {
        return v.get_bool() ? "true" : "false";
    }
    if (v.is_double()) {
        return fmt::format("{}", v.get_double());
    }
    return json::serialize(v);
}

checked check_range(const arg_def& a, double n, json::value v) {
    if ((a.min && n < *a.min) || (a.max && n > *a.max)) {
        return fmt::format("{} is out of range ({} to {})",
                           text_of(v),
                           a.min ? fmt::format("{}", *a.min) : std::string("any"),
                           a.max ? fmt::format("{}", *a.max) : std::string("any"));
    }
    return v;
}

/// A double that is a whole number an int64 holds (JSON's 1e400 is infinity; a cast of it, or of a NaN
/// or anything past ±2^63, is undefined: found by task_args_fuzz).
bool whole_int64(double d) {
    return std::isfinite(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == std::trunc(d);
}

checked check_integer(const arg_def& a, const json::value& v) {
    std::int64_t n = 0;
    if (v.is_int64()) {
        n = v.get_int64();
    } else if (v.is_uint64() && v.get_uint64() <= INT64_MAX) {
        n = static_cast<std::int64_t>(v.get_uint64());
    } else if (v.is_double() && whole_int64(v.get_double())) {
        n = static_cast<std::int64_t>(v.get_double());
    } else if (v.is_string()) {
        const auto s = v.get_string();
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
            return fmt::format("must be a whole number, not {}", json::serialize(v));
        }
    } else {
        return fmt::format("must be a whole number, not {}", json::serialize(v));
    }
    return check_range(a, static_cast<double>(n), json::value(n));
}

checked check_number(const arg_def& a, const json::value& v) {
    double n = 0;
    if (v.is_number()) {
        n = v.to_number<double>();
    } else if (v.is_string()) {
        const auto s = v.get_string();
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
            return fmt::format("must be a number, not {}", json::serialize(v));
        }
    } else {
        return fmt::format("must be a number, not {}", json::serialize(v));
    }
    if (!std::isfinite(n)) {  // "1e400", "inf", "nan": no program expects them
        return fmt::format("must be a finite number, not {}", json::serialize(v));
    }
    return check_range(a, n, json::value(n));
}

checked check_boolean(const json::value& v) {
    if (v.is_bool()) {
        return v;
    }
    if ((v.is_string() && v.get_string() == "true") || (v.is_int64() && v.get_int64() == 1)) {
        return json::value(true);
    }
    if ((v.is_string() && v.get_string() == "false") || (v.is_int64() && v.get_int64() == 0)) {
        return json::value(false);
    }
    return fmt::format("must be true or false, not {}", json::serialize(v));
}

std::optional<std::string> path_problem(const arg_def& a, const std::string& s) {
    if (s.empty()) {
        return "must not be empty";
    }
    if (a.within.empty()) {
        return std::nullopt;
    }
    namespace fs = std::filesystem;
    const auto base = fs::path(a.within).lexically_normal();
    const auto full = (base / s).lexically_normal();
    auto rel = full.lexically_relative(base);
    if (rel.empty() || *rel.begin() == "..") {
        return fmt::format("must be inside {}", a.within);
    }
    return std::nullopt;
}

checked check_text(const arg_def& a, const json::value& v) {
    if (!v.is_string() && !(a.type == arg_type::string && v.is_number())) {
        return fmt::format("must be a string, not {}", json::serialize(v));
    }
    std::string s = text_of(v);
    if (s.size() > a.max_length) {
        return fmt::format("longer than {} bytes", a.max_length);
    }
    if (s.find('\0') != std::string::npos) {
        return std::string("must not contain a NUL byte");
    }
    const bool stands_alone = a.prefix.empty() && a.style != arg_style::option_equals;
    if (stands_alone && s.starts_with('-') && !a.allow_leading_dash) {
        return fmt::format("'{}' must not begin with '-': the program could take it for an option", s);
    }
    if (a.type == arg_type::choice && std::find(a.choices.begin(), a.choices.end(), s) == a.choices.end()) {
        return fmt::format("must be one of {}, not '{}'", fmt::join(a.choices, ", "), s);
    }
    if (a.type == arg_type::pattern && !a.compiled->full_match(s)) {
        return fmt::format("'{}' does not match {}", s, a.pattern);
    }
    if (a.type == arg_type::path) {
        if (auto problem = path_problem(a, s)) {
            return *problem;
        }
    }
    return json::value(json::string(s));
}

checked check(const arg_def& a, const json::value& v) {
    switch (a.type) {
        case arg_type::integer:
            return check_integer(a, v);
        case arg_type::number:
            return check_number(a, v);
        case arg_type::boolean:
            return check_boolean(v);
        default:
            return check_text(a, v);
    }
}

std::vector<std::string> words(const arg_def& a, const json::value& v) {
    if (a.style == arg_style::flag_switch) {
        return v.is_bool() && v.get_bool() ? std::vector<std::string>{a.flag} : std::vector<std::string>{};
    }
    auto text = a.prefix + text_of(v);
    switch (a.style) {
        case arg_style::option:
            return {a.flag, std::move(text)};
        case arg_style::option_equals:
            return {a.flag + "=" + text};
        default:
            return {std::move(text)};
    }
}

bool has_placeholders(const task_def& t) {
    for (const auto& word : t.command) {
        for (const auto& a : t.args) {
            if (word.find("{" + a.name + "}") != std::string::npos) {
                return true;
            }
        }
    }
    return false;
}

/// A template word with `{name}` replaced inside it; empty when a named argument is absent.
std::optional<std::string> fill(const task_def& t, std::string word, const json::object& args) {
    for (const auto& a : t.args) {
        const auto placeholder = "{" + a.name + "}";
        for (auto pos = word.find(placeholder); pos != std::string::npos; pos = word.find(placeholder, pos)) {
            const auto* v = args.if_contains(a.name);
            if (!v || v->is_null()) {
                return std::nullopt;
            }
            const auto text = a.prefix + text_of(*v);
            word.replace(pos, placeholder.size(), text);
            pos += text.size();
        }
    }
    return word;
}

}  // namespace

result_info<json::object> task_catalog::validate(const task_def& task, const json::object& args) {
    std::vector<std::string> problems;
    for (const auto& [key, value] : args) {
        if (!task.find_arg(key)) {
            std::vector<std::string_view> names;
            for (const auto& a : task.args) {
                names.push_back(a.name);
            }
            problems.push_back(
                fmt::format("{}: unknown argument (task '{}' takes: {})",
                            std::string_view(key),
                            task.name,
                            names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
        }
    }
    json::object out;
    for (const auto& a : task.args) {
        const auto* v = args.if_contains(a.name);
        if (!v || v->is_null()) {
            if (a.default_value) {
                out[a.name] = *a.default_value;
            } else if (a.required) {
                problems.push_back(fmt::format("{}: required", a.name));
            }
            continue;
        }
        auto c = check(a, *v);
        if (auto* problem = std::get_if<std::string>(&c)) {
            problems.push_back(fmt::format("{}: {}", a.name, *problem));
        } else {
            out[a.name] = std::get<json::value>(std::move(c));
        }
    }
    if (!problems.empty()) {
        return error_info{errc::invalid_spec, fmt::format("{}", fmt::join(problems, "; "))};
    }
    return out;
}

std::vector<std::string> task_catalog::expand(const task_def& task, const json::object& args) {
    std::vector<std::string> argv;
    if (!has_placeholders(task)) {
        argv = task.command;
        for (const auto& a : task.args) {
            if (const auto* v = args.if_contains(a.name); v && !v->is_null()) {
                auto w = words(a, *v);
                argv.insert(argv.end(), w.begin(), w.end());
            }
        }
        return argv;
    }
    for (const auto& word : task.command) {
        const auto* whole = word.size() > 2 && word.front() == '{' && word.back() == '}'
                                ? task.find_arg(std::string_view(word).substr(1, word.size() - 2))
                                : nullptr;
        if (whole) {
            if (const auto* v = args.if_contains(whole->name); v && !v->is_null()) {
                auto w = words(*whole, *v);
                argv.insert(argv.end(), w.begin(), w.end());
            }
        } else if (auto filled = fill(task, word, args)) {
            argv.push_back(std::move(*filled));
        }
    }
    return argv;
}

result_info<json::object> task_catalog::bind(const task_def& task,
                                             const json::array& positional,
                                             const json::object& named) {
    if (positional.size() > task.args.size()) {
        return error_info{errc::invalid_spec,
                          fmt::format("task '{}' takes at most {} positional argument(s), got {}",
                                      task.name,
                                      task.args.size(),
                                      positional.size())};
    }
    json::object out;
    for (std::size_t i = 0; i < positional.size(); ++i) {
        out[task.args[i].name] = positional[i];
    }
    for (const auto& [key, value] : named) {
        out[key] = value;
    }
    return out;
}

const task_def* task_catalog::find(std::string_view name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &(*tasks_)[it->second];
}

std::shared_ptr<const task_def> task_catalog::share(const task_def& task) const {
    const auto* first = tasks_->data();
    if (&task >= first && &task < first + tasks_->size()) {
        return std::shared_ptr<const task_def>(tasks_, &task);  // keeps the whole generation alive
    }
    return std::make_shared<const task_def>(task);
}

std::shared_ptr<const task_def> task_catalog::find_shared(std::string_view name) const {
    const auto* t = find(name);
    return t ? share(*t) : nullptr;
}

result_info<task_catalog> task_catalog::create(std::vector<task_def> tasks) {
    task_catalog c;
    std::vector<std::string> problems;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (!c.by_name_.emplace(tasks[i].name, i).second) {
            problems.push_back(fmt::format("task '{}' is defined twice", tasks[i].name));
        }
    }
    c.tasks_ = std::make_shared<const std::vector<task_def>>(std::move(tasks));
    for (const auto& t : *c.tasks_) {
        for (std::size_t i = 0; i < t.steps.size(); ++i) {
            const auto* step = c.find(t.steps[i].task);
            if (!step || step->multi_step()) {
                problems.push_back(fmt::format(
                    "task '{}' step {}: '{}' is not a single-step task", t.name, i + 1, t.steps[i].task));
            } else if (auto args = validate(*step, t.steps[i].args); !args) {
                problems.push_back(fmt::format("task '{}' step {}: {}", t.name, i + 1, args.error().what()));
            }
        }
    }
    if (!problems.empty()) {
        return error_info{errc::invalid_argument, fmt::format("{}", fmt::join(problems, "\n"))};
    }
    return c;
}

}  // namespace corral::tasks
