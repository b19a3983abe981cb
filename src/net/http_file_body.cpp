// A response body that is in a file (a page of a job's output spilled there): sent by the kernel on a
// plain connection, read and written under TLS.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "net/http_session.hpp"

namespace corral::http::session_detail {
namespace {

/// Waits until the socket takes more bytes: false when it failed, or took none for `limit`.
net::awaitable<bool> writable(any_stream& stream, std::chrono::milliseconds limit) {
    using namespace net::experimental::awaitable_operators;
    net::steady_timer timer(stream.get_executor());
    timer.expires_after(limit);
    auto first = co_await (stream.async_wait_writable(use_nothrow) || timer.async_wait(use_nothrow));
    co_return first.index() == 0 && !std::get<0>(std::get<0>(first));
}

/// sendfile(2): the file's pages go into the socket (on Linux 6.5 and later, a Unix socket takes
/// them without a copy), never through our memory.
net::awaitable<bool> send_extents(any_stream& stream,
                                  const file_body& body,
                                  std::chrono::milliseconds limit) {
    const int socket = stream.native_handle();
    if (const int flags = ::fcntl(socket, F_GETFL); flags >= 0 && !(flags & O_NONBLOCK)) {
        (void)::fcntl(socket, F_SETFL, flags | O_NONBLOCK);  // Asio's own async operations set it too
    }
    for (const auto& [pos, length] : body.extents) {
        auto at = static_cast<off_t>(pos);
        for (std::uint64_t left = length; left > 0;) {
            const auto n = ::sendfile(socket, body.file.get(), &at, std::min<std::uint64_t>(left, 1 << 30));
            if (n > 0) {
                left -= static_cast<std::uint64_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n == 0 || errno != EAGAIN) {
                co_return false;  // the file is shorter than its extents (the page promised more), or the
                                  // socket failed
            }
            if (!co_await writable(stream, limit)) {
                co_return false;
            }
        }
    }
    co_return true;
}

/// TLS encrypts in our memory anyway: read a piece, write it.
net::awaitable<bool> copy_extents(any_stream& stream,
                                  const file_body& body,
                                  std::chrono::milliseconds limit) {
    constexpr std::size_t piece = 256 << 10;
    auto buffer = std::make_unique_for_overwrite<char[]>(piece);
    for (const auto& [pos, length] : body.extents) {
        for (std::uint64_t done = 0; done < length;) {
            const auto want = std::min<std::uint64_t>(length - done, piece);
            const auto n = ::pread(body.file.get(), buffer.get(), want, static_cast<off_t>(pos + done));
            if (n <= 0) {
                co_return false;
            }
            auto [ec, written] = co_await with_deadline(stream, limit, [&] {
                return net::async_write(
                    stream, net::buffer(buffer.get(), static_cast<std::size_t>(n)), use_nothrow);
            });
            if (ec) {
                co_return false;
            }
            done += static_cast<std::uint64_t>(n);
        }
    }
    co_return true;
}

}  // namespace

net::awaitable<bool> write_file_body(any_stream& stream,
                                     const file_body& body,
                                     std::chrono::milliseconds limit) {
    if (stream.tls()) {
        co_return co_await copy_extents(stream, body, limit);
    }
    co_return co_await send_extents(stream, body, limit);
}

}  // namespace corral::http::session_detail
