// job_service's durability: recording jobs in the journal (the store), the audit trail, flushing
// before an acknowledgement, and taking the stored jobs back in at start-up.

#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "corral/proc/leftovers.hpp"
#include "corral/services/job_service.hpp"

namespace corral::services {
namespace {

// A multi-step job runs no process of its own: a coroutine drives its steps, and dies with corrald.
bool is_multi_step_parent(const jobs::job& j) {
    return j.spec.process.argv.empty() && !j.spec.process.shell_command;
}

std::optional<jobs::job_id> parent_of(const jobs::job& j) {
    auto it = j.spec.labels.find(std::string(jobs::parent_label));
    if (it == j.spec.labels.end()) {
        return std::nullopt;
    }
    try {
        return std::stoull(it->second);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

void job_service::set_journal(jobs::job_journal* journal) {
    journal_ = journal;
}

void job_service::record_submission(jobs::job& j) {
    if (journal_) {
        j.submit_record = journal_->save(j);
    }
}

void job_service::record(const jobs::job& j) {
    if (journal_) {
        (void)journal_->save_state(j);
    }
}

bool job_service::survives_restart(const jobs::job& j) const {
    // Steps are queued by their parent's coroutine, which a restart ends: they go with it. A
    // service's run is never queued for long, and its supervisor starts another after a restart.
    return journal_ && jobs::is_pending(j.state) && !parent_of(j) && !j.spec.labels.contains(service_label);
}

net::awaitable<result_info<void>> job_service::flush() {
    if (!journal_) {
        co_return result_info<void>{};
    }
    co_return co_await journal_->flush();
}

net::awaitable<result_info<void>> job_service::committed(std::vector<jobs::job_id> ids) {
    for (const auto id : ids) {
        if (!journal_) {
            break;
        }
        const auto* j = table_.find(id);
        if (!j || j->submit_record == 0) {
            continue;  // one already let go, or an idempotent repeat of a job restored from the store
        }
        auto durable = co_await journal_->flush(j->submit_record);
        if (!durable) {
            co_return error_info{durable.error().code, fmt::format("job {}: {}", id, durable.error().what())};
        }
    }
    co_return result_info<void>{};
}

void job_service::audit(std::string_view actor,
                        std::string_view action,
                        jobs::job_id job,
                        std::string detail) {
    if (journal_) {
        journal_->audit(
            {jobs::clock::now(), std::string(actor), std::string(action), job, std::move(detail)});
    }
}

net::awaitable<result_info<jobs::audit_page>> job_service::audit_trail(jobs::job_id job,
                                                                       std::size_t limit,
                                                                       std::int64_t before) {
    if (!journal_) {
        co_return error_info{errc::unsupported, "there is no audit trail: corrald runs without a store"};
    }
    co_return co_await journal_->audit_trail(job, limit, before);
}

job_service::restore_report job_service::restore(std::vector<std::unique_ptr<jobs::job>> stored,
                                                 jobs::job_id next_id,
                                                 const task_lookup& find_task) {
    restore_report report;
    table_.reserve_ids(next_id);
    std::set<jobs::job_id> lost_parents;
    std::vector<jobs::job*> resumed_workflows;  // waiting, retrying, or lost and retried when lost
    for (const auto& j : stored) {
        if (!jobs::is_finished(j->state) && is_multi_step_parent(*j)) {
            lost_parents.insert(j->id);
        }
    }
    const auto now = jobs::clock::now();
    for (auto& owned : stored) {
        auto& j = *owned;
        j.log->set_file_executor(blocking_executor());
        std::string lost_because;
        const auto parent = parent_of(j);
        if (lost_parents.count(j.id)) {
            lost_because = "corrald stopped during its steps";
        } else if (!jobs::is_finished(j.state) && parent && lost_parents.count(*parent)) {
            lost_because = fmt::format("its multi-step job {} was lost", *parent);
        } else if (j.state == jobs::job_state::queued && j.spec.labels.contains(service_label)) {
            // A service's run never queues: its supervisor starts a new one after the restart.
            lost_because = "corrald stopped as it was starting this run of a service";
        } else if (j.state == jobs::job_state::running && !j.started) {
            lost_because =
                "corrald stopped as it was starting it: it may have started, so it does not run again";
        } else if (j.state == jobs::job_state::running) {
            const auto killed = proc::kill_leftover_tree(j.pid, *j.started);
            report.killed += killed;
            lost_because =
                killed
                    ? fmt::format("corrald stopped while it ran; {} leftover process(es) were killed", killed)
                    : "corrald stopped while it ran";
        }
        if (!lost_because.empty()) {
            j.state = jobs::job_state::lost;
            j.reason = std::move(lost_because);
            j.finished = now;
            j.log->close();
            ++report.lost;
        } else if (j.state == jobs::job_state::waiting || j.state == jobs::job_state::retrying) {
            ++report.resumed;  // once every job is back: their dependencies and timers, below
        } else if (j.state == jobs::job_state::queued) {
            scheduler_.restore(j.id, {j.spec.priority, j.queue_seq}, j.spec.group);
            if (!j.task.empty()) {
                if (auto task = find_task(j.task); task && !task->multi_step()) {
                    task_of_[j.id] = task;
                }
            }
            ++report.resumed;
        } else {
            ++report.kept;
        }
        if (!j.idempotency_key.empty()) {
            idempotency_[{j.owner, j.idempotency_key}] = j.id;
        }
        const bool changed = j.state == jobs::job_state::lost && j.finished == now;
        auto* adopted = owned.get();
        table_.adopt(std::move(owned));
        if (changed) {
            record(*adopted);
            audit("corrald", "lost", adopted->id, adopted->reason);
            if (const auto& retry = adopted->spec.workflow.get().retry; retry && retry->on_lost) {
                resumed_workflows.push_back(adopted);
            }
        } else if (adopted->state == jobs::job_state::waiting || adopted->state == jobs::job_state::retrying) {
            resumed_workflows.push_back(adopted);
        }
    }
    for (auto* j : resumed_workflows) {
        resume_workflow(*j);
    }
    table_.evict();
    if (report.killed > 0) {
        tasks_.spawn(remove_stale_cgroups(), "stale cgroups");
    }
    if (report.resumed + report.lost > 0) {
        audit("corrald",
              "restart",
              0,
              fmt::format(
                  "{} queued job(s) resume, {} lost, {} kept", report.resumed, report.lost, report.kept));
    }
    start_soon();
    return report;
}

void job_service::resume_workflow(jobs::job& j) {
    if (j.state == jobs::job_state::retrying) {
        auto& retries = j.retries.edit();
        if (!retries.next_attempt) {
            retries.next_attempt = jobs::clock::now();
        }
        schedule_retry(j);
    } else if (j.state == jobs::job_state::lost) {
        // Retried when lost: the next attempt writes after what the lost one had flushed to its file
        // (read back at start-up), or, without that file, into a fresh log.
        if (j.log->continue_writing(log_options_for(j.id, j.spec))) {
            j.finished.reset();
            (void)retry_if_due(j);
        } else if (auto fresh = make_log(j.id, j.spec)) {
            j.log = std::move(*fresh);
            if (j.retries) {
                auto& retries = j.retries.edit();
                retries.output_from = 0;
                for (auto& a : retries.attempts) {
                    a.output_from = a.output_to = 0;
                }
            }
            j.finished.reset();
            (void)retry_if_due(j);
        }
    } else if (j.state == jobs::job_state::waiting) {
        // Its dependencies may have ended meanwhile, or been lost in the same restart.
        for (auto id : j.spec.workflow.get().after_ok) {
            const auto* d = table_.find(id);
            std::string why = !d ? fmt::format("not run: job {}, which it runs after, is no longer known", id)
                              : jobs::is_finished(d->state) ? dependency_failure(j.spec, *d)
                                                            : std::string();
            if (!why.empty()) {
                runner_.end_pending(j, jobs::job_state::failed, std::move(why));
                return;
            }
        }
        wait_for_dependencies(j);
    }
}

// The leftovers were killed with SIGKILL a moment ago: their cgroup leaves (kept by the launcher's
// start-up sweep, which ran while they lived) empty as they die, and then can go.
net::awaitable<void> job_service::remove_stale_cgroups() {
    using namespace std::chrono_literals;
    net::steady_timer timer(executor_);
    for (const auto wait : {50ms, 250ms, 1000ms}) {
        timer.expires_after(wait);
        auto [ec] = co_await timer.async_wait(use_nothrow);
        if (ec) {
            co_return;  // stopping
        }
        launcher_->remove_stale_cgroups();
    }
}

}  // namespace corral::services
