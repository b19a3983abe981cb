// job_service's finish hooks: when a job ends, run a command with the job's id, state and exit in
// its environment (pueue's callback), or POST the job's JSON to a URL, or both. Each outcome goes to
// the audit trail; a hook that fails is reported and never changes the job's own state.

#include <array>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include "corral/core/parse.hpp"
#include "corral/jobs/job_json.hpp"
#include "corral/services/job_service.hpp"

namespace corral::services {
namespace {

using namespace boost::asio::experimental::awaitable_operators;

// What a hook's command may leave in the audit trail of its output: the end of it.
constexpr std::size_t kept_output = 1024;

std::string one_line(std::string text) {
    for (auto& c : text) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    while (!text.empty() && text.back() == ' ') {
        text.pop_back();
    }
    return text;
}

}  // namespace

const jobs::finish_hook* job_service::hook_for(const jobs::job& j) const {
    if (const auto& own = j.spec.workflow.get().on_finish) {
        return own.get();
    }
    const bool own_job = j.spec.labels.contains(service_label) ||
                         j.spec.labels.contains(std::string(jobs::parent_label));
    return options_.on_finish.empty() || own_job ? nullptr : &options_.on_finish;
}

void job_service::start_finish_hook(const jobs::job& j) {
    const auto* hook = hook_for(j);
    if (!hook) {
        return;
    }
    finished_job facts{j.id,
                       std::string(jobs::to_string(j.state)),
                       j.shell_code(),
                       j.reason,
                       j.owner,
                       j.task,
                       j.retries.get().attempt,
                       boost::json::serialize(jobs::to_json(j))};
    hooks_.spawn(run_finish_hook(*hook, std::move(facts)), fmt::format("job {} on_finish", j.id));
}

net::awaitable<void> job_service::run_finish_hook(jobs::finish_hook hook, finished_job job) {
    auto report = [&](const std::string& outcome, std::string_view what) {
        const bool ok = outcome.starts_with("ok: ");
        audit("corrald", ok ? "on_finish" : "on_finish_failed", job.id, ok ? outcome.substr(4) : outcome);
        if (!ok) {
            spdlog::warn("job {}: its on_finish {} {}", job.id, what, outcome);
        }
    };
    if (!hook.command.empty()) {
        const auto outcome = co_await run_hook_command(hook, job);
        report(outcome, "command");
    }
    if (!hook.url.empty()) {
        const auto outcome = co_await post_hook(hook, job);
        report(outcome, "POST");
    }
}

net::awaitable<std::string> job_service::run_hook_command(const jobs::finish_hook& hook, const finished_job& job) {
    proc::spawn_options o;
    o.argv = hook.command;
    o.input = proc::input_mode::none;
    o.output = proc::output_mode::merged;
    o.env.set("CORRAL_JOB_ID", std::to_string(job.id))
        .set("CORRAL_JOB_STATE", job.state)
        .set("CORRAL_JOB_EXIT", std::to_string(job.exit_code))
        .set("CORRAL_JOB_REASON", job.reason)
        .set("CORRAL_JOB_OWNER", job.owner)
        .set("CORRAL_JOB_TASK", job.task)
        .set("CORRAL_JOB_ATTEMPT", std::to_string(job.attempt));
    const auto what = fmt::format("`{}`", fmt::join(hook.command, " "));
    auto started = co_await launcher_->start(std::move(o));
    if (!started) {
        co_return fmt::format("{} could not start: {}", what, started.error().what());
    }
    auto& child = *started;
    std::string tail;
    auto read_output = [&]() -> net::awaitable<void> {
        auto& out = *child.stdout_pipe();
        std::array<char, 4096> buffer;
        for (;;) {
            auto [ec, n] = co_await out.async_read_some(net::buffer(buffer), use_nothrow);
            if (ec) {
                co_return;
            }
            tail.append(buffer.data(), n);
            if (tail.size() > kept_output) {
                tail.erase(0, tail.size() - kept_output);
            }
        }
    };
    std::optional<proc::exit_status> status;
    auto wait_exit = [&]() -> net::awaitable<void> { status = co_await child.wait(); };
    net::steady_timer deadline(executor_, hook.timeout);
    auto done = co_await ((read_output() && wait_exit()) || deadline.async_wait(use_nothrow));
    if (done.index() == 1) {
        (void)co_await child.stop(proc::stop_plan{});
        status = co_await child.wait();
        co_return fmt::format("{} did not end within {}; it was stopped", what, format_duration(hook.timeout));
    }
    if (!status->success()) {
        co_return fmt::format("{} {}{}{}", what, status->describe(), tail.empty() ? "" : ": ", one_line(tail));
    }
    co_return fmt::format("ok: {} {}", what, status->describe());
}

net::awaitable<std::string> job_service::post_hook(const jobs::finish_hook& hook, const finished_job& job) {
    if (!post_sender_) {
        co_return fmt::format("to {} was not sent: this corrald has no HTTP client", hook.url);
    }
    http::post_request r;
    r.url = hook.url;
    r.body = job.json;
    r.timeout = hook.timeout;
    r.headers.emplace_back("X-Corral-Event", "job.finished");
    r.headers.emplace_back("X-Corral-Job", std::to_string(job.id));
    if (!hook.secret.empty()) {
        r.headers.emplace_back("X-Corral-Secret", hook.secret);
    }
    std::string last;
    net::steady_timer pause(executor_);
    for (unsigned attempt = 1; attempt <= hook.attempts; ++attempt) {
        if (attempt > 1) {
            pause.expires_after(std::chrono::seconds(1u << std::min(attempt - 2, 5u)));  // 1s, 2s, 4s, …
            if (auto [ec] = co_await pause.async_wait(use_nothrow); ec) {
                break;  // corrald is stopping
            }
        }
        auto sent = co_await post_sender_(r);
        if (sent && *sent >= 200 && *sent < 300) {
            co_return fmt::format("ok: POST {} answered {} (try {} of {})", hook.url, *sent, attempt, hook.attempts);
        }
        last = sent ? fmt::format("answered {}", *sent) : std::string(sent.error().what());
        // Only what may pass is tried again: no connection, a timeout, the server's own trouble.
        if (sent && *sent != 408 && *sent != 429 && *sent < 500) {
            co_return fmt::format("to {} failed: it {} (not retried)", hook.url, last);
        }
    }
    co_return fmt::format("to {} failed after {} tries: {}", hook.url, hook.attempts, last);
}

}  // namespace corral::services
