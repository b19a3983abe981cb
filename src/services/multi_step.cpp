// job_service's multi-step jobs: the parent runs no process; each step is a job of its own, queued
// when the one before it has finished, at the parent's priority (as ASEXOR's BaseMultiTask does).

#include <fmt/format.h>

#include "corral/services/job_service.hpp"

namespace corral::services {
namespace {

std::string step_name(const submit_request& step, std::size_t i, std::size_t n) {
    return fmt::format("step {}/{} ({})", i + 1, n, step.task ? step.task->name : "command");
}

}  // namespace

net::awaitable<void> job_service::run_steps(jobs::job& parent,
                                            std::vector<submit_request> steps,
                                            tasks::failure_policy policy) {
    pin keep(*this, parent);
    current_step_[parent.id] = 0;
    parent.state = jobs::job_state::running;
    parent.started = jobs::clock::now();
    table_.notify(parent, jobs::job_event::started);
    boost::json::array results;
    std::string failure;
    for (std::size_t i = 0; i < steps.size() && failure.empty() && !parent.stop_requested; ++i) {
        auto& step = steps[i];
        const auto name = step_name(step, i, steps.size());
        step.owner = parent.owner;
        step.spec.priority = parent.spec.priority;
        step.spec.labels[std::string(jobs::parent_label)] = std::to_string(parent.id);
        auto submitted = submit(std::move(step));
        if (!submitted) {
            failure = fmt::format("{}: {}", name, submitted.error().what());
            break;
        }
        const auto id = (*submitted)->id;
        pin keep_step(*this, **submitted);  // read its outcome even if retention would evict it
        current_step_[parent.id] = id;
        parent.log->append(output::stream::out, fmt::format("{}: job {}\n", name, id));
        while (!co_await wait_finished(id, std::chrono::hours(24))) {
        }
        current_step_[parent.id] = 0;
        const auto* done = table_.find(id);
        const bool ok = done && done->state == jobs::job_state::succeeded;
        const auto reason = done ? done->reason : std::string("evicted before it was read");
        parent.log->append(output::stream::out, fmt::format("{}: {}\n", name, reason));
        if (ok) {
            results.push_back(done->result);
        } else if (policy == tasks::failure_policy::continue_ && !parent.stop_requested) {
            results.push_back(nullptr);
        } else {
            failure = fmt::format("{} failed: {}", name, reason);
        }
        if (ok || policy == tasks::failure_policy::continue_) {
            parent.progress = static_cast<double>(i + 1) / static_cast<double>(steps.size());
            table_.notify(parent, jobs::job_event::progress);
        }
    }
    current_step_.erase(parent.id);
    parent.finished = jobs::clock::now();
    const double duration = std::chrono::duration<double>(*parent.finished - *parent.started).count();
    if (parent.stop_requested) {
        parent.state = jobs::job_state::killed;
        parent.reason = "stopped on request";
    } else if (!failure.empty()) {
        parent.state = jobs::job_state::failed;
        parent.reason = std::move(failure);
    } else {
        parent.state = jobs::job_state::succeeded;
        parent.reason = fmt::format("{} step(s) done", steps.size());
        parent.result = boost::json::object{{"results", std::move(results)}, {"duration", duration}};
    }
    parent.log->close();
    table_.notify(parent, jobs::job_event::finished);
}

result<void> job_service::stop_steps(jobs::job& parent) {
    if (parent.stop_requested) {
        return make_error_code(errc::invalid_state);
    }
    parent.stop_requested = jobs::stop_reason::request;
    if (auto* step = table_.find(current_step_[parent.id])) {
        unqueue(*step);
        (void)runner_.stop(*step, jobs::stop_reason::request);
    }
    return {};
}

}  // namespace corral::services
