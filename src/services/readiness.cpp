#include "readiness.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include "corral/core/parse.hpp"
#include "corral/output/line_view.hpp"
#include "corral/output/output_log.hpp"

namespace corral::services {
namespace {

using namespace std::chrono_literals;
using namespace net::experimental::awaitable_operators;

/// True once something accepts at `endpoint`; tries every 20 ms for ever (the caller bounds it).
template <class Protocol>
net::awaitable<void> until_accepting(typename Protocol::endpoint endpoint) {
    auto executor = co_await net::this_coro::executor;
    net::steady_timer pause(executor);
    for (;;) {
        typename Protocol::socket probe(executor);
        auto [ec] = co_await probe.async_connect(endpoint, use_nothrow);
        if (!ec) {
            co_return;
        }
        pause.expires_after(20ms);
        co_await pause.async_wait(use_nothrow);
    }
}

/// Until a line of `j`'s output matches; false when the output ended first.
net::awaitable<std::string> until_line(const tasks::pattern& pattern, jobs::job& j) {
    output::line_view lines(*j.log);
    for (;;) {
        for (auto& line : lines.take()) {
            if (pattern.search(line)) {
                co_return line;
            }
        }
        if (lines.finished()) {
            co_return std::string();
        }
        co_await j.log->wait_for(lines.cursor());
    }
}

net::awaitable<ready_outcome> check(const readiness& r, jobs::job& j) {
    switch (r.kind) {
        case ready_check::started:
            co_return ready_outcome{true, "started"};
        case ready_check::socket: {
            net::local::stream_protocol::endpoint at(r.socket);
            co_await until_accepting<net::local::stream_protocol>(at);
            co_return ready_outcome{true, fmt::format("socket {} accepts", r.socket)};
        }
        case ready_check::port: {
            boost::system::error_code ec;
            const auto address = net::ip::make_address(r.host, ec);
            if (ec) {
                co_return ready_outcome{false, fmt::format("'{}' is not an IP address", r.host)};
            }
            net::ip::tcp::endpoint at(address, r.port);
            co_await until_accepting<net::ip::tcp>(at);
            co_return ready_outcome{true, fmt::format("port {}:{} accepts", r.host, r.port)};
        }
        case ready_check::line: {
            auto line = co_await until_line(*r.pattern, j);
            if (line.empty()) {
                co_return ready_outcome{false, "its output ended before a line matched"};
            }
            co_return ready_outcome{true, fmt::format("line '{}' matched", line)};
        }
    }
    co_return ready_outcome{};
}

}  // namespace

net::awaitable<ready_outcome> wait_ready(const readiness& r, jobs::job& j) {
    if (r.kind == ready_check::started) {
        co_return ready_outcome{true, "started"};
    }
    net::steady_timer limit(co_await net::this_coro::executor, r.timeout);
    auto outcome = co_await (check(r, j) || limit.async_wait(use_nothrow));
    if (outcome.index() == 0) {
        co_return std::get<0>(outcome);
    }
    co_return ready_outcome{false, fmt::format("not ready within {}", format_duration(r.timeout))};
}

}  // namespace corral::services
