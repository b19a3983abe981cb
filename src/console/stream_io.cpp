#include "corral/console/stream_io.hpp"

#include <array>
#include <utility>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

namespace corral::console {
namespace {

/// The process's own descriptors as a byte stream; released, never closed, at the end.
class fd_stream final : public sockets::byte_stream {
  public:
    fd_stream(net::any_io_executor ex, int in, int out) : in_(ex, in), out_(ex, out) {}
    ~fd_stream() override {
        in_.release();
        out_.release();
    }
    net::awaitable<std::size_t> read_some(std::span<char> into) override {
        auto [ec, n] = co_await in_.async_read_some(net::buffer(into.data(), into.size()), use_nothrow);
        co_return ec ? 0 : n;
    }
    net::awaitable<bool> write(std::string_view bytes) override {
        auto [ec, n] = co_await net::async_write(out_, net::buffer(bytes.data(), bytes.size()), use_nothrow);
        co_return !ec;
    }
    net::awaitable<void> shutdown() override { co_return; }

  private:
    net::posix::stream_descriptor in_;
    net::posix::stream_descriptor out_;
};

}  // namespace

std::unique_ptr<sockets::byte_stream> stdio_stream(net::any_io_executor executor, int in, int out) {
    return std::make_unique<fd_stream>(std::move(executor), in, out);
}

net::awaitable<std::optional<std::string>> stream_io::read_line() {
    std::array<char, 4096> chunk;
    for (;;) {
        const auto end = buffer_.find('\n');
        const bool complete = end != std::string::npos;
        if ((complete ? end : buffer_.size()) > max_line_) {
            // Not kept: the session goes on with the next line, and says why this one did nothing.
            buffer_.erase(0, complete ? end + 1 : buffer_.size());
            if (!dropping_) {
                std::string why = fmt::format("error: a line longer than {} bytes was dropped\n", max_line_);
                co_await stream_.write(why);
            }
            dropping_ = !complete;
            continue;
        }
        if (complete) {
            std::string line = buffer_.substr(0, end);
            buffer_.erase(0, end + 1);
            if (std::exchange(dropping_, false)) {
                continue;  // the rest of a line that was too long
            }
            co_return line;
        }
        const auto n = co_await stream_.read_some(chunk);
        if (n == 0) {
            co_return std::nullopt;  // a last line without its '\n' is the end, as for aioconsole
        }
        buffer_.append(chunk.data(), n);
    }
}

net::awaitable<bool> stream_io::write(std::string text) {
    co_return co_await stream_.write(text);
}

}  // namespace corral::console
