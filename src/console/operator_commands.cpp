#include "corral/console/operator_commands.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "corral/core/parse.hpp"
#include "corral/jobs/job_json.hpp"
#include "corral/jobs/job_state.hpp"
#include "corral/proc/signals.hpp"

namespace corral::console {
namespace {

namespace json = boost::json;
using answer = net::awaitable<std::optional<std::string>>;

/// A refusal or failure becomes the command's message (the session goes on).
template <class T>
T value_or_throw(result_info<T> r) {
    if (!r) {
        throw std::runtime_error(r.error().what());
    }
    return std::move(*r);
}

void ok_or_throw(const result_info<void>& r) {
    if (!r) {
        throw std::runtime_error(r.error().what());
    }
}

std::string command_of(const jobs::job& j) {
    if (!j.task.empty()) {
        return "task " + j.task;
    }
    auto text = j.spec.process.shell_command ? *j.spec.process.shell_command : fmt::format("{}", fmt::join(j.spec.process.argv, " "));
    return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

std::string job_line(const jobs::job& j) {
    return fmt::format("{:>6}  {:<10} {:<12} {}", j.id, jobs::to_string(j.state), j.owner, command_of(j));
}

std::uint64_t job_id(const std::string& text) {
    auto id = std::stoull(text);
    if (id == 0) {
        throw std::runtime_error(fmt::format("'{}' is not a job id", text));
    }
    return id;
}

void add_job_commands(interpreter& in, const operator_context& c) {
    auto& jobs = c.jobs;
    std::vector<std::string> states;
    for (auto s : jobs::all_job_states()) {
        states.emplace_back(jobs::to_string(s));
    }
    arg_parser list("jobs", "List jobs, newest first.");
    list.option({"--state"}, fmt::format("only jobs in this state: {}", fmt::join(states, ", ")), {}, states, false, "STATE");
    list.option({"--owner"}, "only this user's jobs");
    list.option({"--last", "-n"}, "the newest N (20)", "20", {}, true);
    list.flag({"--json"}, "print JSON");
    in.add({std::move(list), [&jobs](const parsed_args& a, session& s) -> answer {
                services::job_query q;
                q.newest_first = true;
                q.limit = static_cast<std::size_t>(std::max(1LL, *a.integer("last")));
                q.owner = a.value("owner").value_or("");
                if (auto st = a.value("state")) {
                    q.state = jobs::job_state_from_string(*st);
                }
                auto page = jobs.list_as(s.who, q);
                if (a.flag("json")) {
                    json::array out;
                    for (auto* j : page.jobs) {
                        out.push_back(jobs::to_json(*j));
                    }
                    co_return json::serialize(out);
                }
                if (page.jobs.empty()) {
                    co_return std::string("no jobs");
                }
                std::string out = fmt::format("{:>6}  {:<10} {:<12} {}", "ID", "STATE", "OWNER", "COMMAND");
                for (auto* j : page.jobs) {
                    out += "\n" + job_line(*j);
                }
                co_return out;
            }});

    arg_parser show("show", "Show one job.");
    show.positional("id", "the job's id", nargs::one, true);
    show.flag({"--json"}, "print JSON");
    in.add({std::move(show), [&jobs](const parsed_args& a, session& s) -> answer {
                auto pinned = value_or_throw(jobs.find_as(s.who, job_id(*a.value("id"))));
                const auto& j = pinned->get();
                auto o = jobs::to_json(j);
                if (a.flag("json")) {
                    co_return json::serialize(o);
                }
                std::string out = fmt::format("job {}: {}\ncommand: {}\nowner:   {}", j.id, jobs::to_string(j.state),
                                              command_of(j), j.owner);
                for (const char* key : {"created", "started", "finished", "pid", "exit", "reason"}) {
                    if (const auto* v = o.if_contains(key); v && !v->is_null() && !(v->is_string() && v->as_string().empty())) {
                        out += fmt::format("\n{:<8} {}", std::string(key) + ":", v->is_string() ? std::string(v->as_string()) : json::serialize(*v));
                    }
                }
                co_return out;
            }});

    arg_parser kill("kill", "Stop jobs, each with its whole process tree, by its stop plan unless a signal is given.");
    kill.positional("ids", "job ids", nargs::at_least_one, true);
    kill.option({"--signal", "-s"}, "send this signal to the tree instead");
    in.add({std::move(kill), [&jobs](const parsed_args& a, session& s) -> answer {
                std::optional<int> signal;
                if (auto name = a.value("signal")) {
                    signal = value_or_throw(proc::parse_signal(*name));
                }
                std::string out;
                for (const auto& text : a.words("ids")) {
                    auto done = jobs.kill_as(s.who, job_id(text), signal, std::nullopt);
                    out += (out.empty() ? "" : "\n") +
                           (done ? fmt::format("job {}: {}", text, signal ? "signalled" : "stopping")
                                 : fmt::format("job {}: {}", text, done.error().what()));
                }
                co_return out;
            }});

    arg_parser run("run", "Submit a command as a job (no shell) and print its id.");
    run.option({"--priority"}, "0 (first) to 9", {}, {}, true);
    run.option({"--group"}, "its scheduling group");
    run.option({"--timeout"}, "a duration such as 30s");
    run.option({"--cwd"}, "the working directory");
    run.flag({"--stdin-pipe"}, "keep its stdin open for writes");
    run.flag({"--merge"}, "stderr into stdout");
    run.positional("command", "the program and its arguments", nargs::at_least_one);
    in.add({std::move(run), [&jobs](const parsed_args& a, session& s) -> answer {
                services::submit_request r;
                r.spec.process.argv = a.words("command");
                r.spec.process.cwd = a.value("cwd").value_or("");
                r.spec.process.input = a.flag("stdin_pipe") ? proc::input_mode::pipe : proc::input_mode::none;
                r.spec.process.output = a.flag("merge") ? proc::output_mode::merged : proc::output_mode::separate;
                if (auto t = a.value("timeout")) {
                    r.spec.timeout = value_or_throw(parse_duration(*t));
                }
                if (auto p = a.integer("priority")) {
                    r.spec.priority = static_cast<int>(*p);
                    r.priority_given = true;
                }
                r.spec.group = a.value("group").value_or("");
                std::vector<services::submit_request> one;
                one.push_back(std::move(r));
                auto submitted = co_await jobs.submit_as(s.who, std::move(one));
                auto done = value_or_throw(std::move(submitted));
                co_return fmt::format("job {}", done.jobs.front()->get().id);
            }});

    arg_parser queue("queue", "Show the jobs waiting, in the order they will start.");
    queue.flag({"--json"}, "print JSON");
    in.add({std::move(queue), [&jobs](const parsed_args& a, session& s) -> answer {
                auto waiting = jobs.queue_as(s.who, 100);
                if (a.flag("json")) {
                    json::array out;
                    for (auto* j : waiting) {
                        out.push_back(jobs::to_json(*j));
                    }
                    co_return json::serialize(out);
                }
                std::string out = fmt::format("{}/{} slots busy, {} queued{}", jobs.running(), jobs.concurrency(), jobs.queued(),
                                              jobs.draining() ? "; draining: nothing new starts" : "");
                for (auto* j : waiting) {
                    out += "\n" + job_line(*j);
                }
                co_return out;
            }});
    for (bool draining : {true, false}) {
        arg_parser p(draining ? "drain" : "resume",
                     draining ? "Finish running jobs and start nothing new (queued and new jobs wait)."
                              : "Start queued jobs again after a drain.");
        in.add({std::move(p), [&jobs, draining](const parsed_args&, session& s) -> answer {
                    ok_or_throw(jobs.set_draining_as(s.who, draining));
                    co_return std::string(draining ? "draining: running jobs finish, nothing new starts" : "resumed");
                }});
    }
}

void add_daemon_commands(interpreter& in, const operator_context& c) {
    arg_parser tasks("tasks", "List the predefined tasks.");
    tasks.flag({"--json"}, "print JSON");
    in.add({std::move(tasks), [&catalog = c.catalog](const parsed_args& a, session&) -> answer {
                if (a.flag("json")) {
                    json::array out;
                    for (const auto& t : catalog.all()) {
                        out.push_back(tasks::to_json(t));
                    }
                    co_return json::serialize(out);
                }
                if (catalog.all().empty()) {
                    co_return std::string("no tasks are configured");
                }
                std::string out;
                for (const auto& t : catalog.all()) {
                    out += (out.empty() ? "" : "\n") + t.name + (t.description.empty() ? "" : " - " + t.description);
                }
                co_return out;
            }});

    arg_parser components("components", "List the pod's components: id, label and what each serves.");
    components.flag({"--json"}, "print JSON");
    in.add({std::move(components), [list = c.components](const parsed_args& a, session&) -> answer {
                json::array js;
                std::string out;
                for (const auto& comp : list()) {
                    js.push_back(json::object{{"id", comp.id}, {"label", comp.label}, {"description", comp.description}});
                    out += fmt::format("{}{:>3} {:<18} {}", out.empty() ? "" : "\n", comp.id, comp.label, comp.description);
                }
                co_return a.flag("json") ? json::serialize(js) : out;
            }});

    arg_parser signal("signal", "Send a signal to the components of one label (admin): services pass it to their processes.");
    signal.positional("label", "the components' label (see components)");
    signal.positional("signal", "the signal: HUP, USR1, TERM, 15 ...");
    in.add({std::move(signal), [&jobs = c.jobs, send = c.signal_components](const parsed_args& a, session& s) -> answer {
                ok_or_throw(jobs.may_administer(s.who));
                const int sig = value_or_throw(proc::parse_signal(*a.value("signal")));
                co_return value_or_throw(send(*a.value("label"), sig));
            }});

    arg_parser stats("stats", "Show what the daemon has done: jobs by state, slots, services.");
    stats.flag({"--json"}, "print JSON");
    in.add({std::move(stats), [&jobs = c.jobs, &svc = c.services](const parsed_args& a, session&) -> answer {
                const auto& st = jobs.stats();
                json::object finished;
                for (const auto& [state, n] : st.finished) {
                    finished[jobs::to_string(state)] = n;
                }
                json::object o{{"submitted", st.submitted}, {"running", jobs.running()}, {"queued", jobs.queued()},
                               {"slots", jobs.concurrency()}, {"finished", finished}, {"services", svc.list().size()}};
                if (a.flag("json")) {
                    co_return json::serialize(o);
                }
                std::string ended;
                for (const auto& [state, n] : finished) {
                    ended += fmt::format("{}{} {}", ended.empty() ? "" : ", ", json::serialize(n), std::string(state));
                }
                co_return fmt::format("jobs: {} submitted, {} running of {} slots, {} queued\nfinished: {}\nservices: {}",
                                      st.submitted, jobs.running(), jobs.concurrency(), jobs.queued(),
                                      ended.empty() ? "none yet" : ended, svc.list().size());
            }});

    arg_parser config("config", "Show the configuration corrald runs with (admin).");
    in.add({std::move(config), [&jobs = c.jobs, text = c.config_text](const parsed_args&, session& s) -> answer {
                ok_or_throw(jobs.may_administer(s.who));
                auto out = text();
                if (out.ends_with('\n')) {
                    out.pop_back();
                }
                co_return out;
            }});

    arg_parser level("log-level", "Show the log level, or set it (admin).");
    level.positional("level", "the new level", nargs::optional);
    in.add({std::move(level), [&jobs = c.jobs](const parsed_args& a, session& s) -> answer {
                auto wanted = a.value("level");
                if (!wanted) {
                    co_return std::string(spdlog::level::to_string_view(spdlog::get_level()).data());
                }
                ok_or_throw(jobs.may_administer(s.who));
                const auto l = spdlog::level::from_str(*wanted);
                if (l == spdlog::level::off && *wanted != "off") {
                    throw std::runtime_error(fmt::format("'{}' is not a level: trace, debug, info, warn, error, critical, off", *wanted));
                }
                spdlog::set_level(l);
                spdlog::warn("log level set to {} by {}", *wanted, s.who.user);
                co_return fmt::format("log level: {}", *wanted);
            }});
}

void add_service_command(interpreter& in, const operator_context& c) {
    arg_parser svc("svc", "corrald's services: list them, show one, start, stop or restart them.");
    svc.positional("action", "what to do", nargs::one);
    svc.positional("names", "the services", nargs::any);
    svc.flag({"--json"}, "print JSON");
    in.add({std::move(svc), [&sup = c.services](const parsed_args& a, session& s) -> answer {
                const auto action = *a.value("action");
                const auto& names = a.words("names");
                if (action == "ls") {
                    auto all = value_or_throw(sup.list_as(s.who));
                    if (a.flag("json")) {
                        json::array out;
                        for (auto* st : all) {
                            out.push_back(services::to_json(*st, false));
                        }
                        co_return json::serialize(out);
                    }
                    if (all.empty()) {
                        co_return std::string("no services are configured");
                    }
                    std::string out = fmt::format("{:<16} {:<9} {:>5} {:>8}  {}", "NAME", "STATE", "RUNS", "RESTARTS", "REASON");
                    for (auto* st : all) {
                        out += fmt::format("\n{:<16} {:<9} {:>5} {:>8}  {}", st->def.name, to_string(st->state), st->runs,
                                           st->restarts, st->reason);
                    }
                    co_return out;
                }
                if (names.empty()) {
                    throw std::runtime_error(fmt::format("svc {}: give a service name", action));
                }
                if (action == "show") {
                    auto st = value_or_throw(sup.find_as(s.who, names.front()));
                    if (a.flag("json")) {
                        co_return json::serialize(services::to_json(*st, true));
                    }
                    std::string out = fmt::format("{}: {}{}", st->def.name, to_string(st->state),
                                                  st->reason.empty() ? "" : " (" + st->reason + ")");
                    for (const auto& e : st->events) {
                        out += fmt::format("\n  {}  {:<11} {}", jobs::format_time(e.time), e.kind, e.detail);
                    }
                    co_return out;
                }
                if (action != "start" && action != "stop" && action != "restart") {
                    throw std::runtime_error(fmt::format("svc: no action '{}' (ls, show, start, stop, restart)", action));
                }
                std::string out;
                for (const auto& name : names) {
                    auto done = action == "start" ? sup.start_as(s.who, name)
                                : action == "stop" ? sup.stop_as(s.who, name)
                                                   : sup.restart_as(s.who, name);
                    out += (out.empty() ? "" : "\n") +
                           (done ? fmt::format("{}: {}", name, action == "stop" ? "stopping" : action + "ing")
                                 : fmt::format("{}: {}", name, done.error().what()));
                }
                co_return out;
            }});
}

}  // namespace

void add_operator_commands(interpreter& commands, operator_context context) {
    // The commands keep references to what the context refers to, and copies of its functions.
    add_job_commands(commands, context);
    add_daemon_commands(commands, context);
    add_service_command(commands, context);
}

}  // namespace corral::console
