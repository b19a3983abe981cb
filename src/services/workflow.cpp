// job_service's workflows: jobs that run after others (`after_ok`, `after_any`) and jobs that run
// again when an attempt ends badly (`retry`). Both live here, in the core, so every surface shows
// the same states (`waiting`, `retrying`), events and records, and both survive a restart.

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>

#include "corral/core/parse.hpp"
#include "corral/jobs/job_json.hpp"
#include "corral/services/job_service.hpp"

namespace corral::services {

result_info<job_service::dependency_check> job_service::check_dependencies(const jobs::job_spec& spec) const {
    dependency_check out;
    auto look = [&](const std::vector<jobs::job_id>& ids) -> result_info<void> {
        for (auto id : ids) {
            const auto* d = table_.find(id);
            if (!d) {
                if (id >= table_.next_id()) {
                    return error_info{errc::invalid_spec,
                                      fmt::format("after: there is no job {} yet (a job runs only after jobs "
                                                  "submitted before it, so dependencies never form a cycle)",
                                                  id)};
                }
                return error_info{errc::invalid_spec,
                                  fmt::format("after: there is no job {} (or its record is no longer kept)", id)};
            }
            if (!jobs::is_finished(d->state)) {
                ++out.pending;
            }
        }
        return {};
    };
    const auto& flow = spec.workflow.get();
    if (auto ok = look(flow.after_ok); !ok) {
        return ok.error();
    }
    if (auto ok = look(flow.after_any); !ok) {
        return ok.error();
    }
    // A dependency that has already ended badly fails the job at once, as it would have later.
    for (auto id : flow.after_ok) {
        const auto& d = *table_.find(id);
        if (jobs::is_finished(d.state) && d.state != jobs::job_state::succeeded) {
            out.failure = dependency_failure(spec, d);
            break;
        }
    }
    return out;
}

std::string job_service::dependency_failure(const jobs::job_spec& dependent, const jobs::job& dependency) {
    const auto& ok = dependent.workflow.get().after_ok;
    if (dependency.state == jobs::job_state::succeeded || !std::binary_search(ok.begin(), ok.end(), dependency.id)) {
        return {};
    }
    return fmt::format("not run: job {}, which it runs after, ended {}{}{}",
                       dependency.id,
                       jobs::to_string(dependency.state),
                       dependency.reason.empty() ? "" : ": ",
                       dependency.reason);
}

void job_service::wait_for_dependencies(jobs::job& j) {
    std::size_t pending = 0;
    const auto& flow = j.spec.workflow.get();
    for (const auto* ids : {&flow.after_ok, &flow.after_any}) {
        for (auto id : *ids) {
            if (const auto* d = table_.find(id); d && !jobs::is_finished(d->state)) {
                dependents_[id].push_back(j.id);
                ++pending;
            }
        }
    }
    if (pending == 0) {
        release(j);
        return;
    }
    pending_dependencies_[j.id] = pending;
}

void job_service::release_dependents(jobs::job_id ended) {
    ended_.push_back(ended);
    if (releasing_) {
        return;  // the loop below, further up the stack, takes it
    }
    releasing_ = true;
    while (!ended_.empty()) {
        const auto id = ended_.back();
        ended_.pop_back();
        pending_dependencies_.erase(id);
        auto it = dependents_.find(id);
        if (it == dependents_.end()) {
            continue;
        }
        const auto waiting = std::move(it->second);
        dependents_.erase(it);
        const auto* dependency = table_.find(id);
        for (auto dependent_id : waiting) {
            auto* j = table_.find(dependent_id);
            if (!j || j->state != jobs::job_state::waiting) {
                continue;  // killed meanwhile, or failed by another dependency
            }
            if (auto why = dependency ? dependency_failure(j->spec, *dependency) : std::string(); !why.empty()) {
                runner_.end_pending(*j, jobs::job_state::failed, std::move(why));  // its end comes back here
                continue;
            }
            auto left = pending_dependencies_.find(dependent_id);
            if (left == pending_dependencies_.end() || --left->second == 0) {
                pending_dependencies_.erase(dependent_id);
                release(*j);
            }
        }
    }
    releasing_ = false;
}

void job_service::release(jobs::job& j) {
    if (!accepting_) {
        return;  // a shutdown leaves it waiting, to be released after the restart
    }
    requeue(j);
}

void job_service::requeue(jobs::job& j) {
    if (j.state == jobs::job_state::retrying) {
        // The next attempt: what the last one left is in its attempt record.
        auto& retries = j.retries.edit();
        ++retries.attempt;
        retries.output_from = j.log->end_offset();
        retries.next_attempt.reset();
        j.exit.reset();
        j.pid = 0;
        j.started.reset();
        j.finished.reset();
        j.start_error = {};
        j.stop_requested.reset();
        j.requested_plan.reset();
        j.output_abandoned = false;
        j.result = nullptr;
        j.reason = fmt::format("attempt {} queued", retries.attempt);
    } else {
        j.reason.clear();
    }
    j.state = jobs::job_state::queued;
    const sched::queue_position position{j.spec.priority, scheduler_.next_seq()};
    scheduler_.restore(j.id, position, j.spec.group);
    j.queue_seq = position.seq;
    table_.notify(j, jobs::job_event::queued);
    record(j);
    start_soon();
}

bool job_service::retry_if_due(jobs::job& j) {
    const auto& policy = j.spec.workflow.get().retry;
    if (!policy || j.retries.get().attempt >= policy->attempts || !policy->retries(j.state) || !accepting_) {
        return false;
    }
    if (j.stop_requested && *j.stop_requested != jobs::stop_reason::timeout) {
        return false;  // a kill (or the output cap, or a shutdown) stops the retries
    }
    if (j.state == jobs::job_state::failed && !j.started && !j.start_error) {
        return false;  // it never had an attempt: a job it runs after failed
    }
    auto& retries = j.retries.edit();
    jobs::attempt_record a;
    a.number = retries.attempt;
    a.state = j.state;
    a.reason = j.reason;
    a.exit = j.exit;
    a.started = j.started;
    a.finished = j.finished ? j.finished : std::optional(jobs::clock::now());
    a.output_from = retries.output_from;
    a.output_to = j.log->end_offset();
    retries.attempts.push_back(std::move(a));
    // Jitter moves each wait by up to ±jitter of itself (xorshift: cheap, and good enough to spread).
    auto wait = policy->wait_before(retries.attempt + 1);
    if (policy->jitter > 0) {
        jitter_state_ ^= jitter_state_ << 13;
        jitter_state_ ^= jitter_state_ >> 7;
        jitter_state_ ^= jitter_state_ << 17;
        const double unit = static_cast<double>(jitter_state_ >> 11) / static_cast<double>(1ULL << 53);
        const double factor = 1.0 + policy->jitter * (2 * unit - 1);
        wait = std::chrono::milliseconds(std::llround(static_cast<double>(wait.count()) * factor));
    }
    j.state = jobs::job_state::retrying;
    retries.next_attempt = jobs::clock::now() + wait;
    j.log->flush();  // the attempt's output on file: a restart before the next one keeps it
    j.reason = fmt::format("attempt {} of {} {} ({}); the next starts at {}",
                           retries.attempt,
                           policy->attempts,
                           jobs::to_string(retries.attempts.back().state),
                           retries.attempts.back().reason,
                           jobs::format_time(*retries.next_attempt));
    audit("corrald", "retry", j.id, fmt::format("attempt {} in {}", retries.attempt + 1, format_duration(wait)));
    table_.notify(j, jobs::job_event::retrying);
    schedule_retry(j);
    return true;
}

void job_service::schedule_retry(jobs::job& j) {
    auto timer = std::make_shared<net::steady_timer>(executor_);
    const auto& next = j.retries.get().next_attempt;
    const auto wait = std::max(next.value_or(jobs::clock::now()) - jobs::clock::now(), jobs::clock::duration::zero());
    timer->expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
    retry_timers_[j.id] = timer;
    tasks_.spawn(retry_later(j.id, std::move(timer)), fmt::format("job {} retry", j.id));
}

net::awaitable<void> job_service::retry_later(jobs::job_id id, std::shared_ptr<net::steady_timer> timer) {
    // The timer is shared: a kill cancels it and drops the map's copy, not this one.
    co_await timer->async_wait(use_nothrow);
    auto* j = table_.find(id);
    if (auto it = retry_timers_.find(id); it != retry_timers_.end() && it->second == timer) {
        retry_timers_.erase(it);
    }
    if (!j || j->state != jobs::job_state::retrying || !accepting_) {
        co_return;  // killed while it waited, or a shutdown: it waits again after the restart
    }
    requeue(*j);
}

void job_service::cancel_retry(jobs::job_id id) {
    if (auto it = retry_timers_.find(id); it != retry_timers_.end()) {
        it->second->cancel();
        retry_timers_.erase(it);
    }
}

void job_service::cancel_retries() {
    for (auto& [id, timer] : retry_timers_) {
        timer->cancel();
    }
    retry_timers_.clear();
}

}  // namespace corral::services
