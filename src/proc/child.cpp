#include "corral/proc/child.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include "pidfd_linux.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include "child_impl.hpp"

namespace corral::proc {
namespace {

std::optional<child::pipe> adopt(const net::any_io_executor& ex, unique_fd fd) {
    if (!fd) {
        return std::nullopt;
    }
    return child::pipe(ex, fd.release());
}

}  // namespace

child::impl::impl(net::any_io_executor ex,
                  pid_t p,
                  unique_fd fd,
                  std::unique_ptr<process_tree> t,
                  std::shared_ptr<launcher_state> s,
                  stdio_fds io)
    : executor(ex),
      pid(p),
      pidfd(ex, fd.release()),
      tree(std::move(t)),
      state(std::move(s)),
      in(adopt(ex, std::move(io.stdin_write))),
      out(adopt(ex, std::move(io.stdout_read))),
      err(adopt(ex, std::move(io.stderr_read))),
      pty(io.pty) {
    ++state->busy;
}

child::impl::~impl() {
    if (!status) {
        if (!leader_gone()) {
            spdlog::warn("child {} still running when its owner let go of it: killing its tree", pid);
        }
        send_signal(pidfd.native_handle(), SIGKILL);
        tree->signal(SIGKILL);
        reap_blocking();
    }
    if (!tree->empty()) {
        spdlog::debug("child {}: killing processes left in its tree", pid);
        tree->signal(SIGKILL);
    }
    state->reap_orphans();
    --state->busy;
}

bool child::impl::leader_gone() {
    if (status) {
        return true;
    }
    pollfd p{pidfd.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
}

bool child::impl::try_reap() {
    siginfo_t info{};
    int r;
    while ((r = ::waitid(P_PIDFD, static_cast<id_t>(pidfd.native_handle()), &info, WEXITED | WNOHANG)) < 0 &&
           errno == EINTR) {
    }
    if (r == 0 && info.si_pid == 0) {
        return false;  // still running
    }
    if (r < 0 && errno == EAGAIN) {
        return false;  // still running (the pidfd is non-blocking once Asio has used it)
    }
    if (r == 0) {
        status = exit_status::from_wait(info.si_code, info.si_status);
    } else {
        // ECHILD: not ours to reap any more. Never loop on it; say so and record an unknown end.
        spdlog::warn("child {}: cannot collect its exit status: {}", pid, std::strerror(errno));
        status = exit_status::from_wait(CLD_KILLED, SIGKILL);
    }
    state->leaders.erase(pid);
    return true;
}

void child::impl::reap_blocking() {
    while (!try_reap()) {
        pollfd p{pidfd.native_handle(), POLLIN, 0};
        ::poll(&p, 1, -1);
    }
}

child::child(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
child::child(child&&) noexcept = default;
child& child::operator=(child&&) noexcept = default;
child::~child() = default;

pid_t child::pid() const {
    return impl_->pid;
}
std::optional<exit_status> child::status() const {
    return impl_->status;
}
std::optional<exit_status> child::try_wait() {
    if (!impl_->status) {
        impl_->try_reap();
    }
    return impl_->status;
}
std::optional<child::pipe>& child::stdin_pipe() {
    return impl_->in;
}
std::optional<child::pipe>& child::stdout_pipe() {
    return impl_->out;
}
std::optional<child::pipe>& child::stderr_pipe() {
    return impl_->err;
}
bool child::is_pty() const {
    return impl_->pty;
}

net::awaitable<exit_status> child::wait() {
    // A readable pidfd is only a hint: the reactor can report a stale event for a descriptor number
    // that a finished child used before (seen when a job starts right after another was killed), so
    // the child counts as exited only when waitid says so.
    while (!impl_->status && !impl_->try_reap()) {
        auto [ec] = co_await impl_->pidfd.async_wait(net::posix::descriptor_base::wait_read, use_nothrow);
        if (ec) {
            throw boost::system::system_error(ec, "waiting for child");
        }
    }
    co_return *impl_->status;
}

void child::signal_tree(int signal) {
    if (!impl_->leader_gone()) {
        send_signal(impl_->pidfd.native_handle(), signal);
    }
    impl_->tree->signal(signal);
    // A stopped process keeps a TERM pending until it runs again (systemd does the same).
    if (signal != SIGKILL && signal != SIGSTOP && signal != SIGCONT) {
        if (!impl_->leader_gone()) {
            send_signal(impl_->pidfd.native_handle(), SIGCONT);
        }
        impl_->tree->signal(SIGCONT);
    }
}

bool child::tree_empty() {
    return impl_->leader_gone() && impl_->tree->empty();
}

net::awaitable<bool> child::stop(const stop_plan& plan, bool first_signal_sent) {
    using namespace std::chrono_literals;
    using clock = std::chrono::steady_clock;
    net::steady_timer timer(impl_->executor);
    for (const auto& step : plan.steps()) {
        if (!std::exchange(first_signal_sent, false)) {
            signal_tree(step.signal);
        }
        const auto deadline = clock::now() + step.grace;
        std::chrono::milliseconds delay = 1ms;
        while (!tree_empty()) {
            const auto now = clock::now();
            if (now >= deadline) {
                break;
            }
            timer.expires_after(std::min<clock::duration>(delay, deadline - now));
            auto [ec] = co_await timer.async_wait(use_nothrow);
            if (ec) {
                co_return tree_empty();
            }
            delay = std::min(delay * 2, std::chrono::milliseconds(20));
        }
        if (tree_empty()) {
            co_return true;
        }
    }
    co_return tree_empty();
}

void child::close_stdin() {
    if (!impl_->in) {
        return;
    }
    if (impl_->pty) {
        const char eof = 4;  // ^D: the terminal's end-of-file at the start of a line
        boost::system::error_code ec;
        impl_->in->write_some(net::buffer(&eof, 1), ec);
    }
    impl_->in.reset();
}

void child::resize(terminal_size size) {
    if (impl_->pty && impl_->out) {
        winsize ws{};
        ws.ws_row = size.rows;
        ws.ws_col = size.columns;
        ::ioctl(impl_->out->native_handle(), TIOCSWINSZ, &ws);
    }
}

}  // namespace corral::proc
