#include "corral/services/job_access.hpp"

#include <fmt/format.h>

namespace corral::services {
namespace {

error_info forbidden(const identity& who, std::string what) {
    return {errc::forbidden, fmt::format("role '{}' ({}) may not {}", who.role->name, who.user, what)};
}

result_info<void> check_steps(const identity& who, const submit_request& r) {
    if (r.task && !who.role->may_run_task(r.task->name)) {
        return forbidden(who, fmt::format("run task '{}'", r.task->name));
    }
    for (const auto& step : r.steps) {
        if (auto ok = check_steps(who, step); !ok) {
            return ok;
        }
    }
    return {};
}

}  // namespace

result_info<void> check_submit(const identity& who,
                               const submit_request& request,
                               bool priority_given) {
    if (!request.task && request.steps.empty() && !who.role->commands && !who.role->admin) {
        return forbidden(who, "run commands, only tasks");
    }
    if (request.hook_given && !who.role->commands && !who.role->admin) {
        return forbidden(who, "set on_finish (a hook runs a command or makes a request as corrald, which "
                              "takes the right to run commands)");
    }
    if (priority_given && !who.role->set_priority && !who.role->admin) {
        return forbidden(who, fmt::format("choose a priority (its jobs run at {})", who.role->priority));
    }
    return check_steps(who, request);
}

result_info<void> check_see(const identity& who, const jobs::job& j) {
    if (j.owner == who.user || sees_all(who)) {
        return {};
    }
    return forbidden(who, fmt::format("see job {} of {}", j.id, j.owner));
}

result_info<void> check_control(const identity& who, const jobs::job& j) {
    if (j.owner == who.user || who.role->kill_all || who.role->admin) {
        return {};
    }
    return forbidden(who, fmt::format("act on job {} of {}", j.id, j.owner));
}

result_info<void> check_admin(const identity& who) {
    if (who.role->admin) {
        return {};
    }
    return forbidden(who, "administer the queue");
}

result_info<void> check_delegate(const identity& who) {
    if (who.role->admin) {
        return {};
    }
    return forbidden(who, "submit for other users (a delegated listener takes an admin's token)");
}

result_info<void> check_see_services(const identity& who) {
    if (sees_all(who)) {
        return {};
    }
    return forbidden(who, "see services (it takes see_all)");
}

result_info<void> check_control_services(const identity& who) {
    if (who.role->kill_all || who.role->admin) {
        return {};
    }
    return forbidden(who, "start, stop or write to services (it takes kill_all)");
}

bool sees_all(const identity& who) {
    return who.role->see_all || who.role->admin;
}

}  // namespace corral::services
