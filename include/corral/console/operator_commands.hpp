#pragma once

#include <functional>
#include <string>
#include <vector>

#include "corral/console/interpreter.hpp"
#include "corral/services/job_service.hpp"
#include "corral/services/supervisor.hpp"
#include "corral/tasks/task_catalog.hpp"

namespace corral::console {

/// One of the pod's components, for `components`.
struct component_info {
    int id = 0;
    std::string label;
    std::string description;
};

/// What the operator commands act on. Everything must outlive the interpreter.
struct operator_context {
    services::job_service& jobs;
    services::supervisor& services;
    const tasks::task_catalog& catalog;
    /// The pod's components, in order.
    std::function<std::vector<component_info>()> components;
    /// What `corrald check` prints for the running configuration.
    std::function<std::string()> config_text;
    /// Hands a signal to the components of one label: what they did, or an error (no such label).
    std::function<result_info<std::string>(const std::string& label, int sig)> signal_components;
};

/**
 * The console's commands for operators: jobs, show, kill, tasks, run, queue, drain, resume, svc,
 * components, signal, stats, config and log-level. Each acts through the job service's and the supervisor's
 * `_as` calls with the session's identity, so a role may do here exactly what it may over the API;
 * a refusal prints the reason. Output is for people; `--json` (where a script would want it)
 * prints what the API would return.
 */
void add_operator_commands(interpreter& commands, operator_context context);

}  // namespace corral::console
