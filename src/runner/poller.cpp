#include "corral/runner/poller.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace corral::runner {
namespace {

constexpr int max_events = 64;

}  // namespace

poller::poller() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_ < 0) {
        throw std::system_error(errno, std::generic_category(), "poller: epoll_create1");
    }
}

poller::~poller() {
    ::close(epoll_);
}

void poller::watch(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0 && errno != EEXIST) {
        throw std::system_error(errno, std::generic_category(), "poller: cannot watch descriptor");
    }
}

void poller::unwatch(int fd) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);  // already gone when the descriptor was closed
}

void poller::add(channel& ch) {
    if (ch.fd() < 0) {
        throw std::invalid_argument("poller: a channel with nothing to read cannot be polled");
    }
    if (std::find(channels_.begin(), channels_.end(), &ch) == channels_.end()) {
        watch(ch.fd());
        channels_.push_back(&ch);
    }
}

void poller::add_server(int fd) {
    watch(fd);
    servers_.push_back(fd);
}

void poller::remove(channel& ch) {
    if (std::find(channels_.begin(), channels_.end(), &ch) != channels_.end()) {
        if (ch.fd() >= 0) {
            unwatch(ch.fd());
        }
        std::erase(channels_, &ch);
    }
}

void poller::close_all() {
    for (auto* ch : channels_) {
        if (ch->fd() >= 0) {
            unwatch(ch->fd());
        }
        ch->close();
    }
    for (int fd : servers_) {
        unwatch(fd);
        ::close(fd);
    }
    channels_.clear();
    servers_.clear();
    clients_.clear();
}

bool poller::any_buffered() const {
    return std::any_of(channels_.begin(), channels_.end(), [](const channel* ch) { return ch->has_buffered(); });
}

std::vector<poller::event> poller::poll(std::optional<std::chrono::milliseconds> timeout) {
    std::array<epoll_event, max_events> events;
    const int wait_ms = any_buffered() ? 0 : timeout ? static_cast<int>(timeout->count()) : -1;
    const int n = ::epoll_wait(epoll_, events.data(), max_events, wait_ms);
    std::vector<int> ready;
    for (int i = 0; i < n; ++i) {
        ready.push_back(events[i].data.fd);
    }
    return collect(ready);
}

std::vector<poller::event> poller::collect(const std::vector<int>& ready_fds) {
    auto ready = [&](int fd) { return std::find(ready_fds.begin(), ready_fds.end(), fd) != ready_fds.end(); };
    std::vector<event> out;
    const auto channels = channels_;  // reading may end (and unregister) some
    for (auto* ch : channels) {
        if (!ch->has_buffered() && !ready(ch->fd())) {
            continue;
        }
        event e{.from = ch};
        try {
            e.data = ch->read();
        } catch (const endpoint_closed&) {
            e.ended = true;
            remove(*ch);
        }
        if (!e.data.empty() || e.ended) {
            out.push_back(std::move(e));
        }
    }
    for (int server : servers_) {
        if (!ready(server)) {
            continue;
        }
        const int client = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) {
            continue;  // the client left before it was accepted, or the server was closed
        }
        auto& ch = clients_.emplace_back(std::make_unique<socket_channel>(client));
        add(*ch);
        out.push_back({.accepted = ch.get(), .server = server});
    }
    return out;
}

net::awaitable<std::vector<poller::event>> poller::wait(std::optional<std::chrono::milliseconds> timeout) {
    using namespace net::experimental::awaitable_operators;
    if (auto now = poll(std::chrono::milliseconds(0)); !now.empty() || timeout == std::chrono::milliseconds(0)) {
        co_return now;
    }
    auto executor = co_await net::this_coro::executor;
    // The epoll set is itself readable when one of its descriptors is: one wait covers them all.
    // The descriptor object only borrows it (released, not closed, at the end).
    net::posix::stream_descriptor set(executor, epoll_);
    struct release_on_exit {
        net::posix::stream_descriptor& d;
        ~release_on_exit() { d.release(); }
    } borrowed{set};
    if (timeout) {
        net::steady_timer timer(executor, *timeout);
        co_await (set.async_wait(net::posix::descriptor_base::wait_read, use_nothrow) ||
                  timer.async_wait(use_nothrow));
    } else {
        co_await set.async_wait(net::posix::descriptor_base::wait_read, use_nothrow);
    }
    co_return poll(std::chrono::milliseconds(0));
}

}  // namespace corral::runner
