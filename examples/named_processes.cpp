// Named processes with libcorral (the runner seed's API): a `cat` behind a pipe, driven without an
// event loop, then two aliases of one app followed by one poller from a coroutine.
//
//   $ ./named_processes
//   cat says: hello, world
//   upper: HELLO
//   lower: world
//   2 named processes, both stopped
#include <cstdio>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <corral/core/log_exceptions.hpp>
#include <corral/runner/channel_io.hpp>
#include <corral/runner/poller.hpp>
#include <corral/runner/registry.hpp>
#include <corral/runner/runner.hpp>

namespace net = boost::asio;
using namespace corral;

// Blocking calls, as in runner: start, write, wait for the answer, terminate.
void blocking() {
    runner::runner r;
    runner::app_options lines;
    lines.line_buffered = true;
    r.add("cat", "cat", lines);
    auto ch = r.start("cat");
    ch->write("hello, world\n");
    runner::poller p;
    p.add(*ch);
    for (auto& e : p.poll(std::chrono::seconds(5))) {
        std::printf("cat says: %s", e.data.c_str());
    }
    r.terminate("cat");
}

// The same registry as coroutines: one app, two aliases with their own arguments, one poller.
net::awaitable<void> with_coroutines(runner::registry& reg) {
    runner::poller p;
    for (std::string alias : {"upper", "lower"}) {
        runner::start_request request{.alias = alias, .with_args = {alias == "upper" ? "[:lower:]" : "[:upper:]",
                                                                     alias == "upper" ? "[:upper:]" : "[:lower:]"}};
        std::string app = "tr";
        auto started = co_await reg.start(std::move(app), std::move(request));
        auto ch = started.value();
        std::string text = alias == "upper" ? "Hello\n" : "WORLD\n";
        co_await runner::write_all(*ch, std::move(text));
        p.add(*ch);
        ch->close_write();
    }
    for (int answers = 0; answers < 2;) {
        for (auto& e : co_await p.wait()) {
            if (!e.data.empty()) {
                std::printf("%s: %s", e.from == reg.get_channel("upper").get() ? "upper" : "lower", e.data.c_str());
                ++answers;
            }
        }
    }
    co_await reg.terminate_all();
    std::printf("2 named processes, both stopped\n");
}

int main() {
    blocking();
    net::io_context ioc;
    auto launcher = proc::launcher::create(ioc.get_executor()).value();
    runner::registry reg(*launcher);
    if (auto added = reg.add("tr", "tr"); !added) {
        std::fprintf(stderr, "%s\n", added.error().what().c_str());
        return 1;
    }
    net::co_spawn(ioc, with_coroutines(reg), log_exceptions{"named processes"});
    ioc.run();
}
