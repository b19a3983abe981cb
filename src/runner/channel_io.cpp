#include "corral/runner/channel_io.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

namespace corral::runner {
namespace {

/// Waits until `fd` is ready for `what`, borrowing it: the descriptor is released, never closed.
net::awaitable<void> wait_for(int fd, net::posix::descriptor_base::wait_type what) {
    net::posix::stream_descriptor d(co_await net::this_coro::executor, fd);
    auto [ec] = co_await d.async_wait(what, use_nothrow);
    d.release();
    if (ec == net::error::operation_aborted) {
        throw boost::system::system_error(ec, "waiting on a channel");
    }
}

}  // namespace

net::awaitable<std::string> read_some(channel& ch) {
    for (;;) {
        if (auto data = ch.read(); !data.empty()) {
            co_return data;
        }
        if (ch.has_buffered()) {
            continue;
        }
        if (ch.fd() < 0) {
            throw endpoint_closed("nothing to read from");
        }
        co_await wait_for(ch.fd(), net::posix::descriptor_base::wait_read);
    }
}

net::awaitable<void> write_all(channel& ch, std::string data) {
    std::string_view rest = data;
    for (;;) {
        rest.remove_prefix(ch.try_write(rest));
        if (rest.empty()) {
            co_return;
        }
        co_await wait_for(ch.write_fd(), net::posix::descriptor_base::wait_write);
    }
}

}  // namespace corral::runner
