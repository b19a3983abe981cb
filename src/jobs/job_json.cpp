#include "corral/jobs/job_json.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <boost/json/array.hpp>

#include "corral/jobs/workflow_json.hpp"
#include "corral/proc/signals.hpp"

namespace corral::jobs {
namespace {

boost::json::value time_or_null(const std::optional<clock::time_point>& t) {
    return t ? boost::json::value(format_time(*t)) : boost::json::value(nullptr);
}

boost::json::value exit_json(const std::optional<proc::exit_status>& status) {
    if (!status) {
        return nullptr;
    }
    if (const auto* e = std::get_if<proc::exited>(&status->state())) {
        return boost::json::object{{"code", e->code}};
    }
    const auto& s = std::get<proc::signaled>(status->state());
    return boost::json::object{
        {"signal", proc::signal_name(s.signal)}, {"signal_number", s.signal}, {"core_dumped", s.core_dumped}};
}

}  // namespace

std::string format_time(clock::time_point t) {
    const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - seconds).count();
    return fmt::format("{:%FT%T}.{:03}Z", seconds, ms);
}

boost::json::object to_json(const job& j) {
    boost::json::object o;
    o["id"] = j.id;
    o["owner"] = j.owner;
    o["state"] = to_string(j.state);
    o["reason"] = j.reason;
    o["pid"] = j.pid > 0 ? boost::json::value(j.pid) : boost::json::value(nullptr);
    if (j.spec.process.shell_command) {
        o["shell"] = *j.spec.process.shell_command;
    } else {
        boost::json::array argv;
        for (const auto& a : j.spec.process.argv) {
            argv.emplace_back(a);
        }
        o["command"] = std::move(argv);
    }
    o["cwd"] = j.spec.process.cwd;
    // How it runs, so that a client can show the right controls and submit the same job again.
    const auto input = j.spec.process.input;
    o["stdin"] = input == proc::input_mode::pipe ? "pipe" : input == proc::input_mode::file ? "file" : "none";
    o["pty"] = j.spec.process.pty;
    o["merge"] = j.spec.process.output == proc::output_mode::merged;
    o["timeout_ms"] = j.spec.timeout ? boost::json::value(j.spec.timeout->count()) : boost::json::value(nullptr);
    o["created"] = format_time(j.created);
    o["started"] = time_or_null(j.started);
    o["finished"] = time_or_null(j.finished);
    if (j.started && j.finished) {
        o["duration_ms"] =
            std::chrono::duration_cast<std::chrono::milliseconds>(*j.finished - *j.started).count();
    } else {
        o["duration_ms"] = nullptr;
    }
    o["exit"] = exit_json(j.exit);
    o["output"] = boost::json::object{{"bytes", j.log ? j.log->end_offset() : 0},
                                      {"dropped", j.log ? j.log->dropped_bytes() : 0},
                                      {"discarded", j.log ? j.log->discarded_bytes() : 0}};
    boost::json::object labels;
    for (const auto& [k, v] : j.spec.labels) {
        labels[k] = v;
    }
    o["labels"] = std::move(labels);
    o["priority"] = j.spec.priority;
    if (!j.task.empty()) {
        o["task"] = j.task;
        o["args"] = j.args;
        o["result"] = j.result;
        o["progress"] = j.progress ? boost::json::value(*j.progress) : boost::json::value(nullptr);
    }
    o["group"] = j.spec.group;
    const auto& retries = j.retries.get();
    const auto& flow = j.spec.workflow.get();
    o["attempt"] = retries.attempt;
    if (flow.retry) {
        o["retry"] = retry_to_json(*flow.retry);
    }
    if (!retries.attempts.empty()) {
        o["attempts"] = attempts_to_json(retries.attempts, true);
    }
    if (retries.next_attempt) {
        o["next_attempt"] = format_time(*retries.next_attempt);
    }
    if (!flow.after_ok.empty()) {
        o["after"] = ids_to_json(flow.after_ok);
    }
    if (!flow.after_any.empty()) {
        o["after_any"] = ids_to_json(flow.after_any);
    }
    if (flow.on_finish) {
        o["on_finish"] = hook_to_json(*flow.on_finish, false);
    }
    return o;
}

}  // namespace corral::jobs
