#include "socket_wait.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include "corral/core/parse.hpp"

namespace corral::runner {
namespace {

using namespace std::chrono_literals;

sockaddr_un address_of(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

/// A connected socket, -1 while nobody listens yet (no file, or not accepting), or -errno otherwise.
int try_connect(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);  // a full backlog must not block us
    if (fd < 0) {
        return -errno;
    }
    const auto addr = address_of(path);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        return fd;
    }
    const int error = errno;
    ::close(fd);
    return error == ENOENT || error == ECONNREFUSED || error == EAGAIN ? -1 : -error;
}

}  // namespace

result_info<void> check_socket_path(const std::string& path) {
    if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
        return error_info{make_error_code(errc::invalid_argument),
                          fmt::format("'{}' cannot be a Unix socket path (1 to {} bytes)", path,
                                      sizeof(sockaddr_un::sun_path) - 1)};
    }
    return {};
}

void remove_stale_socket(const std::string& path) {
    ::unlink(path.c_str());
}

net::awaitable<result_info<int>> connect_when_listening(proc::child& child,
                                                        std::string_view alias,
                                                        const app_options& options) {
    const auto deadline = std::chrono::steady_clock::now() + options.socket_wait;
    net::steady_timer timer(co_await net::this_coro::executor);
    for (;;) {
        if (auto status = child.try_wait()) {
            co_return error_info{make_error_code(errc::spawn_failed),
                                 fmt::format("'{}' {} before it listened on {}", alias, status->describe(),
                                             options.socket)};
        }
        const int fd = try_connect(options.socket);
        if (fd >= 0) {
            co_return fd;
        }
        if (fd < -1 || std::chrono::steady_clock::now() >= deadline) {
            const auto kill = proc::stop_plan::kill_now();
            co_await child.stop(kill);
            co_await child.wait();
            if (fd < -1) {
                co_return error_info{make_error_code(errc::spawn_failed),
                                     fmt::format("cannot connect to {} for '{}': {}", options.socket, alias,
                                                 std::strerror(-fd))};
            }
            co_return error_info{make_error_code(errc::timed_out),
                                 fmt::format("'{}' did not listen on {} within {} (it was stopped)", alias,
                                             options.socket, format_duration(options.socket_wait))};
        }
        timer.expires_after(10ms);
        co_await timer.async_wait(use_nothrow);
    }
}

}  // namespace corral::runner
