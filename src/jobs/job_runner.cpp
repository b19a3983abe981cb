#include "corral/jobs/job_runner.hpp"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include "corral/core/parse.hpp"

namespace corral::jobs {

namespace {

using namespace boost::asio::experimental::awaitable_operators;

// Reads in a row before yielding, so one chatty job cannot starve the event loop.
constexpr int reads_per_turn = 32;
// How often a running job's new output is written to its file (output_log::flush).
constexpr std::chrono::seconds output_flush_interval{1};

std::string stop_reason_text(const job& j) {
    switch (*j.stop_requested) {
        case stop_reason::request:
            return "stopped on request";
        case stop_reason::timeout:
            return fmt::format("timed out after {}", format_duration(*j.spec.timeout));
        case stop_reason::output_cap:
            return fmt::format("output passed its cap of {} bytes", j.spec.output.cap);
        case stop_reason::shutdown:
            return "stopped because corral is shutting down";
    }
    return "stopped";
}

}  // namespace

net::awaitable<void> job_runner::run(job& j) {
    if (j.state != job_state::queued) {
        co_return;
    }
    auto spawned = co_await launcher_.start(j.spec.process);
    if (j.state != job_state::queued) {  // cancelled while its process was being started
        if (spawned) {
            spawned->signal_tree(SIGKILL);
            co_await spawned->wait();
        }
        co_return;
    }
    if (!spawned) {
        j.state = job_state::failed;
        j.reason = spawned.error().what();
        j.start_error = spawned.error().code;
        finish(j);
        co_return;
    }
    j.process.emplace(std::move(*spawned));
    j.pid = j.process->pid();
    j.state = job_state::running;
    j.started = clock::now();
    j.control_signal = std::make_unique<net::steady_timer>(co_await net::this_coro::executor);
    table_.notify(j, job_event::started);

    auto& p = *j.process;
    auto drain = [&]() -> net::awaitable<void> {
        if (p.stderr_pipe()) {
            co_await (pump(j, *p.stdout_pipe(), output::stream::out) &&
                      pump(j, *p.stderr_pipe(), output::stream::err));
        } else {
            co_await pump(j, *p.stdout_pipe(), output::stream::out);
        }
    };
    bool exited = false;
    async_event exit_seen(co_await net::this_coro::executor);
    auto exit = [&]() -> net::awaitable<void> {
        co_await supervise_exit(j);
        exited = true;
        exit_seen.notify_all();
    };
    auto bounded_drain = [&]() -> net::awaitable<void> {
        co_await (drain() || abandon_output_after_exit(j, exited, exit_seen));
    };
    // While it runs, what it printed goes to its file now and then, not only when it ends: a job that
    // corrald loses in a crash keeps the output it had printed (up to a second before).
    auto flush_now_and_then = [&]() -> net::awaitable<void> {
        net::steady_timer every(co_await net::this_coro::executor);
        for (;;) {
            every.expires_after(output_flush_interval);
            auto [ec] = co_await every.async_wait(use_nothrow);
            if (ec) {
                co_return;  // the job ended
            }
            j.log->flush();
        }
    };
    co_await ((bounded_drain() && exit()) || control(j) || flush_now_and_then());
    co_await finish_ran(j);
}

net::awaitable<void> job_runner::abandon_output_after_exit(job& j,
                                                           const bool& exited,
                                                           async_event& exit_seen) {
    // Cancellation is looked at, not awaited: co_awaiting anything once cancelled throws, and this
    // branch is cancelled at the end of nearly every job.
    const auto state = co_await net::this_coro::cancellation_state;
    auto cancelled = [&state] { return state.cancelled() != net::cancellation_type::none; };
    while (!exited) {
        co_await exit_seen.wait();
        if (cancelled()) {
            co_return;  // the pipes closed first, as they nearly always do
        }
    }
    net::steady_timer grace(co_await net::this_coro::executor, options_.drain_output);
    co_await grace.async_wait(use_nothrow);
    if (cancelled()) {
        co_return;
    }
    j.output_abandoned = true;
    spdlog::warn(
        "job {}: its processes have ended but its output is still open {} later, held by a process "
        "corral cannot see; it is no longer read",
        j.id,
        format_duration(options_.drain_output));
}

net::awaitable<void> job_runner::pump(job& j, proc::child::pipe& pipe, output::stream source) {
    pipe.non_blocking(true);
    const pump_end end = co_await pump_here(j, pipe, source);  // g++ 12: not inside the if
    if (end == pump_end::handed_over) {
        co_await pump_from_reader(j, pipe, source);
    }
}

net::awaitable<job_runner::pump_end> job_runner::pump_here(job& j,
                                                           proc::child::pipe& pipe,
                                                           output::stream source) {
    // Reads straight into the log's memory (no copy). There is no suspension between prepare() and
    // commit(), so the stdout and stderr pumps never interleave inside one record.
    auto& log = *j.log;
    const bool pty = j.process->is_pty();
    std::uint64_t taken = 0;
    for (int reads = 1;; ++reads) {
        if (taken >= options_.hand_over_after) {
            co_return pump_end::handed_over;
        }
        co_await log.wait_writable();
        auto span = log.prepare();
        ssize_t n = ::read(pipe.native_handle(), span.data(), span.size());
        if (n > 0) {
            taken += static_cast<std::uint64_t>(n);
            after_commit(j, log.commit(source, static_cast<std::size_t>(n)));
            if (reads % reads_per_turn == 0) {
                co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            auto [ec] = co_await pipe.async_wait(net::posix::descriptor_base::wait_read, use_nothrow);
            if (ec) {
                co_return pump_end::done;
            }
            continue;
        }
        if (n < 0 && !(pty && errno == EIO)) {  // EIO on a PTY master: every slave is closed
            spdlog::warn(
                "job {}: reading {} failed: {}", j.id, output::stream_name(source), std::strerror(errno));
        }
        co_return pump_end::done;
    }
}

net::awaitable<void> job_runner::pump_from_reader(job& j, proc::child::pipe& pipe, output::stream source) {
    auto& log = *j.log;
    auto reading = reader_.open(pipe.native_handle(), co_await net::this_coro::executor);
    for (;;) {
        auto bytes = co_await reading->next();
        if (bytes.empty()) {
            break;
        }
        co_await log.wait_writable();
        after_commit(j, log.append(source, {bytes.data(), bytes.size()}));
    }
    if (int e = reading->error(); e != 0 && !(e == EIO && j.process->is_pty())) {
        spdlog::warn("job {}: reading {} failed: {}", j.id, output::stream_name(source), std::strerror(e));
    }
}

void job_runner::after_commit(job& j, output::commit_result r) {
    if (r == output::commit_result::cap_reached && j.spec.output.policy == output::cap_policy::stop_job &&
        !j.stop_requested) {
        stop(j, stop_reason::output_cap);
    }
}

net::awaitable<void> job_runner::supervise_exit(job& j) {
    j.exit = co_await j.process->wait();
    if (!j.process->tree_empty()) {
        // The leader is gone but something it started lives on (and may hold our pipes open): a job
        // is its whole tree, so the rest is stopped too.
        spdlog::debug("job {}: leader exited, stopping the processes it left behind", j.id);
        co_await j.process->stop(j.requested_plan.value_or(j.spec.stop));
    }
}

net::awaitable<void> job_runner::control(job& j) {
    auto& signal = *j.control_signal;
    if (j.spec.timeout) {
        signal.expires_after(*j.spec.timeout);
    } else {
        signal.expires_at(net::steady_timer::time_point::max());
    }
    for (;;) {
        auto [ec] = co_await signal.async_wait(use_nothrow);
        if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
            co_return;  // the job ended
        }
        if (!ec && !j.stop_requested) {
            j.stop_requested = stop_reason::timeout;
        }
        signal.expires_at(net::steady_timer::time_point::max());
        if (j.stop_requested) {
            const bool sent = std::exchange(j.stop_signal_sent, false);  // by stop(), unless a timeout
            co_await j.process->stop(j.requested_plan.value_or(j.spec.stop), sent);
        }
    }
}

result<void> job_runner::stop(job& j, stop_reason why, std::optional<proc::stop_plan> plan) {
    if (is_pending(j.state)) {
        const auto was = j.state;
        j.state = job_state::killed;
        j.stop_requested = why;
        if (j.retries) {
            j.retries.edit().next_attempt.reset();
        }
        j.reason = was == job_state::retrying ? fmt::format("stopped while it waited to retry (after attempt {})",
                                                            j.retries.get().attempt)
                   : was == job_state::waiting ? "cancelled while it waited for the jobs it runs after"
                                               : "cancelled before it started";
        finish(j);
        return {};
    }
    if (j.state != job_state::running || !j.process) {
        return make_error_code(errc::invalid_state);
    }
    if (j.stop_requested) {
        j.process->signal_tree(SIGKILL);  // asked again: no more grace
        return {};
    }
    j.stop_requested = why;
    j.requested_plan = std::move(plan);
    // The first signal goes now, before whoever asked hears back (a kill request's reply, the log
    // line), not when control() next runs; control() carries on with the plan's grace and next steps.
    j.process->signal_tree(j.requested_plan.value_or(j.spec.stop).steps().front().signal);
    j.stop_signal_sent = true;
    j.control_signal->cancel();
    return {};
}

void job_runner::fail_unstarted(job& j, std::string reason) {
    if (j.state != job_state::queued) {
        return;
    }
    j.state = job_state::failed;
    j.reason = std::move(reason);
    j.start_error = make_error_code(errc::store_failed);
    finish(j);
}

void job_runner::end_pending(job& j, job_state state, std::string reason) {
    if (!is_pending(j.state)) {
        return;
    }
    j.state = state;
    j.reason = std::move(reason);
    if (j.retries) {
        j.retries.edit().next_attempt.reset();
    }
    finish(j);
}

net::awaitable<result<void>> job_runner::write_stdin(job& j,
                                                     std::string data,
                                                     std::chrono::milliseconds limit) {
    auto executor = co_await net::this_coro::executor;
    if (!j.stdin_turn_changed) {
        j.stdin_turn_changed = std::make_unique<async_event>(executor);
    }
    const auto ticket = j.stdin_tickets++;
    struct turn_guard {  // whatever happens to this write, the next one gets its turn
        job& j;
        ~turn_guard() {
            ++j.stdin_turn;
            j.stdin_turn_changed->notify_all();
        }
    };
    while (j.stdin_turn != ticket) {
        co_await j.stdin_turn_changed->wait();
    }
    turn_guard next{j};
    if (j.state != job_state::running || !j.process || !j.process->stdin_pipe()) {
        co_return make_error_code(errc::invalid_state);
    }
    net::steady_timer deadline(executor, limit);
    auto done = co_await (net::async_write(*j.process->stdin_pipe(), net::buffer(data), use_nothrow) ||
                          deadline.async_wait(use_nothrow));
    if (done.index() == 1) {
        co_return make_error_code(net::error::timed_out);
    }
    if (auto [ec, n] = std::get<0>(done); ec) {
        co_return ec;
    }
    co_return result<void>{};
}

result<void> job_runner::close_stdin(job& j) {
    if (j.state != job_state::running || !j.process) {
        return make_error_code(errc::invalid_state);
    }
    j.process->close_stdin();
    return {};
}

void job_runner::settle(job& j) {
    if (j.state == job_state::running) {
        if (j.stop_requested) {
            j.state = *j.stop_requested == stop_reason::timeout ? job_state::timed_out : job_state::killed;
            j.reason = stop_reason_text(j);
        } else if (j.exit && j.exit->success()) {
            j.state = job_state::succeeded;
            j.reason = j.exit->describe();
        } else {
            j.state = job_state::failed;
            j.reason = j.exit ? j.exit->describe() : "ended without an exit status";
        }
    }
    if (j.output_abandoned) {
        j.reason +=
            "; its output pipe stayed open after its processes ended (held by a process that left "
            "the job's session and cleared its environment), so reading stopped";
    }
    j.finished = clock::now();
}

void job_runner::finish(job& j) {
    settle(j);
    if (attempt_end_ && attempt_end_(j)) {
        return;  // it could not start, and its retry policy gives it another attempt
    }
    j.log->close();
    finished(j);
}

net::awaitable<void> job_runner::finish_ran(job& j) {
    settle(j);
    if (before_finish_) {
        co_await before_finish_(j);
    }
    if (attempt_end_ && attempt_end_(j)) {
        j.process.reset();
        j.control_signal.reset();
        co_return;
    }
    co_await j.log->close_async();  // up to memory_limit bytes to its file, on the blocking-work thread
    finished(j);
}

void job_runner::finished(job& j) {
    j.process.reset();  // the tree is gone; releases the cgroup leaf and pipes
    j.control_signal.reset();
    table_.notify(j, job_event::finished);
}

}  // namespace corral::jobs
