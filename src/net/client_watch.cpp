#include "net/client_watch.hpp"

#include <poll.h>

#include <exception>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

namespace corral::http {
namespace {

enum class peer_state { there, gone, unsure };

/// What poll() says of the peer right now, without reading anything.
peer_state probe(int fd) {
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) < 0) {
        return peer_state::unsure;
    }
    if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
        return peer_state::gone;
    }
    return (p.revents & POLLIN) != 0 ? peer_state::unsure : peer_state::there;
}

/// `work`, with what it throws as a value: Asio's `||` waits for the first *success*, so a `work` that
/// threw waited for its client to leave, and was then reported as a client that left (a 499).
net::awaitable<std::exception_ptr> caught(net::awaitable<void> work) {
    try {
        co_await std::move(work);
    } catch (...) {
        co_return std::current_exception();
    }
    co_return nullptr;
}

}  // namespace

net::awaitable<bool> client_watch::unless_gone(net::awaitable<void> work) {
    using namespace net::experimental::awaitable_operators;
    auto first = co_await (caught(std::move(work)) || gone());
    if (first.index() == 1) {
        co_return false;
    }
    if (auto failed = std::get<0>(first)) {
        std::rethrow_exception(failed);
    }
    co_return true;
}

net::awaitable<void> client_watch::gone() {
    for (;;) {
        auto [ec] = co_await stream_.async_wait_readable(use_nothrow);
        if (ec == net::error::operation_aborted) {
            co_return;  // the work ended first
        }
        auto state = ec ? peer_state::gone : probe(stream_.native_handle());
        // Bytes wait to be read, so readiness would fire again at once: look once a second instead.
        net::steady_timer pause(stream_.get_executor());
        while (state == peer_state::unsure) {
            pause.expires_after(std::chrono::seconds(1));
            auto [timer_ec] = co_await pause.async_wait(use_nothrow);
            if (timer_ec) {
                co_return;
            }
            state = probe(stream_.native_handle());
        }
        if (state == peer_state::gone) {
            co_return;
        }
    }
}

}  // namespace corral::http
