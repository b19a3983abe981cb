#include "corral/services/job_request.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "corral/core/parse.hpp"
#include "corral/jobs/workflow_json.hpp"

namespace corral::services {
namespace {

namespace json = boost::json;

/// Collects "field: problem" messages so a client sees every mistake in one reply.
class field_errors {
  public:
    void add(std::string_view field, std::string message) {
        text_ += fmt::format("{}{}: {}", text_.empty() ? "" : "; ", field, message);
    }
    bool empty() const { return text_.empty(); }
    const std::string& text() const { return text_; }

  private:
    std::string text_;
};

std::string kind_name(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "a boolean";
        case json::kind::int64:
        case json::kind::uint64:
        case json::kind::double_:
            return "a number";
        case json::kind::string:
            return "a string";
        case json::kind::array:
            return "an array";
        case json::kind::object:
            return "an object";
    }
    return "a value";
}

class request_reader {
  public:
    request_reader(const json::object& body, const request_limits& limits, field_errors& errors)
        : body_(body), limits_(limits), errors_(errors) {}

    const json::value* get(std::string_view key) const { return body_.if_contains(key); }

    std::optional<std::string> string(std::string_view key) {
        const auto* v = get(key);
        if (!v || v->is_null()) {
            return std::nullopt;
        }
        if (!v->is_string()) {
            errors_.add(key, fmt::format("must be a string, not {}", kind_name(*v)));
            return std::nullopt;
        }
        return checked(key, v->get_string());
    }

    std::optional<std::string> checked(std::string_view field, json::string_view s) {
        if (s.size() > limits_.max_string) {
            errors_.add(field, fmt::format("longer than {} bytes", limits_.max_string));
            return std::nullopt;
        }
        if (s.find('\0') != json::string_view::npos) {
            errors_.add(field, "must not contain a NUL byte");
            return std::nullopt;
        }
        return std::string(s);
    }

    std::optional<bool> boolean(std::string_view key) {
        const auto* v = get(key);
        if (!v || v->is_null()) {
            return std::nullopt;
        }
        if (!v->is_bool()) {
            errors_.add(key, fmt::format("must be true or false, not {}", kind_name(*v)));
            return std::nullopt;
        }
        return v->get_bool();
    }

    /// A duration as "250ms"/"5s"/"2m" or a number of seconds.
    std::optional<std::chrono::milliseconds> duration(std::string_view key) {
        const auto* v = get(key);
        if (!v || v->is_null()) {
            return std::nullopt;
        }
        std::string text;
        if (v->is_string()) {
            text = v->get_string();
        } else if (v->is_number()) {
            text = fmt::format("{}", v->to_number<double>());
        } else {
            errors_.add(key,
                        fmt::format("must be a duration such as \"5s\" or a number of seconds, not {}",
                                    kind_name(*v)));
            return std::nullopt;
        }
        auto d = parse_duration(text);
        if (!d) {
            errors_.add(key, d.error().what());
            return std::nullopt;
        }
        return *d;
    }

    /// A byte size as "64MiB" or a number of bytes.
    std::optional<std::uint64_t> size(std::string_view field, const json::value& v) {
        if (v.is_int64() && v.get_int64() >= 0) {
            return static_cast<std::uint64_t>(v.get_int64());
        }
        if (v.is_uint64()) {
            return v.get_uint64();
        }
        if (v.is_string()) {
            auto s = parse_size(v.get_string());
            if (s) {
                return *s;
            }
            errors_.add(field, s.error().what());
            return std::nullopt;
        }
        errors_.add(
            field,
            fmt::format("must be a size such as \"64MiB\" or a number of bytes, not {}", kind_name(v)));
        return std::nullopt;
    }

    const json::object* object(std::string_view key) {
        const auto* v = get(key);
        if (!v || v->is_null()) {
            return nullptr;
        }
        if (!v->is_object()) {
            errors_.add(key, fmt::format("must be an object, not {}", kind_name(*v)));
            return nullptr;
        }
        return &v->get_object();
    }

    const request_limits& limits() const { return limits_; }
    field_errors& errors() { return errors_; }

  private:
    const json::object& body_;
    const request_limits& limits_;
    field_errors& errors_;
};

constexpr std::string_view known_fields[] = {"command",
                                             "shell",
                                             "cwd",
                                             "env",
                                             "inherit_env",
                                             "stdin",
                                             "stdin_file",
                                             "timeout",
                                             "stop",
                                             "output_cap",
                                             "output_policy",
                                             "merge",
                                             "pty",
                                             "labels",
                                             "idempotency_key",
                                             "limits",
                                             "priority",
                                             "group",
                                             "retry",
                                             "after",
                                             "after_ok",
                                             "after_any",
                                             "on_finish"};

void read_command(request_reader& r, proc::spawn_options& p) {
    const auto* command = r.get("command");
    auto shell = r.string("shell");
    if (command && shell) {
        r.errors().add("command", "give either command (an argv array) or shell (a string), not both");
        return;
    }
    if (shell) {
        if (shell->empty()) {
            r.errors().add("shell", "must not be empty");
        }
        p.shell_command = std::move(*shell);
        return;
    }
    if (!command) {
        if (!r.get("shell")) {
            r.errors().add("command", "required: an argv array such as [\"make\", \"test\"] (or give shell)");
        }
        return;
    }
    if (!command->is_array() || command->get_array().empty()) {
        r.errors().add("command", "must be a non-empty array of strings");
        return;
    }
    const auto& argv = command->get_array();
    if (argv.size() > r.limits().max_argv) {
        r.errors().add("command", fmt::format("more than {} arguments", r.limits().max_argv));
        return;
    }
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const auto field = fmt::format("command[{}]", i);
        if (!argv[i].is_string()) {
            r.errors().add(field, fmt::format("must be a string, not {}", kind_name(argv[i])));
        } else if (auto s = r.checked(field, argv[i].get_string())) {
            p.argv.push_back(std::move(*s));
        }
    }
    if (!p.argv.empty() && p.argv.front().empty()) {
        r.errors().add("command[0]", "the program name must not be empty");
    }
}

void read_environment(request_reader& r, proc::spawn_options& p) {
    if (auto inherit = r.boolean("inherit_env")) {
        p.env.inherit = *inherit;
    }
    const auto* env = r.object("env");
    if (!env) {
        return;
    }
    if (env->size() > r.limits().max_env) {
        r.errors().add("env", fmt::format("more than {} variables", r.limits().max_env));
        return;
    }
    for (const auto& [name, value] : *env) {
        const auto field = fmt::format("env.{}", std::string_view(name));
        if (name.empty() || name.find('=') != json::string_view::npos) {
            r.errors().add(field, "a variable name must be non-empty and have no '='");
        } else if (value.is_null()) {
            p.env.unset(std::string(name));
        } else if (!value.is_string()) {
            r.errors().add(field,
                           fmt::format("must be a string (or null to unset), not {}", kind_name(value)));
        } else if (auto s = r.checked(field, value.get_string())) {
            p.env.set(std::string(name), std::move(*s));
        }
    }
}

void read_io(request_reader& r, jobs::job_spec& spec) {
    auto& p = spec.process;
    if (auto in = r.string("stdin")) {
        if (*in == "none") {
            p.input = proc::input_mode::none;
        } else if (*in == "pipe") {
            p.input = proc::input_mode::pipe;
        } else {
            r.errors().add("stdin",
                           fmt::format("must be \"none\" or \"pipe\" (or give stdin_file), not \"{}\"", *in));
        }
    }
    if (auto file = r.string("stdin_file")) {
        p.input = proc::input_mode::file;
        p.stdin_file = std::move(*file);
    }
    if (auto merge = r.boolean("merge")) {
        p.output = *merge ? proc::output_mode::merged : proc::output_mode::separate;
    }
    if (auto pty = r.boolean("pty")) {
        p.pty = *pty;
    }
    if (const auto* cap = r.get("output_cap"); cap && !cap->is_null()) {
        if (auto bytes = r.size("output_cap", *cap)) {
            spec.output.cap = *bytes;
        }
    }
    if (auto policy = r.string("output_policy")) {
        if (*policy == "keep_newest") {
            spec.output.policy = output::cap_policy::keep_newest;
        } else if (*policy == "stop_job") {
            spec.output.policy = output::cap_policy::stop_job;
        } else {
            r.errors().add("output_policy",
                           fmt::format("must be \"keep_newest\" or \"stop_job\", not \"{}\"", *policy));
        }
    }
}

void read_control(request_reader& r, jobs::job_spec& spec) {
    if (auto t = r.duration("timeout")) {
        if (t->count() == 0) {
            r.errors().add("timeout", "must be more than 0 (leave it out for no timeout)");
        }
        spec.timeout = *t;
    }
    if (auto stop = r.string("stop")) {
        auto plan = proc::stop_plan::parse(*stop);
        if (plan) {
            spec.stop = *plan;
        } else {
            r.errors().add("stop", plan.error().what());
        }
    }
    if (const auto* limits = r.object("limits")) {
        for (const auto& [key, value] : *limits) {
            const auto field = fmt::format("limits.{}", std::string_view(key));
            auto n = r.size(field, value);
            if (key == "cpu_seconds") {
                spec.process.limits.cpu_seconds = n;
            } else if (key == "address_space") {
                spec.process.limits.address_space = n;
            } else if (key == "open_files") {
                spec.process.limits.open_files = n;
            } else if (key == "processes") {
                spec.process.limits.processes = n;
            } else {
                r.errors().add(field, "unknown limit (cpu_seconds, address_space, open_files, processes)");
            }
        }
    }
}

void read_labels(request_reader& r, jobs::job_spec& spec) {
    const auto* labels = r.object("labels");
    if (!labels) {
        return;
    }
    if (labels->size() > r.limits().max_labels) {
        r.errors().add("labels", fmt::format("more than {} labels", r.limits().max_labels));
        return;
    }
    for (const auto& [key, value] : *labels) {
        const auto field = fmt::format("labels.{}", std::string_view(key));
        if (std::string_view(key).starts_with(jobs::reserved_label_prefix)) {
            r.errors().add(
                field,
                fmt::format("labels beginning with '{}' are corral's own", jobs::reserved_label_prefix));
        } else if (!value.is_string()) {
            r.errors().add(field, fmt::format("must be a string, not {}", kind_name(value)));
        } else if (auto s = r.checked(field, value.get_string())) {
            spec.labels[std::string(key)] = std::move(*s);
        }
    }
}

void read_queueing(request_reader& r, jobs::job_spec& spec) {
    if (const auto* priority = r.get("priority"); priority && !priority->is_null()) {
        if (!priority->is_int64() || priority->get_int64() < min_priority ||
            priority->get_int64() > max_priority) {
            r.errors().add("priority",
                           fmt::format("must be a whole number from {} (runs first) to {}, not {}",
                                       min_priority,
                                       max_priority,
                                       json::serialize(*priority)));
        } else {
            spec.priority = static_cast<int>(priority->get_int64());
        }
    }
    if (auto group = r.string("group")) {
        if (group->size() > 64) {
            r.errors().add("group", "longer than 64 bytes");
        }
        spec.group = std::move(*group);
    }
}

}  // namespace

void read_workflow(const json::object& body, submit_request& request, std::string& problems) {
    auto problem = [&](std::string_view field, std::string message) {
        problems += fmt::format("{}{}: {}", problems.empty() ? "" : "; ", field, message);
    };
    if (const auto* retry = body.if_contains("retry"); retry && !retry->is_null()) {
        if (auto r = jobs::retry_from_json(*retry)) {
            request.spec.workflow.edit().retry = *r;
        } else {
            problems += (problems.empty() ? "" : "; ") + r.error().message;
        }
    }
    for (const auto* key : {"after", "after_ok", "after_any"}) {
        if (const auto* list = body.if_contains(key); list && !list->is_null()) {
            auto read = jobs::ids_from_json(*list);
            if (!read) {
                problem(key, read.error().message);
                continue;
            }
            auto& flow = request.spec.workflow.edit();
            auto* ids = key == std::string_view("after_any") ? &flow.after_any : &flow.after_ok;
            ids->insert(ids->end(), read->begin(), read->end());
            std::sort(ids->begin(), ids->end());
            ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
        }
    }
    if (const auto& flow = request.spec.workflow.get();
        flow.after_ok.size() + flow.after_any.size() > jobs::max_dependencies) {
        problem("after", fmt::format("more than {} jobs to wait for", jobs::max_dependencies));
    }
    if (const auto* hook = body.if_contains("on_finish"); hook && !hook->is_null()) {
        if (auto h = jobs::hook_from_json(*hook)) {
            request.spec.workflow.edit().on_finish = std::make_shared<const jobs::finish_hook>(std::move(*h));
            request.hook_given = true;
        } else {
            problems += (problems.empty() ? "" : "; ") + h.error().message;
        }
    }
}

result_info<submit_request> parse_job_request(const json::value& body,
                                              const jobs::job_spec& defaults,
                                              const request_limits& limits) {
    if (!body.is_object()) {
        return error_info{errc::invalid_spec,
                          fmt::format("a job must be a JSON object, not {}", kind_name(body))};
    }
    field_errors errors;
    const auto& object = body.get_object();
    for (const auto& [key, value] : object) {
        if (std::find(std::begin(known_fields), std::end(known_fields), key) == std::end(known_fields)) {
            errors.add(key, "unknown field");
        }
    }
    request_reader r(object, limits, errors);
    submit_request request;
    request.spec = defaults;
    read_command(r, request.spec.process);
    if (auto cwd = r.string("cwd")) {
        request.spec.process.cwd = std::move(*cwd);
    }
    read_environment(r, request.spec.process);
    read_io(r, request.spec);
    read_control(r, request.spec);
    read_labels(r, request.spec);
    read_queueing(r, request.spec);
    if (auto key = r.string("idempotency_key")) {
        if (key->size() > 256) {
            errors.add("idempotency_key", "longer than 256 bytes");
        }
        request.idempotency_key = std::move(*key);
    }
    std::string workflow_problems;
    read_workflow(object, request, workflow_problems);
    if (!errors.empty() || !workflow_problems.empty()) {
        return error_info{errc::invalid_spec,
                          errors.text() + (errors.empty() || workflow_problems.empty() ? "" : "; ") + workflow_problems};
    }
    return request;
}

}  // namespace corral::services
