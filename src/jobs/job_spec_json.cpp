#include "corral/jobs/job_spec_json.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <boost/json/array.hpp>

#include "corral/jobs/workflow_json.hpp"

namespace corral::jobs {
namespace {

namespace json = boost::json;

// Reading throws this with the field's name; spec_from_json() turns it into an error.
struct bad_field : std::runtime_error {
    using std::runtime_error::runtime_error;
};

const json::value& field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v) {
        throw bad_field(fmt::format("'{}' is missing", key));
    }
    return *v;
}

std::string text(const json::object& o, std::string_view key) {
    const auto& v = field(o, key);
    if (!v.is_string()) {
        throw bad_field(fmt::format("'{}' is not a string", key));
    }
    return std::string(v.get_string());
}

std::int64_t number(const json::object& o, std::string_view key) {
    const auto& v = field(o, key);
    if (!v.is_int64() && !v.is_uint64()) {
        throw bad_field(fmt::format("'{}' is not an integer", key));
    }
    return v.to_number<std::int64_t>();
}

std::optional<std::uint64_t> maybe_number(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_int64() && !v->is_uint64()) {
        throw bad_field(fmt::format("'{}' is not an integer", key));
    }
    return v->to_number<std::uint64_t>();
}

const json::object& object_at(const json::object& o, std::string_view key) {
    const auto& v = field(o, key);
    if (!v.is_object()) {
        throw bad_field(fmt::format("'{}' is not an object", key));
    }
    return v.get_object();
}

const json::array& array_at(const json::object& o, std::string_view key) {
    const auto& v = field(o, key);
    if (!v.is_array()) {
        throw bad_field(fmt::format("'{}' is not an array", key));
    }
    return v.get_array();
}

json::value optional_json(const std::optional<std::uint64_t>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object process_to_json(const proc::spawn_options& p) {
    json::array argv;
    for (const auto& a : p.argv) {
        argv.emplace_back(a);
    }
    json::array changes;
    for (const auto& [name, value] : p.env.changes) {
        changes.emplace_back(
            json::array{json::value(name), value ? json::value(*value) : json::value(nullptr)});
    }
    return {{"argv", std::move(argv)},
            {"shell", p.shell_command ? json::value(*p.shell_command) : json::value(nullptr)},
            {"cwd", p.cwd},
            {"env_inherit", p.env.inherit},
            {"env", std::move(changes)},
            {"input", static_cast<int>(p.input)},
            {"stdin_file", p.stdin_file},
            {"output", static_cast<int>(p.output)},
            {"pty", p.pty},
            {"pty_rows", p.pty_size.rows},
            {"pty_columns", p.pty_size.columns},
            {"limit_cpu", optional_json(p.limits.cpu_seconds)},
            {"limit_as", optional_json(p.limits.address_space)},
            {"limit_files", optional_json(p.limits.open_files)},
            {"limit_procs", optional_json(p.limits.processes)}};
}

proc::spawn_options process_from_json(const json::object& o) {
    proc::spawn_options p;
    for (const auto& a : array_at(o, "argv")) {
        p.argv.emplace_back(a.as_string());
    }
    if (const auto& shell = field(o, "shell"); shell.is_string()) {
        p.shell_command = std::string(shell.get_string());
    }
    p.cwd = text(o, "cwd");
    p.env.inherit = field(o, "env_inherit").as_bool();
    for (const auto& c : array_at(o, "env")) {
        const auto& pair = c.as_array();
        std::optional<std::string> value;
        if (pair.at(1).is_string()) {
            value = std::string(pair.at(1).get_string());
        }
        p.env.changes.emplace_back(std::string(pair.at(0).as_string()), std::move(value));
    }
    p.input = static_cast<proc::input_mode>(number(o, "input"));
    p.stdin_file = text(o, "stdin_file");
    p.output = static_cast<proc::output_mode>(number(o, "output"));
    p.pty = field(o, "pty").as_bool();
    p.pty_size.rows = static_cast<unsigned short>(number(o, "pty_rows"));
    p.pty_size.columns = static_cast<unsigned short>(number(o, "pty_columns"));
    p.limits.cpu_seconds = maybe_number(o, "limit_cpu");
    p.limits.address_space = maybe_number(o, "limit_as");
    p.limits.open_files = maybe_number(o, "limit_files");
    p.limits.processes = maybe_number(o, "limit_procs");
    return p;
}

}  // namespace

json::object spec_to_json(const job_spec& spec) {
    json::object labels;
    for (const auto& [k, v] : spec.labels) {
        labels[k] = v;
    }
    json::object o{{"process", process_to_json(spec.process)},
                   {"timeout_ms", spec.timeout ? json::value(spec.timeout->count()) : json::value(nullptr)},
                   {"stop", spec.stop.to_string()},
                   {"output_cap", spec.output.cap},
                   {"output_policy", static_cast<int>(spec.output.policy)},
                   {"labels", std::move(labels)},
                   {"priority", spec.priority},
                   {"group", spec.group}};
    // Workflow fields only when set: older records have none, and most jobs use none.
    const auto& flow = spec.workflow.get();
    if (flow.retry) {
        o["retry"] = retry_to_json(*flow.retry);
    }
    if (!flow.after_ok.empty()) {
        o["after_ok"] = ids_to_json(flow.after_ok);
    }
    if (!flow.after_any.empty()) {
        o["after_any"] = ids_to_json(flow.after_any);
    }
    if (flow.on_finish) {
        o["on_finish"] = hook_to_json(*flow.on_finish, true);
    }
    return o;
}

result_info<job_spec> spec_from_json(const json::value& v) {
    if (!v.is_object()) {
        return error_info{errc::invalid_argument, "the stored job spec is not a JSON object"};
    }
    const auto& o = v.get_object();
    try {
        job_spec spec;
        spec.process = process_from_json(object_at(o, "process"));
        if (auto ms = maybe_number(o, "timeout_ms")) {
            spec.timeout = std::chrono::milliseconds(*ms);
        }
        auto plan = proc::stop_plan::parse(text(o, "stop"));
        if (!plan) {
            throw bad_field(fmt::format("'stop': {}", plan.error().what()));
        }
        spec.stop = std::move(*plan);
        spec.output.cap = static_cast<std::uint64_t>(number(o, "output_cap"));
        spec.output.policy = static_cast<output::cap_policy>(number(o, "output_policy"));
        for (const auto& [k, label] : object_at(o, "labels")) {
            spec.labels.emplace(std::string(k), std::string(label.as_string()));
        }
        spec.priority = static_cast<int>(number(o, "priority"));
        spec.group = text(o, "group");
        if (const auto* retry = o.if_contains("retry")) {
            auto r = retry_from_json(*retry);
            if (!r) {
                throw bad_field(r.error().what());
            }
            spec.workflow.edit().retry = *r;
        }
        for (const auto* key : {"after_ok", "after_any"}) {
            if (const auto* list = o.if_contains(key)) {
                auto read = ids_from_json(*list);
                if (!read) {
                    throw bad_field(fmt::format("'{}': {}", key, read.error().what()));
                }
                auto& flow = spec.workflow.edit();
                (key == std::string_view("after_ok") ? flow.after_ok : flow.after_any) = std::move(*read);
            }
        }
        if (const auto* hook = o.if_contains("on_finish")) {
            auto h = hook_from_json(*hook);
            if (!h) {
                throw bad_field(h.error().what());
            }
            spec.workflow.edit().on_finish = std::make_shared<const finish_hook>(std::move(*h));
        }
        return spec;
    } catch (const std::exception& e) {  // bad_field, or Boost.JSON's as_*() on a wrong type
        return error_info{errc::invalid_argument,
                          fmt::format("the stored job spec is damaged: {}", e.what())};
    }
}

json::value exit_to_json(const std::optional<proc::exit_status>& status) {
    if (!status) {
        return nullptr;
    }
    if (const auto* e = std::get_if<proc::exited>(&status->state())) {
        return json::object{{"code", e->code}};
    }
    const auto& s = std::get<proc::signaled>(status->state());
    return json::object{{"signal", s.signal}, {"core_dumped", s.core_dumped}};
}

std::optional<proc::exit_status> exit_from_json(const json::value& v) {
    const auto* o = v.if_object();
    if (!o) {
        return std::nullopt;
    }
    if (const auto* code = o->if_contains("code"); code && code->is_int64()) {
        return proc::exit_status(proc::exited{static_cast<int>(code->get_int64())});
    }
    if (const auto* sig = o->if_contains("signal"); sig && sig->is_int64()) {
        const auto* core = o->if_contains("core_dumped");
        return proc::exit_status(
            proc::signaled{static_cast<int>(sig->get_int64()), core && core->is_bool() && core->get_bool()});
    }
    return std::nullopt;
}

}  // namespace corral::jobs
