#include "corral/services/job_service.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "corral/core/parse.hpp"
#include "corral/services/job_access.hpp"
#include "corral/tasks/result_parser.hpp"

namespace corral::services {
namespace {

using namespace boost::asio::experimental::awaitable_operators;
using std::chrono::steady_clock;

unsigned default_concurrency(unsigned configured) {
    if (configured > 0) {
        return configured;
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

bool matches(const jobs::job& j, const job_query& q) {
    if (q.state && j.state != *q.state) {
        return false;
    }
    if (!q.owner.empty() && j.owner != q.owner) {
        return false;
    }
    return std::all_of(q.labels.begin(), q.labels.end(), [&](const auto& kv) {
        auto it = j.spec.labels.find(kv.first);
        return it != j.spec.labels.end() && it->second == kv.second;
    });
}

// The command as the audit trail shows it.
std::string describe_command(const jobs::job_spec& spec) {
    auto text = spec.process.shell_command ? "sh -c " + *spec.process.shell_command
                                           : fmt::format("{}", fmt::join(spec.process.argv, " "));
    if (text.size() > 200) {
        text.resize(200);
        text += "...";
    }
    return text;
}

}  // namespace

result_info<std::unique_ptr<job_service>> job_service::create(net::any_io_executor executor,
                                                              service_options options) {
    auto launcher = proc::launcher::create(executor, options.launcher);
    if (!launcher) {
        return launcher.error();
    }
    return std::unique_ptr<job_service>(
        new job_service(std::move(executor), std::move(options), std::move(*launcher)));
}

job_service::job_service(net::any_io_executor executor,
                         service_options options,
                         std::unique_ptr<proc::launcher> launcher)
    : executor_(executor),
      options_(std::move(options)),
      launcher_(std::move(launcher)),
      blocking_(std::make_unique<net::thread_pool>(1)),
      table_(options_.retention),
      runner_(*launcher_, table_, jobs::job_runner::options{.drain_output = options_.drain_output}),
      output_pressure_(std::make_shared<jobs::output_pressure>(executor, options_.pouring_calm)),
      tasks_(executor),
      scheduler_({.slots = default_concurrency(options_.concurrency),
                  .group_limits = options_.group_limits,
                  .max_queued = options_.max_queued}),
      events_(executor, options_.subscriptions),
      started_(executor),
      finished_(executor),
      idle_changed_(executor),
      hooks_(executor) {
    runner_.report_pressure_to(output_pressure_);
    runner_.on_before_finish([this](jobs::job& j) { return make_result(j); });
    runner_.on_attempt_end([this](jobs::job& j) { return retry_if_due(j); });
    table_.subscribe([this](const jobs::job& j, jobs::job_event e) { on_event(j, e); });
    table_.on_evict([this](const jobs::job& j) { let_go(j); });
}

void job_service::let_go(const jobs::job& j) {
    // What the service keeps per job goes with it: idempotency keys, its task.
    if (!j.idempotency_key.empty()) {
        auto it = idempotency_.find({j.owner, j.idempotency_key});
        if (it != idempotency_.end() && it->second == j.id) {
            idempotency_.erase(it);
        }
    }
    task_of_.erase(j.id);
    if (journal_) {
        journal_->forget(j);
    }
}

net::any_io_executor job_service::blocking_executor() const {
    return blocking_->get_executor();
}

job_service::~job_service() {
    blocking_->join();  // nothing is left for it by now (its callers await it); this makes sure
}

job_service::pin::~pin() {
    if (auto* j = service_->find(id_)) {
        --j->pins;
    }
}

result_info<jobs::job*> job_service::submit(submit_request request) {
    if (!accepting_) {
        return error_info{errc::invalid_state, "corrald is shutting down and takes no new jobs"};
    }
    if (!request.idempotency_key.empty()) {
        auto it = idempotency_.find({request.owner, request.idempotency_key});
        if (it != idempotency_.end()) {
            if (auto* existing = table_.find(it->second)) {
                return existing;
            }
        }
    }
    if (!request.unscheduled && scheduler_.full()) {
        return error_info{errc::queue_full,
                          fmt::format("the queue is full: {} jobs are waiting (the limit is jobs.max_queued)",
                                      scheduler_.queued())};
    }
    const auto& flow = request.spec.workflow.get();
    const bool has_dependencies = !flow.after_ok.empty() || !flow.after_any.empty();
    if (has_dependencies && (!request.steps.empty() || request.unscheduled)) {
        return error_info{errc::invalid_spec,
                          "after: a multi-step task (or a service's run) cannot wait for other jobs"};
    }
    auto dependencies = check_dependencies(request.spec);
    if (!dependencies) {
        return dependencies.error();
    }
    auto log = make_log(table_.next_id(), request.spec);
    if (!log) {
        return log.error();
    }
    const bool waits = dependencies->pending > 0 && dependencies->failure.empty();
    auto& j = add_job(request, std::move(*log), waits);
    audit(j.owner, "submit", j.id, j.task.empty() ? describe_command(j.spec) : "task " + j.task);
    if (!dependencies->failure.empty() || waits) {
        record_submission(j);
        if (waits) {
            wait_for_dependencies(j);
        } else {
            runner_.end_pending(j, jobs::job_state::failed, std::move(dependencies->failure));
        }
        return &j;
    }
    if (!request.steps.empty()) {
        record_submission(j);
        // A multi-step job holds no slot itself: its steps queue, one at a time, like any job.
        tasks_.spawn(run_steps(j, std::move(request.steps), request.on_failure),
                     fmt::format("job {} steps", j.id));
        return &j;
    }
    if (request.unscheduled) {
        record_submission(j);
        starting_[j.id] = steady_clock::now();
        tasks_.spawn(run(j, false), fmt::format("job {}", j.id));
        return &j;
    }
    auto position = scheduler_.push(j.id, j.spec.priority, j.spec.group);
    if (position) {  // it has room: checked above, and nothing ran in between
        j.queue_seq = position->seq;
    }
    record_submission(j);
    start_soon();
    return &j;
}

net::awaitable<result_info<job_service::submission>> job_service::submit_as(const auth::identity& who,
                                                                           std::vector<submit_request> requests) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
        auto& r = requests[i];
        if (auto allowed = check_submit(who, r, r.priority_given); !allowed) {
            auto e = allowed.error();
            if (requests.size() > 1) {
                e.message = fmt::format("jobs[{}]: {}", i, e.what());
            }
            co_return e;
        }
        if (!r.priority_given) {
            r.spec.priority = who.role->priority;
        }
        r.owner = who.user;
        // A job may wait only for jobs its submitter may see: another user's ids stay unknown.
        const auto& flow = r.spec.workflow.get();
        for (const auto* ids : {&flow.after_ok, &flow.after_any}) {
            for (auto id : *ids) {
                if (!find_as(who, id) && table_.find(id)) {
                    co_return error_info{errc::invalid_spec,
                                         fmt::format("{}after: there is no job {} (or its record is no longer kept)",
                                                     requests.size() > 1 ? fmt::format("jobs[{}]: ", i) : "",
                                                     id)};
                }
            }
        }
    }
    // An idempotent repeat returns the first job (created = false); committed() answers for its
    // first submission record, so a repeat is acknowledged only if that one was durable.
    const auto before = stats_.submitted;
    auto queued = submit_all(std::move(requests));
    if (!queued) {
        co_return queued.error();
    }
    submission out{{}, stats_.submitted != before};
    std::vector<jobs::job_id> ids;
    for (auto* j : *queued) {
        out.jobs.push_back(std::make_unique<pin>(*this, *j));  // before the wait: a job may end meanwhile
        ids.push_back(j->id);
    }
    if (auto recorded = co_await committed(std::move(ids)); !recorded) {
        co_return error_info{errc::store_failed,
                             fmt::format("the job was accepted but could not be recorded: {}",
                                         recorded.error().what())};
    }
    co_return out;
}

result_info<std::vector<jobs::job*>> job_service::submit_all(std::vector<submit_request> requests) {
    std::size_t queueing = 0;  // a multi-step job queues its steps later, one at a time
    for (const auto& r : requests) {
        const bool repeat = !r.idempotency_key.empty() && idempotency_.count({r.owner, r.idempotency_key});
        queueing += r.steps.empty() && !repeat ? 1 : 0;
    }
    if (queueing > scheduler_.room()) {
        return error_info{errc::queue_full,
                          fmt::format("the queue has room for {} more job(s), not the {} of this batch (the "
                                      "limit is jobs.max_queued): none was queued",
                                      scheduler_.room(),
                                      queueing)};
    }
    std::vector<jobs::job*> jobs;
    for (auto& r : requests) {
        auto j = submit(std::move(r));
        if (!j) {
            for (auto* queued : jobs) {
                (void)kill(*queued, std::nullopt, std::nullopt, "corrald");
            }
            return j.error();
        }
        jobs.push_back(*j);
    }
    return jobs;
}

output::log_options job_service::log_options_for(jobs::job_id id, const jobs::job_spec& spec) const {
    auto log_options = spec.output;
    log_options.memory_limit = options_.output.memory_limit;
    log_options.spill_dir = options_.output.spill_dir;
    if (journal_) {  // the output goes to a file of its own that outlives the daemon
        log_options.spill_file = journal_->output_file(id);
    }
    return log_options;
}

result_info<std::unique_ptr<output::output_log>> job_service::make_log(jobs::job_id id, const jobs::job_spec& spec) {
    auto log = output::output_log::create(executor_, log_options_for(id, spec));
    if (!log) {
        return log.error();
    }
    (*log)->set_file_executor(blocking_executor());
    return std::move(*log);
}

jobs::job& job_service::add_job(submit_request& request, std::unique_ptr<output::output_log> log, bool waits) {
    auto fill = [&](jobs::job& j) {
        if (waits) {
            j.state = jobs::job_state::waiting;
        }
        if (!request.task && !request.steps.empty()) {
            j.task = "steps";  // an ad-hoc sequence of tasks
        }
        if (request.task) {
            j.task = request.task->name;
            j.args = std::move(request.args);
        }
        j.idempotency_key = request.idempotency_key;
    };
    auto& j = table_.add(std::move(request.owner), std::move(request.spec), std::move(log), fill);
    ++stats_.submitted;
    if (!request.idempotency_key.empty()) {
        idempotency_[{j.owner, request.idempotency_key}] = j.id;
    }
    if (request.task && !request.task->multi_step()) {
        task_of_[j.id] = request.task;
    }
    return j;
}

job_page job_service::list(const job_query& query) {
    job_page page;
    auto all = table_.list();
    if (query.newest_first) {
        std::reverse(all.begin(), all.end());
    }
    for (auto* j : all) {
        const bool past_cursor = query.newest_first ? (query.before == 0 || j->id < query.before) : j->id > query.after;
        if (!past_cursor || !matches(*j, query)) {
            continue;
        }
        if (page.jobs.size() == query.limit) {
            page.next = page.jobs.back()->id;
            break;
        }
        page.jobs.push_back(j);
    }
    return page;
}

net::awaitable<void> job_service::make_result(jobs::job& j) {
    auto it = task_of_.find(j.id);
    if (it == task_of_.end()) {
        co_return;
    }
    auto task = it->second;  // a copy: it stays alive past a reload (the finished event lets it go)
    if (j.state != jobs::job_state::succeeded || task->result.kind == tasks::result_kind::none) {
        co_return;
    }
    std::string out;
    // Usually from memory (the log is saved after this); what spilled is read on the blocking thread.
    std::size_t budget = options_.max_result_bytes;
    for (std::uint64_t from = std::max(j.log->first_offset(), j.retries.get().output_from); budget > 0;) {  // this attempt's
        auto slice = co_await j.log->read_async(from, budget);
        for (const auto& r : slice.records) {
            budget -= std::min(budget, r.bytes.size());
            if (r.source == output::stream::out) {
                out += r.bytes;
            }
        }
        if (slice.next == from) {
            break;
        }
        from = slice.next;
    }
    auto result = tasks::parse_result(task->result, out);
    if (result) {
        j.result = std::move(*result);
    } else {
        j.state = jobs::job_state::failed;
        j.reason = result.error().what();
    }
}

void job_service::unqueue(const jobs::job& j) {
    if (j.state == jobs::job_state::queued) {
        scheduler_.cancel(j.id, {j.spec.priority, j.queue_seq}, j.spec.group);
    }
}

void job_service::set_draining(bool draining, std::string_view actor) {
    draining_ = draining;
    audit(actor, draining ? "drain" : "resume", 0, {});
    spdlog::info(draining ? "draining: running jobs finish, queued and new ones wait"
                          : "resumed: queued jobs start");
    if (!draining) {
        start_soon();
    }
}

result<void> job_service::kill(jobs::job& j,
                               std::optional<int> signal,
                               std::optional<proc::stop_plan> plan,
                               std::string_view actor) {
    if (!jobs::is_finished(j.state)) {
        audit(actor,
              "kill",
              j.id,
              signal ? fmt::format("signal {}", *signal)
              : plan ? plan->to_string()
                     : "");
    }
    if (signal && j.state == jobs::job_state::running && j.process) {
        j.process->signal_tree(*signal);
        return {};
    }
    if (current_step_.count(j.id)) {
        return stop_steps(j);
    }
    unqueue(j);
    cancel_retry(j.id);
    return runner_.stop(j, jobs::stop_reason::request, std::move(plan));
}

net::awaitable<result<void>> job_service::write_stdin(jobs::job& j,
                                                      std::string data,
                                                      std::chrono::milliseconds limit) {
    return runner_.write_stdin(j, std::move(data), limit);
}

result<void> job_service::close_stdin(jobs::job& j) {
    return runner_.close_stdin(j);
}

net::awaitable<bool> job_service::wait_started(jobs::job_id id, std::chrono::milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    net::steady_timer timer(executor_, deadline);
    for (;;) {
        auto* j = table_.find(id);
        if (!j || (j->state != jobs::job_state::queued && j->state != jobs::job_state::waiting)) {
            co_return true;
        }
        if (steady_clock::now() >= deadline) {
            co_return false;
        }
        auto changed = started_.get(id);
        co_await (changed->wait() || timer.async_wait(use_nothrow));
    }
}

net::awaitable<bool> job_service::wait_finished(jobs::job_id id, std::chrono::milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    net::steady_timer timer(executor_, deadline);
    for (;;) {
        auto* j = table_.find(id);
        if (!j || jobs::is_finished(j->state)) {
            co_return true;
        }
        if (steady_clock::now() >= deadline) {
            co_return false;
        }
        auto changed = finished_.get(id);
        co_await (changed->wait() || timer.async_wait(use_nothrow));
    }
}

net::awaitable<void> job_service::wait_output(jobs::job_id id,
                                              std::uint64_t offset,
                                              std::chrono::milliseconds timeout) {
    auto* j = table_.find(id);
    if (!j) {
        co_return;
    }
    pin keep(*this, *j);
    net::steady_timer timer(executor_, timeout);
    co_await (j->log->wait_for(offset) || timer.async_wait(use_nothrow));
}

void job_service::on_event(const jobs::job& j, jobs::job_event e) {
    if (e == jobs::job_event::started) {
        if (auto it = starting_.find(j.id); it != starting_.end()) {
            stats_.spawn_latency.observe(
                std::chrono::duration<double>(steady_clock::now() - it->second).count());
            starting_.erase(it);
        }
    } else if (e == jobs::job_event::finished) {
        starting_.erase(j.id);
        task_of_.erase(j.id);  // its result was made before this event (or it did not run)
        ++stats_.finished[j.state];
        finished_.notify(j.id);
        idle_changed_.notify_all();
        cancel_retry(j.id);
    }
    if (e != jobs::job_event::queued) {
        started_.notify(j.id);
    }
    if (e != jobs::job_event::queued) {  // a queued job is recorded by submit(), once it has its place
        record(j);
    }
    events_.publish(j, e);
    if (e == jobs::job_event::finished) {
        release_dependents(j.id);  // after its own event: subscribers see it end, then its dependents move
        start_finish_hook(j);
    }
}

void job_service::start_soon() {
    // Not inline: the submitter's reply goes out first, and the spawn (the costly part) overlaps
    // with the client's next request instead of delaying this one. One post serves a whole batch.
    if (start_posted_) {
        return;
    }
    start_posted_ = true;
    net::post(executor_, [this] {
        start_posted_ = false;
        start_queued();
    });
}

void job_service::start_queued() {
    if (!accepting_ || draining_) {
        return;
    }
    while (auto id = scheduler_.pop()) {
        auto* j = table_.find(*id);
        starting_[j->id] = steady_clock::now();
        tasks_.spawn(run(*j, true), fmt::format("job {}", j->id));
    }
}

net::awaitable<void> job_service::run(jobs::job& j, bool holds_slot) {
    pin keep(*this, j);
    const std::string group = j.spec.group;
    if (journal_) {
        // At most once: the store knows the job was dispatched before its process can exist, so a
        // crash in between leaves it `lost` after the restart, not queued to run a second time.
        const auto seq = journal_->starting(j);
        auto recorded = co_await journal_->flush(seq);
        if (!recorded) {
            // Started unrecorded, a crash before its end would leave it queued in the store, to run
            // a second time after the restart: it does not start at all.
            spdlog::error(
                "job {} is not started: its start could not be recorded: {}", j.id, recorded.error().what());
            runner_.fail_unstarted(j,
                                   fmt::format("not started: the store could not record its start ({})",
                                               recorded.error().what()));
        }
    }
    co_await runner_.run(j);
    if (holds_slot) {
        scheduler_.finished(group);
        start_queued();
    }
}

net::awaitable<void> job_service::drain(steady_clock::time_point deadline) {
    accepting_ = false;
    cancel_retries();  // their waits end now; with a store the jobs wait again after the restart
    for (const auto& q : scheduler_.snapshot(scheduler_.queued())) {
        if (auto* j = table_.find(q.id); j && !survives_restart(*j)) {
            unqueue(*j);
            (void)runner_.stop(*j, jobs::stop_reason::shutdown);
        }
    }
    for (auto* j : table_.list()) {
        if ((j->state == jobs::job_state::waiting || j->state == jobs::job_state::retrying) && !survives_restart(*j)) {
            (void)runner_.stop(*j, jobs::stop_reason::shutdown);
        }
    }
    if (running() > 0) {
        spdlog::info("waiting up to {} for {} running job(s)",
                     format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::max(deadline - steady_clock::now(), steady_clock::duration::zero()))),
                     running());
    }
    net::steady_timer timer(executor_, deadline);
    co_await (tasks_.wait() || timer.async_wait(use_nothrow));
    if (running() > 0) {
        spdlog::info("applying stop plans to {} job(s) still running", running());
        for (auto* j : table_.list()) {
            if (j->state == jobs::job_state::running) {
                (void)runner_.stop(*j, jobs::stop_reason::shutdown);
            }
        }
        co_await tasks_.wait();
    }
    if (hooks_.size() > 0) {  // the hooks of the last jobs to end get until the deadline (1 s at least)
        net::steady_timer hooks_deadline(executor_, std::max(deadline, steady_clock::now() + std::chrono::seconds(1)));
        co_await (hooks_.wait() || hooks_deadline.async_wait(use_nothrow));
        if (hooks_.size() > 0) {
            spdlog::warn("{} finish hook(s) still running at shutdown are cancelled", hooks_.size());
            hooks_.cancel_all();
            co_await hooks_.wait();
        }
    }
    // Readers stop, and no lingering subscription keeps a timer (and so the io_context) alive.
    events_.stop("the daemon is stopping");
}

net::awaitable<void> job_service::wait_idle(steady_clock::time_point deadline, bool count_queued) {
    net::steady_timer timer(executor_, deadline);
    while ((running() + running_sequences() > 0 || (count_queued && queued() + held() > 0)) &&
           steady_clock::now() < deadline) {
        co_await (idle_changed_.wait() || timer.async_wait(use_nothrow));
    }
}

void job_service::force_stop() {
    accepting_ = false;
    cancel_retries();
    for (auto* j : table_.list()) {
        if (survives_restart(*j)) {
            continue;
        }
        unqueue(*j);
        if (!jobs::is_finished(j->state)) {
            (void)runner_.stop(*j, jobs::stop_reason::shutdown);
            (void)runner_.stop(*j, jobs::stop_reason::shutdown);  // the second request is SIGKILL
        }
    }
}

}  // namespace corral::services
