// An example plugin of the TCP-server shape (corral/plugin/tcp_server.hpp): it greets each client
// and echoes every line back until the client leaves.
//
//   [[component]]
//   plugin = "libcorral_echo_server.so"
//   label = "echo"
//   listen = "127.0.0.1:7007"
//   greeting = "hello"
#include <fmt/format.h>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "corral/plugin/tcp_server.hpp"

namespace {

using namespace corral;
using net::ip::tcp;

class echo_server final : public plugin::tcp_server {
  public:
    echo_server(plugin::component_context context,
                std::string listen,
                std::size_t max_connections,
                std::string greeting,
                std::size_t max_line)
        : tcp_server(std::move(context), std::move(listen), max_connections),
          greeting_(std::move(greeting)),
          max_line_(max_line) {}

    std::string describe() const override { return fmt::format("echo server on {}", address()); }

  private:
    net::awaitable<void> serve(tcp::socket socket) override {
        // Every argument is named before co_await: g++ 12 mishandles temporaries in a co_await expression.
        if (!greeting_.empty()) {
            const auto hello = greeting_ + "\n";
            co_await net::async_write(socket, net::buffer(hello), net::use_awaitable);
        }
        // A line longer than max_line is refused, and the client let go: memory stays bounded.
        net::streambuf buffer(max_line_ + 1);
        for (;;) {
            auto [ec, n] = co_await net::async_read_until(socket, buffer, '\n', use_nothrow);
            if (ec == net::error::not_found) {
                const auto refusal = fmt::format("error: a line is longer than {} bytes\n", max_line_);
                co_await net::async_write(socket, net::buffer(refusal), net::use_awaitable);
                co_return;
            }
            if (ec) {
                co_return;  // the client left (or corrald is stopping)
            }
            std::string line(net::buffers_begin(buffer.data()),
                             net::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(n));
            buffer.consume(n);
            co_await net::async_write(socket, net::buffer(line), net::use_awaitable);
        }
    }

    std::string greeting_;
    std::size_t max_line_;
};

std::unique_ptr<plugin::component> create(const plugin::component_context& context,
                                          plugin::component_options& o) {
    auto listen = o.tcp_endpoint("listen", "127.0.0.1:7007");
    auto max_connections = o.integer("max_connections", 100, 1, 100'000);
    auto greeting = o.string("greeting", "");
    auto max_line = o.size("max_line", 64 * 1024);
    if (max_line < 1 || max_line > (16u << 20)) {
        o.problem("max_line", "must be 1 byte to 16MiB");
    }
    return std::make_unique<echo_server>(context,
                                         std::move(listen),
                                         static_cast<std::size_t>(max_connections),
                                         std::move(greeting),
                                         static_cast<std::size_t>(max_line));
}

}  // namespace

CORRAL_PLUGIN((corral::plugin::plugin_info{
    "echo-server",
    "echoes each line a TCP client sends (the TCP-server example)",
    "listen (default 127.0.0.1:7007), greeting, max_line (default 64KiB), max_connections (default 100)",
    &create,
}))
