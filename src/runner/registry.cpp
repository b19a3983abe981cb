#include "corral/runner/registry.hpp"

#include <signal.h>

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include "corral/core/shell_words.hpp"
#include "corral/core/task_group.hpp"
#include "socket_wait.hpp"

namespace corral::runner {

struct registry::process {
    proc::child child;
    std::shared_ptr<channel> ch;
    proc::stop_plan stop;
};

namespace {

error_info not_found(std::string_view what, std::string_view name) {
    return {make_error_code(errc::process_not_found), fmt::format("no {} named '{}'", what, name)};
}

app_options with_overrides(app_options o, const start_overrides& over) {
    if (over.socket) {
        o.socket = *over.socket;
    }
    if (over.cwd) {
        o.cwd = *over.cwd;
    }
    if (over.setpgrp) {
        o.setpgrp = *over.setpgrp;
    }
    if (over.line_buffered) {
        o.line_buffered = *over.line_buffered;
    }
    return o;
}

proc::spawn_options spawn_options_for(const app_config& app, const app_options& o, const start_request& request) {
    proc::spawn_options so;
    so.argv = app.command;
    so.argv.insert(so.argv.end(), request.with_args.begin(), request.with_args.end());
    so.cwd = o.cwd;
    so.env = o.env;
    so.new_session = o.setpgrp;
    if (o.type == channel_type::stdio) {
        so.input = proc::input_mode::pipe;
        so.output = proc::output_mode::stdout_only;  // stderr stays the caller's, as in the seed
    } else {
        so.input = proc::input_mode::none;  // the seed shared the caller's stdin: two readers of one terminal
        so.output = proc::output_mode::inherit;
    }
    return so;
}

std::unique_ptr<channel> pipes_of(proc::child& c) {
    return std::make_unique<pipe_channel>(c.stdout_pipe()->release(), c.stdin_pipe()->release());
}

}  // namespace

registry::registry(proc::launcher& launcher) : launcher_(launcher) {}

registry::~registry() {
    for (auto& [alias, p] : processes_) {
        p->ch->close();
        if (!p->child.try_wait()) {
            p->child.signal_tree(SIGKILL);  // the child's destructor reaps it
        }
    }
}

result_info<void> registry::add(const std::string& name, std::string_view command, app_options options) {
    auto argv = split_shell_words(command);
    if (!argv) {
        return error_info{argv.error().code, fmt::format("command of '{}': {}", name, argv.error().message)};
    }
    return update_config({{name, app_config{std::move(*argv), std::move(options)}}});
}

result_info<void> registry::update_config(std::map<std::string, app_config> config) {
    for (const auto& [name, app] : config) {
        if (app.command.empty() || app.command.front().empty()) {
            return error_info{make_error_code(errc::invalid_argument), fmt::format("'{}' has no command", name)};
        }
        if (app.options.type == channel_type::socket && app.options.socket.empty()) {
            return error_info{make_error_code(errc::invalid_argument),
                              fmt::format("'{}' talks over a socket but names none (socket = PATH)", name)};
        }
    }
    for (auto& [name, app] : config) {
        apps_.insert_or_assign(name, std::move(app));
    }
    return {};
}

net::awaitable<result_info<std::shared_ptr<channel>>> registry::launch(std::string app_name,
                                                                      start_request request,
                                                                      bool reuse_running) {
    const auto app = apps_.find(app_name);
    if (app == apps_.end()) {
        co_return not_found("named process", app_name);
    }
    const std::string alias = request.alias.empty() ? app_name : request.alias;
    if (is_running(alias)) {
        if (reuse_running) {
            co_return processes_.find(alias)->second->ch;
        }
        co_return error_info{make_error_code(errc::process_exists),
                             fmt::format("'{}' is already running (pid {})", alias, *pid(alias))};
    }
    const app_options options = with_overrides(app->second.options, request.overrides);
    if (options.type == channel_type::socket) {
        if (auto bad = check_socket_path(options.socket); !bad) {
            co_return bad.error();
        }
        remove_stale_socket(options.socket);
    }
    auto spawn = spawn_options_for(app->second, options, request);
    auto started = co_await launcher_.start(std::move(spawn));
    if (!started) {
        co_return started.error();
    }
    auto p = std::make_unique<process>(process{std::move(*started), nullptr, options.stop});
    std::unique_ptr<channel> ch;
    if (options.type == channel_type::stdio) {
        ch = pipes_of(p->child);
    } else {
        auto connected = co_await connect_when_listening(p->child, alias, options);
        if (!connected) {
            co_return connected.error();
        }
        ch = std::make_unique<socket_channel>(*connected);
    }
    if (options.line_buffered) {
        ch = std::make_unique<line_channel>(std::move(ch));
    }
    p->ch = std::move(ch);
    if (auto old = processes_.find(alias); old != processes_.end()) {
        old->second->ch->close();  // an exited process's channel: whoever still holds it sees it closed
    }
    auto shared = p->ch;
    processes_.insert_or_assign(alias, std::move(p));
    co_return shared;
}

std::shared_ptr<channel> registry::get_channel(std::string_view alias) const {
    const auto it = processes_.find(alias);
    return it == processes_.end() ? nullptr : it->second->ch;
}

bool registry::is_running(std::string_view alias) {
    const auto it = processes_.find(alias);
    return it != processes_.end() && !it->second->child.try_wait();
}

std::optional<pid_t> registry::pid(std::string_view alias) const {
    const auto it = processes_.find(alias);
    return it == processes_.end() ? std::nullopt : std::optional<pid_t>(it->second->child.pid());
}

std::optional<proc::exit_status> registry::exit_status(std::string_view alias) {
    const auto it = processes_.find(alias);
    return it == processes_.end() ? std::nullopt : it->second->child.try_wait();
}

net::awaitable<result_info<proc::exit_status>> registry::terminate(std::string alias) {
    const auto it = processes_.find(alias);
    if (it == processes_.end()) {
        co_return not_found("running alias", alias);
    }
    // Taken out first: a start of the same alias while this one stops is a new process.
    std::unique_ptr<process> p = std::move(it->second);
    processes_.erase(it);
    p->ch->close();
    co_await p->child.stop(p->stop);
    co_return co_await p->child.wait();
}

net::awaitable<void> registry::terminate_quietly(std::string alias) {
    co_await terminate(std::move(alias));
}

net::awaitable<void> registry::terminate_all() {
    task_group stopping(co_await net::this_coro::executor);
    std::vector<std::string> aliases;
    for (const auto& [alias, p] : processes_) {
        aliases.push_back(alias);
    }
    for (auto& alias : aliases) {
        // A member coroutine, not a lambda: g++ 12 loses a coroutine lambda's by-value arguments at -O2.
        auto stop = terminate_quietly(alias);
        stopping.spawn(std::move(stop), "terminating " + alias);
    }
    co_await stopping.wait();
}

}  // namespace corral::runner
