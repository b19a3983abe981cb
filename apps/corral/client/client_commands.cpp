#include "client/client_commands.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <set>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include "client/admin_commands.hpp"
#include "client/api_client.hpp"
#include "client/client_options.hpp"
#include "client/job_batches.hpp"
#include "client/job_view.hpp"
#include "client/job_streams.hpp"
#include "client/schedule_commands.hpp"
#include "client/service_commands.hpp"

namespace corral::cli {
namespace {

namespace po = boost::program_options;
namespace json = boost::json;
using namespace boost::asio::experimental::awaitable_operators;

struct context {
    api_client& client;
    po::variables_map& vm;
    std::vector<std::string> rest;  // positional arguments (or the command)
};

std::uint64_t job_id_arg(const std::string& text) {
    std::uint64_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || end != text.data() + text.size() || id == 0) {
        throw command_error{fmt::format("'{}' is not a job id", text), usage_error};
    }
    return id;
}

std::string prompt_tty(std::string_view question) {
    std::fprintf(stderr, "\n%.*s", static_cast<int>(question.size()), question.data());
    std::ifstream tty("/dev/tty");
    std::string answer;
    std::getline(tty, answer);
    return answer;
}

/// On Ctrl-C: ask (on a terminal), kill, or detach; a second Ctrl-C after a kill kills at once.
/// The kill goes on a connection of its own: the output's connection is busy with its long-poll.
net::awaitable<int> handle_interrupts(const api_client& following, std::uint64_t id, std::string policy) {
    const auto executor = co_await net::this_coro::executor;
    api_client c(executor, following.where());
    net::signal_set signals(executor, SIGINT, SIGTERM);
    bool killed = false;
    for (;;) {
        auto [ec, sig] = co_await signals.async_wait(use_nothrow);
        if (ec) {
            co_return -1;
        }
        if (killed) {
            co_await call(c, "POST", fmt::format("/api/v1/jobs/{}/kill", id), R"({"signal":"KILL"})");
            continue;
        }
        std::string choice = policy;
        if (choice == "ask") {
            auto answer = prompt_tty(
                fmt::format("corral: job {} is still running. [k]ill it, [d]etach (it keeps running), "
                            "or [c]ontinue watching? ",
                            id));
            choice = answer.starts_with("d") ? "detach" : answer.starts_with("c") ? "continue" : "kill";
        }
        if (choice == "detach") {
            std::fprintf(stderr,
                         "corral: job %llu keeps running; follow it with: corral tail -f %llu\n",
                         static_cast<unsigned long long>(id),
                         static_cast<unsigned long long>(id));
            co_return 0;
        }
        if (choice == "kill") {
            killed = true;
            auto r = co_await c.request("POST", fmt::format("/api/v1/jobs/{}/kill", id));
            (void)r;  // a job that just finished cannot be killed; following shows how it ended
        }
    }
}

/// follow_output() for `run`, its error as a value: Asio's `||` waits for the first *success*, so an
/// error thrown there (corrald died) left `corral run` waiting for a Ctrl-C that nobody would press.
net::awaitable<std::exception_ptr> follow_for_run(api_client& c, std::uint64_t id) {
    try {
        co_await follow_output(c, id, 0, true);
    } catch (...) {
        co_return std::current_exception();
    }
    co_return nullptr;
}

net::awaitable<int> run_job(context& ctx, bool follow) {
    if (ctx.vm.count("each")) {
        if (follow) {
            throw command_error{"--each makes many jobs: use corral submit --each (with --wait to wait for them)",
                                usage_error};
        }
        co_return co_await submit_each(ctx.client, ctx.vm, ctx.rest);
    }
    for (const char* name : {"from", "wait"}) {
        if (ctx.vm.count(name)) {
            throw command_error{fmt::format("--{} goes with --each", name), usage_error};
        }
    }
    auto body = job_request(ctx.vm, ctx.rest);
    if (!body) {
        throw command_error{body.error().what(), usage_error};
    }
    auto job = co_await call(ctx.client, "POST", "/api/v1/jobs", json::serialize(*body));
    const auto id = job.at("id").to_number<std::uint64_t>();
    if (!follow) {
        std::cout << (ctx.vm.count("json") ? json::serialize(job) : std::to_string(id)) << "\n";
        co_return 0;
    }
    auto policy = ctx.vm["on-interrupt"].as<std::string>();
    if (policy == "ask" && !::isatty(STDIN_FILENO)) {
        policy = "kill";
    }
    auto outcome = co_await (follow_for_run(ctx.client, id) || handle_interrupts(ctx.client, id, policy));
    if (outcome.index() == 1) {
        co_return std::get<1>(outcome);  // detached
    }
    if (auto failed = std::get<0>(outcome)) {
        std::rethrow_exception(failed);
    }
    auto done = co_await call(ctx.client, "GET", fmt::format("/api/v1/jobs/{}", id));
    if (ctx.vm.count("json")) {
        std::cout << json::serialize(done) << "\n";
    }
    co_return job_exit_status(done.as_object());
}

net::awaitable<int> list_jobs(context& ctx) {
    json::array all;
    std::string query;
    if (ctx.vm.count("state"))
        query += "&state=" + ctx.vm["state"].as<std::string>();
    if (ctx.vm.count("owner"))
        query += "&owner=" + ctx.vm["owner"].as<std::string>();
    if (ctx.vm.count("label")) {
        for (const auto& l : ctx.vm["label"].as<std::vector<std::string>>())
            query += "&label=" + l;
    }
    std::uint64_t after = 0;
    for (;;) {
        auto page =
            co_await call(ctx.client, "GET", fmt::format("/api/v1/jobs?limit=1000&after={}{}", after, query));
        for (auto& j : page.at("jobs").as_array())
            all.push_back(j);
        if (page.at("next").is_null())
            break;
        after = page.at("next").to_number<std::uint64_t>();
    }
    if (ctx.vm.count("last")) {
        const auto n = ctx.vm["last"].as<std::size_t>();
        if (all.size() > n)
            all.erase(all.begin(), all.end() - static_cast<long>(n));
    }
    if (ctx.vm.count("json")) {
        std::cout << json::serialize(all) << "\n";
        co_return 0;
    }
    winsize ws{};
    const std::size_t width =
        ::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
    std::cout << format_job_table(all, width);
    co_return 0;
}

net::awaitable<int> show_job(context& ctx) {
    if (ctx.rest.size() != 1)
        throw command_error{"give one job id", usage_error};
    auto job = co_await call(ctx.client, "GET", fmt::format("/api/v1/jobs/{}", job_id_arg(ctx.rest[0])));
    if (ctx.vm.count("field")) {
        const auto* v = job.as_object().if_contains(ctx.vm["field"].as<std::string>());
        if (!v)
            throw command_error{fmt::format("a job has no field '{}'", ctx.vm["field"].as<std::string>()),
                                usage_error};
        std::cout << (v->is_string() ? std::string(v->get_string()) : json::serialize(*v)) << "\n";
    } else if (ctx.vm.count("json")) {
        std::cout << json::serialize(job) << "\n";
    } else {
        std::cout << format_job_details(job.as_object());
    }
    co_return 0;
}

net::awaitable<int> tail_job(context& ctx) {
    if (ctx.rest.size() != 1)
        throw command_error{"give one job id", usage_error};
    const auto id = job_id_arg(ctx.rest[0]);
    co_await follow_output(ctx.client, id, ctx.vm["from"].as<std::uint64_t>(), ctx.vm.count("follow") > 0);
    co_return 0;
}

net::awaitable<int> kill_jobs(context& ctx) {
    if (ctx.rest.empty())
        throw command_error{"give at least one job id", usage_error};
    json::object body;
    if (ctx.vm.count("signal"))
        body["signal"] = ctx.vm["signal"].as<std::string>();
    if (ctx.vm.count("stop-plan"))
        body["stop"] = ctx.vm["stop-plan"].as<std::string>();
    int status = 0;
    const std::string payload = body.empty() ? std::string() : json::serialize(body);
    for (const auto& text : ctx.rest) {
        auto r = co_await ctx.client.request(
            "POST", fmt::format("/api/v1/jobs/{}/kill", job_id_arg(text)), payload);
        if (!r)
            throw command_error{r.error().what()};
        if (!r->ok()) {
            std::fprintf(stderr, "corral: job %s: %s\n", text.c_str(), r->error_message().c_str());
            status = 1;
        }
    }
    co_return status;
}

net::awaitable<int> wait_jobs(context& ctx) {
    std::vector<std::uint64_t> ids;
    for (const auto& t : ctx.rest)
        ids.push_back(job_id_arg(t));
    const bool all = ctx.vm.count("all") > 0;
    if (ids.empty() && !all)
        throw command_error{"give job ids, or --all", usage_error};
    const bool progress = ::isatty(STDERR_FILENO) && !ctx.vm.count("quiet");
    std::optional<std::chrono::seconds> timeout;
    if (ctx.vm.count("timeout"))
        timeout = std::chrono::seconds(ctx.vm["timeout"].as<unsigned>());
    if (!all) {
        const wait_options options{progress, ids.size() > 1 && !ctx.vm.count("quiet"), timeout};
        co_return co_await wait_for_jobs(ctx.client, std::move(ids), options);
    }
    const auto started = std::chrono::steady_clock::now();
    for (;;) {
        // The daemon answers as soon as it is idle, or after a second (to update the progress line).
        auto idle = co_await call(ctx.client, "GET", "/api/v1/idle?wait=1");
        const auto running = idle.at("running").to_number<std::size_t>();
        const auto queued = idle.at("queued").to_number<std::size_t>() + idle.at("waiting").to_number<std::size_t>();
        if (running + queued == 0)
            break;
        const auto secs =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
        if (progress)
            std::fprintf(stderr, "\rwaiting: %zu running, %zu queued (%llds)   ", running, queued,
                         static_cast<long long>(secs.count()));
        if (timeout && secs > *timeout) {
            if (progress)
                std::fputs("\n", stderr);
            throw command_error{"timed out while waiting", 124};
        }
    }
    if (progress)
        std::fputs("\r\033[K", stderr);
    co_return 0;
}

net::awaitable<int> send_stdin(context& ctx) {
    if (ctx.rest.empty())
        throw command_error{"give a job id (and the text to send, or pipe it in)", usage_error};
    const auto id = job_id_arg(ctx.rest[0]);
    const std::vector<std::string> words(ctx.rest.begin() + 1, ctx.rest.end());
    co_await write_input(ctx.client, fmt::format("/api/v1/jobs/{}/stdin", id), words, ctx.vm.count("close") > 0);
    co_return 0;
}

struct command_spec {
    std::string_view name;
    std::string_view synopsis;
    std::string_view summary;
};

constexpr command_spec commands[] = {
    {"run", "run [options] [--] COMMAND [ARGS...]", "submit a job, follow its output, exit with its status"},
    {"submit",
     "submit [options] [--] COMMAND [ARGS...]  |  submit --each [--from FILE] [--wait] [options] -- COMMAND {}",
     "submit a job and print its id; with --each, one job per input line ({} is the line)"},
    {"ls", "ls [--state S] [--owner U] [--label K=V] [--last N] [--json]", "list jobs"},
    {"show", "show ID [--field NAME] [--json]", "show one job"},
    {"tail", "tail ID [-f] [--from OFFSET]", "print a job's output (-f: follow it until it ends)"},
    {"kill", "kill ID... [-s SIGNAL | --stop-plan PLAN]", "stop jobs (their whole process trees)"},
    {"wait", "wait ID... | --all [--timeout SECONDS]", "wait for jobs to finish; exit with the worst status"},
    {"stdin",
     "stdin ID [--close] [TEXT...]",
     "send TEXT (or corral's own stdin) to a job started with --stdin pipe"},
    {"tasks",
     "tasks [--names | --json]",
     "list the predefined tasks and their arguments (submit one with --task NAME)"},
    {"queue", "queue [--drain | --resume] [--json]", "show the queue; --drain stops starting jobs (admin)"},
    {"audit", "audit [--job ID] [--last N] [--json]", "show who submitted, killed or drained what (admin)"},
    {"schedules",
     "schedules [ls] [--json] | add NAME (--cron EXPR | --every DURATION) [options] -- COMMAND [ARG]... | rm NAME...",
     "the jobs corrald submits on a clock, with the next times each fires; add one at run time, or remove "
     "one (an admin's; [[schedule]] in the config for the permanent ones)"},
    {"svc",
     "svc ls | show NAME | start NAME... | stop NAME... | restart NAME... | stdin NAME [--close] [TEXT...] | "
     "tail NAME [-f] [--json] | add NAME [--set KEY=VALUE]... -- COMMAND [ARG]... | rm NAME...",
     "corrald's services: their state and history; start, stop or restart them; write to one's stdin; "
     "print its current run's output; add one at run time, or remove one (an admin's; --set takes any "
     "[[service]] key, e.g. --set restart=always --set 'after=[\"db\"]')"},
};

po::options_description command_options(std::string_view name) {
    po::options_description d("options");
    d.add_options()("help,h", "show this help")("json", "print JSON");
    if (name == "run" || name == "submit") {
        d.add(job_options());
        if (name == "run") {
            d.add_options()("on-interrupt",
                            po::value<std::string>()->default_value("ask")->value_name("WHAT"),
                            "on Ctrl-C: ask (on a terminal; otherwise kill), kill, or detach");
        }
    } else if (name == "ls") {
        d.add_options()("state", po::value<std::string>(), "only jobs in this state")(
            "owner", po::value<std::string>(), "only this owner's jobs")(
            "label,l",
            po::value<std::vector<std::string>>()->composing(),
            "only jobs with this label KEY=VALUE")("last,n", po::value<std::size_t>(), "only the newest N");
    } else if (name == "show") {
        d.add_options()("field", po::value<std::string>(), "print only this field (pid, state, ...)");
    } else if (name == "tail") {
        d.add_options()("follow,f", "follow the output until the job ends")(
            "from", po::value<std::uint64_t>()->default_value(0), "start at this byte offset");
    } else if (name == "kill") {
        d.add_options()(
            "signal,s", po::value<std::string>(), "send this signal to the tree instead of the stop plan")(
            "stop-plan", po::value<std::string>(), "stop with this plan, e.g. INT:2s,KILL");
    } else if (name == "wait") {
        d.add_options()("all", "wait until nothing is queued, waiting or running")(
            "timeout", po::value<unsigned>(), "give up after SECONDS (exit 124)")("quiet,q",
                                                                                  "no progress line");
    } else if (name == "stdin") {
        d.add_options()("close", "close the job's stdin afterwards (EOF)");
    } else if (name == "svc") {
        d.add_options()("follow,f", "tail: follow the current run's output until it ends")(
            "close", "stdin: close the service's stdin afterwards (EOF)")(
            "set", po::value<std::vector<std::string>>()->composing()->value_name("KEY=VALUE"),
            "add: a [[service]] key (restart, after, ready_line, env, ...); VALUE is JSON when it parses");
    } else if (name == "schedules") {
        // clang-format off
        d.add_options()
            ("cron", po::value<std::string>()->value_name("EXPR"), "add: when, as cron(5) has it: \"*/5 * * * *\", \"0 9 * * mon-fri\", @daily")
            ("every", po::value<std::string>()->value_name("DURATION"), "add: or every DURATION (30s, 1h), from now")
            ("time-zone", po::value<std::string>()->value_name("ZONE"), "add: read --cron in ZONE (Europe/Berlin; default: the host's)")
            ("overlap", po::value<std::string>()->value_name("POLICY"), "add: when the previous job still runs: skip (default), queue, kill-previous")
            ("catch-up", po::value<std::string>()->value_name("POLICY"), "add: runs missed while corrald was down: none (default), last, all")
            ("catch-up-limit", po::value<unsigned>()->value_name("N"), "add: with --catch-up all, at most N jobs (10)")
            ("owner", po::value<std::string>()->value_name("USER"), "add: whose jobs they are (default corral)");
        // clang-format on
        d.add(job_options());
    } else if (name == "tasks") {
        d.add_options()("names", "print only the task names, one per line (for scripts and completion)");
    } else if (name == "queue") {
        d.add_options()("drain", "finish running jobs, start nothing new (queued and new jobs wait)")(
            "resume", "start queued jobs again");
    } else if (name == "audit") {
        d.add_options()("job", po::value<std::uint64_t>()->default_value(0), "only this job's entries")(
            "last,n", po::value<std::size_t>()->default_value(20), "the newest N entries (at most 1000)");
    }
    d.add(connection_options());
    return d;
}

}  // namespace

bool is_client_command(std::string_view name) {
    return std::any_of(
        std::begin(commands), std::end(commands), [&](const auto& c) { return c.name == name; });
}

int client_command(const std::string& name, const std::vector<std::string>& args) {
    const auto& spec = *std::find_if(
        std::begin(commands), std::end(commands), [&](const auto& c) { return c.name == name; });
    auto options = command_options(name);
    const bool takes_command = name == "run" || name == "submit";
    auto [option_args, command] =
        takes_command ? split_command(args, options)
                      : std::pair<std::vector<std::string>, std::vector<std::string>>{args, {}};
    auto vm = parse_args(option_args, options, takes_command ? nullptr : "args");
    if (!vm) {
        std::fprintf(stderr,
                     "corral %s: %s\n(see corral %s --help)\n",
                     name.c_str(),
                     vm.error().what().c_str(),
                     name.c_str());
        return usage_error;
    }
    if (vm->count("help")) {
        std::cout << "usage: corral " << spec.synopsis << "\n" << spec.summary << "\n\n" << options;
        return 0;
    }
    auto where = read_connection(*vm);
    if (!where) {
        std::fprintf(stderr, "corral %s: %s\n", name.c_str(), where.error().what().c_str());
        return usage_error;
    }
    if (!takes_command && vm->count("args")) {
        command = (*vm)["args"].as<std::vector<std::string>>();
    }
    net::io_context io(1);
    api_client client(io.get_executor(), *where);
    context ctx{client, *vm, command};
    int status = corral_failed;
    auto body = [&]() -> net::awaitable<int> {
        if (name == "run" || name == "submit")
            co_return co_await run_job(ctx, name == "run");
        if (name == "ls")
            co_return co_await list_jobs(ctx);
        if (name == "show")
            co_return co_await show_job(ctx);
        if (name == "tail")
            co_return co_await tail_job(ctx);
        if (name == "kill")
            co_return co_await kill_jobs(ctx);
        if (name == "wait")
            co_return co_await wait_jobs(ctx);
        if (name == "tasks")
            co_return co_await list_tasks(client, vm->count("json") > 0, vm->count("names") > 0);
        if (name == "queue") {
            if (vm->count("drain") && vm->count("resume"))
                throw command_error{"give --drain or --resume, not both", usage_error};
            const std::string action = vm->count("drain") ? "drain" : vm->count("resume") ? "resume" : "";
            co_return co_await show_queue(client, action, vm->count("json") > 0);
        }
        if (name == "svc") {
            if (ctx.rest.empty())
                throw command_error{"give an action: ls, show, start, stop, restart, stdin, tail, add or rm", usage_error};
            service_command cmd{ctx.rest.front(),
                                {ctx.rest.begin() + 1, ctx.rest.end()},
                                vm->count("set") ? (*vm)["set"].as<std::vector<std::string>>() : std::vector<std::string>{},
                                vm->count("json") > 0,
                                vm->count("follow") > 0,
                                vm->count("close") > 0};
            co_return co_await run_service_command(client, cmd);
        }
        if (name == "schedules") {
            schedule_command cmd{ctx.rest.empty() ? "ls" : ctx.rest.front(), {}, {}, vm->count("json") > 0};
            if (cmd.verb == "add" && ctx.rest.size() >= 2) {
                cmd.args = {ctx.rest[1]};
                auto job = job_request(*vm, {ctx.rest.begin() + 2, ctx.rest.end()});
                if (!job)
                    throw command_error{job.error().what(), usage_error};
                cmd.schedule["job"] = std::move(*job);
                for (const char* key : {"cron", "every", "time-zone", "overlap", "catch-up", "owner"}) {
                    if (vm->count(key)) {
                        std::string field = key;
                        std::replace(field.begin(), field.end(), '-', '_');
                        cmd.schedule[field] = (*vm)[key].as<std::string>();
                    }
                }
                if (vm->count("catch-up-limit"))
                    cmd.schedule["catch_up_limit"] = (*vm)["catch-up-limit"].as<unsigned>();
            } else if (ctx.rest.size() > 1) {
                cmd.args.assign(ctx.rest.begin() + 1, ctx.rest.end());
            }
            co_return co_await run_schedule_command(client, std::move(cmd));
        }
        if (name == "audit")
            co_return co_await show_audit(client,
                                          (*vm)["job"].as<std::uint64_t>(),
                                          (*vm)["last"].as<std::size_t>(),
                                          vm->count("json") > 0);
        co_return co_await send_stdin(ctx);
    };
    net::co_spawn(io, body(), [&](std::exception_ptr e, int result) {
        // The command is over: a request it left in flight (the next page of output `corral run`
        // asked for before the user detached) is abandoned, not waited for.
        io.stop();
        if (!e) {
            status = result;
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const command_error& err) {
            std::fprintf(stderr, "corral %s: %s\n", name.c_str(), err.message.c_str());
            status = err.status;
        } catch (const std::exception& err) {
            std::fprintf(stderr, "corral %s: %s\n", name.c_str(), err.what());
        }
    });
    io.run();
    return status;
}

}  // namespace corral::cli
