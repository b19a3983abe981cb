#include "corral/services/task_request.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace corral::services {
namespace {

namespace json = boost::json;

constexpr std::string_view task_fields[] = {"task",
                                            "args",
                                            "steps",
                                            "on_failure",
                                            "priority",
                                            "labels",
                                            "idempotency_key",
                                            "retry",
                                            "after",
                                            "after_ok",
                                            "after_any",
                                            "on_finish"};

/// The task and its arguments as one step: `{"task": NAME, "args": {...} | [...]}`.
result_info<submit_request> parse_call(const json::object& call,
                                       const tasks::task_catalog& catalog,
                                       const jobs::job_spec& defaults) {
    const auto* name = call.if_contains("task");
    if (!name || !name->is_string()) {
        return error_info{errc::invalid_spec,
                          "task: required: the name of a task (GET /api/v1/tasks lists them)"};
    }
    const auto* task = catalog.find(name->get_string());
    if (!task) {
        return error_info{errc::task_not_found,
                          fmt::format("task: no task named '{}'", std::string_view(name->get_string()))};
    }
    const auto* args = call.if_contains("args");
    json::object named;
    if (args && args->is_array()) {
        auto bound = tasks::task_catalog::bind(*task, args->get_array(), {});
        if (!bound) {
            return error_info{errc::invalid_spec, fmt::format("args: {}", bound.error().what())};
        }
        named = std::move(*bound);
    } else if (args && args->is_object()) {
        named = args->get_object();
    } else if (args && !args->is_null()) {
        return error_info{errc::invalid_spec,
                          "args: must be an object of name: value (or an array, in order)"};
    }
    return make_task_request(catalog, *task, named, defaults);
}

result_info<std::vector<submit_request>> parse_steps(const json::value& steps,
                                                     const tasks::task_catalog& catalog,
                                                     const jobs::job_spec& defaults) {
    if (!steps.is_array() || steps.get_array().empty() || steps.get_array().size() > 1000) {
        return error_info{errc::invalid_spec,
                          "steps: must be an array of 1 to 1000 {\"task\", \"args\"} objects"};
    }
    std::vector<submit_request> out;
    std::vector<std::string> problems;
    const auto& list = steps.get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
        auto step = list[i].is_object()
                        ? parse_call(list[i].get_object(), catalog, defaults)
                        : result_info<submit_request>(error_info{errc::invalid_spec, "must be an object"});
        if (step && !step->steps.empty()) {
            problems.push_back(
                fmt::format("steps[{}]: '{}' is itself a multi-step task", i, step->task->name));
        } else if (step) {
            out.push_back(std::move(*step));
        } else {
            problems.push_back(fmt::format("steps[{}]: {}", i, step.error().what()));
        }
    }
    if (!problems.empty()) {
        return error_info{errc::invalid_spec, fmt::format("{}", fmt::join(problems, "; "))};
    }
    return out;
}

/// priority, labels and idempotency_key, checked by the command parser so both kinds of request
/// give the same messages.
result_info<submit_request> parse_common(const json::object& body,
                                         const jobs::job_spec& defaults,
                                         const request_limits& limits) {
    json::object common{{"command", json::array{"task"}}};
    for (std::string_view key : {"priority", "labels", "idempotency_key"}) {
        if (const auto* v = body.if_contains(key)) {
            common[key] = *v;
        }
    }
    return parse_job_request(common, defaults, limits);
}

}  // namespace

bool is_task_request(const json::value& body) {
    return body.is_object() && (body.get_object().contains("task") || body.get_object().contains("steps"));
}

result_info<submit_request> make_task_request(const tasks::task_catalog& catalog,
                                              const tasks::task_def& task,
                                              const json::object& args,
                                              const jobs::job_spec& defaults) {
    auto checked = tasks::task_catalog::validate(task, args);
    if (!checked) {
        return error_info{errc::invalid_spec,
                          fmt::format("task '{}': {}", task.name, checked.error().what())};
    }
    submit_request r;
    r.spec = defaults;
    r.task = catalog.share(task);
    if (task.multi_step()) {
        for (const auto& step : task.steps) {
            auto s = make_task_request(catalog, *catalog.find(step.task), step.args, defaults);
            if (!s) {
                return s.error();
            }
            r.steps.push_back(std::move(*s));
        }
        r.on_failure = task.on_failure;
    } else {
        r.spec.process.argv = tasks::task_catalog::expand(task, *checked);
    }
    r.args = std::move(*checked);
    r.spec.timeout = task.timeout;
    if (task.stop) {
        r.spec.stop = *task.stop;
    }
    r.spec.group = task.group;
    if (task.retry || task.on_finish) {
        auto& flow = r.spec.workflow.edit();
        flow.retry = task.retry;
        flow.on_finish = task.on_finish;
    }
    r.spec.labels["task"] = task.name;
    return r;
}

result_info<submit_request> parse_task_request(const json::value& body,
                                               const tasks::task_catalog& catalog,
                                               const jobs::job_spec& defaults,
                                               const request_limits& limits) {
    const auto& o = body.get_object();
    std::vector<std::string> problems;
    for (const auto& [key, value] : o) {
        if (std::find(std::begin(task_fields), std::end(task_fields), key) == std::end(task_fields)) {
            problems.push_back(
                fmt::format("{}: unknown field (a task request takes task, args, steps, "
                            "on_failure, priority, labels, idempotency_key, retry, after, after_ok, "
                            "after_any, on_finish)",
                            std::string_view(key)));
        }
    }
    if (o.contains("task") == o.contains("steps")) {
        problems.push_back("give either task (with args) or steps, not both");
    }
    auto common = parse_common(o, defaults, limits);
    if (!common) {
        problems.push_back(common.error().what());
    }
    if (!problems.empty()) {
        return error_info{errc::invalid_spec, fmt::format("{}", fmt::join(problems, "; "))};
    }
    submit_request r;
    if (o.contains("task")) {
        auto call = parse_call(o, catalog, defaults);
        if (!call) {
            return call.error();
        }
        r = std::move(*call);
    } else {
        auto steps = parse_steps(o.at("steps"), catalog, defaults);
        if (!steps) {
            return steps.error();
        }
        r.spec = defaults;
        r.steps = std::move(*steps);
        const auto* policy = o.if_contains("on_failure");
        if (policy && *policy == "continue") {
            r.on_failure = tasks::failure_policy::continue_;
        } else if (policy && *policy != "stop") {
            return error_info{errc::invalid_spec, "on_failure: must be \"stop\" or \"continue\""};
        }
    }
    r.spec.priority = common->spec.priority;
    for (auto& [k, v] : common->spec.labels) {
        r.spec.labels[k] = v;
    }
    r.idempotency_key = std::move(common->idempotency_key);
    // The request's own retry and hook replace the task's; its dependencies are its own.
    std::string workflow_problems;
    read_workflow(o, r, workflow_problems);
    if (!workflow_problems.empty()) {
        return error_info{errc::invalid_spec, workflow_problems};
    }
    return r;
}

}  // namespace corral::services
