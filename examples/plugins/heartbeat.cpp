// An example plugin of the simple-server shape (corral/plugin/simple_server.hpp): it appends a line
// to a file every `interval` while corrald runs, and a last line when it stops.
//
//   [[component]]
//   plugin = "libcorral_heartbeat.so"
//   label = "heartbeat"
//   path = "/tmp/heartbeat.log"
//   interval = "1s"
//   message = "alive"
//
// A signal aimed at its label (`signal heartbeat USR1` in corral console) writes "signal 10".
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/asio/detached.hpp>

#include "corral/core/blocking_work.hpp"
#include "corral/plugin/simple_server.hpp"

namespace {

using namespace corral;

class heartbeat final : public plugin::simple_server {
  public:
    heartbeat(plugin::component_context context,
              std::string path,
              std::chrono::milliseconds interval,
              std::string message)
        : simple_server(std::move(context)),
          path_(std::move(path)),
          interval_(interval),
          message_(std::move(message)) {}

    /// A signal aimed at its label (`corral console`'s `signal LABEL USR1`, or the API's): a mark in
    /// the file, so an operator can line it up with what else happened.
    std::string signal(int sig) override {
        net::co_spawn(context().executor, mark(sig), net::detached);
        return fmt::format("marked {} with signal {}", path_, sig);
    }

    std::string describe() const override {
        return fmt::format("a heartbeat in {} every {} ms", path_, interval_.count());
    }

  private:
    net::awaitable<void> startup() override {
        // Opening fails here, so corrald's start fails with the reason, rather than a loop that cannot write.
        // (Arguments are named before co_await: g++ 12 mishandles temporaries in a co_await expression.)
        auto line = fmt::format("started ({})\n", message_);
        co_await write(std::move(line), true);
    }
    net::awaitable<void> run() override {
        while (co_await sleep_for(interval_)) {
            ++beats_;
            auto line = fmt::format("{} {}\n", beats_, message_);
            co_await write(std::move(line), false);
        }
    }
    net::awaitable<void> mark(int sig) {
        auto line = fmt::format("signal {}\n", sig);
        co_await write(std::move(line), false);
    }

    void on_stop() override { log(plugin::log_level::info, fmt::format("stopping after {} beats", beats_)); }
    net::awaitable<void> cleanup() override {
        auto line = fmt::format("stopped after {} beats\n", beats_);
        co_await write(std::move(line), false);
    }

    /// Appends `line` on the blocking-work thread (a full disk must not stall corrald's core).
    net::awaitable<void> write(std::string line, bool must) {
        auto append = [path = path_, line = std::move(line)] {
            std::ofstream out(path, std::ios::app);
            out << line;
            out.flush();
            return static_cast<bool>(out);
        };
        auto appending = run_blocking(context().blocking, std::move(append));
        const bool ok = co_await std::move(appending);
        if (!ok && must) {
            throw std::runtime_error(fmt::format("cannot write to {}", path_));
        }
        if (!ok) {
            log(plugin::log_level::warn, fmt::format("cannot write to {}", path_));
        }
    }

    std::string path_;
    std::chrono::milliseconds interval_;
    std::string message_;
    unsigned long beats_ = 0;
};

std::unique_ptr<plugin::component> create(const plugin::component_context& context,
                                          plugin::component_options& o) {
    o.require("path", "the file to append the heartbeat to");
    auto path = o.string("path", "");
    auto interval = o.duration("interval", std::chrono::seconds(1));
    if (interval < std::chrono::milliseconds(10)) {
        o.problem("interval", "must be at least 10ms");
    }
    auto message = o.string("message", "alive");
    return std::make_unique<heartbeat>(context, std::move(path), interval, std::move(message));
}

}  // namespace

CORRAL_PLUGIN((corral::plugin::plugin_info{
    "heartbeat",
    "appends a line to a file every interval (the simple-server example)",
    "path (required), interval (default 1s), message (default \"alive\")",
    &create,
}))
