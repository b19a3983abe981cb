#include "exec_command.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/serialize.hpp>

#include "corral/core/log_exceptions.hpp"
#include "corral/jobs/job_json.hpp"
#include "corral/jobs/job_runner.hpp"
#include "corral/proc/signals.hpp"
#include "exec_options.hpp"
#include "output_printer.hpp"

namespace corral::cli {
namespace {

using namespace boost::asio::experimental::awaitable_operators;

constexpr int exit_usage = 2;
constexpr int exit_timed_out = 124;
constexpr int exit_corral_failed = 125;
constexpr int exit_cannot_run = 126;
constexpr int exit_not_found = 127;

// Forwards corral's stdin to the job on a thread of its own: a blocking read of a terminal must not
// stall the event loop, and making our stdin non-blocking would change it for the shell too.
void forward_stdin(int job_stdin) {
    std::thread([job_stdin] {
        char buf[65536];
        for (ssize_t n; (n = ::read(0, buf, sizeof buf)) > 0;) {
            for (ssize_t done = 0; done < n;) {
                ssize_t w = ::write(job_stdin, buf + done, static_cast<std::size_t>(n - done));
                if (w <= 0) {
                    ::close(job_stdin);
                    return;  // the job closed its stdin or ended
                }
                done += w;
            }
        }
        ::close(job_stdin);
    }).detach();
}

std::string current_user() {
    const passwd* pw = ::getpwuid(::geteuid());
    return pw != nullptr ? pw->pw_name : std::to_string(::geteuid());
}

proc::terminal_size our_terminal_size() {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        return {ws.ws_row, ws.ws_col};
    }
    return {};
}

int exit_code_for(const jobs::job& j) {
    if (j.state == jobs::job_state::timed_out) {
        return exit_timed_out;
    }
    if (j.start_error) {
        return j.start_error == errc::executable_not_found ? exit_not_found : exit_cannot_run;
    }
    return j.shell_code();
}

// Ctrl-C / SIGTERM / SIGHUP stop the job with its plan; a second one kills at once. SIGWINCH resizes
// the job's terminal in PTY mode.
net::awaitable<void> handle_signals(net::signal_set& signals, jobs::job_runner& runner, jobs::job& j) {
    for (int count = 0;;) {
        auto [ec, sig] = co_await signals.async_wait(use_nothrow);
        if (ec) {
            co_return;
        }
        if (sig == SIGWINCH) {
            if (j.process) {
                j.process->resize(our_terminal_size());
            }
            continue;
        }
        if (++count == 1) {
            std::fprintf(stderr,
                         "\ncorral: got SIG%s, stopping the job's process tree (%s); again to kill it now\n",
                         proc::signal_name(sig).c_str(),
                         j.spec.stop.to_string().c_str());
        } else {
            std::fprintf(stderr, "corral: killing the job's process tree now\n");
        }
        runner.stop(j, jobs::stop_reason::request);
    }
}

net::awaitable<void> run_job(
    jobs::job_runner& runner, jobs::job& j, const exec_options& o, int file, net::signal_set& signals) {
    printer_options po{o.quiet, j.spec.process.output == proc::output_mode::merged, file, [&] {
                           // Like `yes | head`: nobody reads any more, so the job ends.
                           runner.stop(j, jobs::stop_reason::request, proc::stop_plan::kill_now());
                       }};
    co_await (runner.run(j) && print_output(*j.log, po));
    signals.cancel();
}

void print_summary(const jobs::job& j, const exec_options& o, const proc::launcher& launcher) {
    if (o.verbose) {
        spdlog::info("job {} {}: {}", j.id, jobs::to_string(j.state), j.reason);
    }
    if (o.json) {
        auto obj = jobs::to_json(j);
        obj["tree"] = proc::to_string(launcher.mechanism());
        std::fflush(stdout);
        std::printf("%s\n", boost::json::serialize(obj).c_str());
    }
}

}  // namespace

int exec_command(const std::vector<std::string>& args) {
    auto parsed = parse_exec_options(args);
    if (!parsed) {
        std::fprintf(stderr, "corral exec: %s\nTry 'corral exec --help'.\n", parsed.error().message.c_str());
        return exit_usage;
    }
    exec_options& o = *parsed;
    if (o.help) {
        std::fputs(exec_usage().c_str(), stdout);
        return 0;
    }
    spdlog::set_level(o.verbose ? spdlog::level::debug : spdlog::level::warn);
    spdlog::set_pattern("corral: %v");
    std::signal(SIGPIPE, SIG_IGN);  // a closed stdout is noticed as EPIPE and stops the job

    net::io_context ioc(1);
    // corral exec runs one job tree and nothing else: it may be that tree's subreaper.
    auto launcher = proc::launcher::create(ioc.get_executor(), {.tree = o.tree, .subreaper = true});
    if (!launcher) {
        std::fprintf(stderr, "corral exec: %s\n", launcher.error().what().c_str());
        return exit_corral_failed;
    }

    int file = -1;
    if (!o.output_file.empty()) {
        file = ::open(o.output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (file < 0) {
            std::fprintf(stderr,
                         "corral exec: cannot open output file '%s': %s\n",
                         o.output_file.c_str(),
                         std::strerror(errno));
            return exit_corral_failed;
        }
    }
    if (o.spec.process.pty) {
        o.spec.process.pty_size = our_terminal_size();
    }
    // Memory stays small whatever the job prints: the printer's hold back-pressures the job instead.
    o.spec.output.memory_limit = 4 << 20;
    auto log = output::output_log::create(ioc.get_executor(), o.spec.output);
    jobs::job_table table;
    jobs::job_runner runner(**launcher, table);
    auto& j = table.add(current_user(), o.spec, std::move(*log));
    table.subscribe([&](const jobs::job& changed, jobs::job_event e) {
        if (e == jobs::job_event::started) {
            spdlog::debug("job {} started: pid {}", changed.id, changed.pid);
            if (o.forward_stdin && j.process && j.process->stdin_pipe()) {
                forward_stdin(::fcntl(j.process->stdin_pipe()->native_handle(), F_DUPFD_CLOEXEC, 3));
                j.process->stdin_pipe().reset();  // the thread's copy is now the only writer
            }
        }
    });

    net::signal_set signals(ioc, SIGINT, SIGTERM, SIGHUP);
    if (o.spec.process.pty) {
        signals.add(SIGWINCH);
    }
    net::co_spawn(ioc, handle_signals(signals, runner, j), log_exceptions{"signal handler"});
    net::co_spawn(ioc, run_job(runner, j, o, file, signals), log_exceptions{"corral exec"});
    ioc.run();

    if (file >= 0) {
        ::close(file);
    }
    if (j.start_error) {
        std::fprintf(stderr, "corral exec: %s\n", j.reason.c_str());
    }
    print_summary(j, o, **launcher);
    return exit_code_for(j);
}

}  // namespace corral::cli
