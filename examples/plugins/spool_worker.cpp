// An example plugin of the producer/consumer shape (corral/plugin/producer_consumer.hpp): the producer
// finds files dropped into a spool directory, and `consumers` workers count each one's lines, words
// and bytes into `<done>/<name>.count`, then move the file itself to `<done>/<name>`. Files whose
// names start with '.' are skipped, so a writer can fill `.name` and rename it when it is whole.
//
//   [[component]]
//   plugin = "libcorral_spool_worker.so"
//   label = "spool"
//   spool = "/var/spool/corral-example"
//   consumers = 2
//   queue = 16
//   poll = "500ms"
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "corral/core/blocking_work.hpp"
#include "corral/plugin/producer_consumer.hpp"

namespace {

using namespace corral;
namespace fs = std::filesystem;

class spool_worker final : public plugin::producer_consumer<std::string> {
  public:
    spool_worker(plugin::component_context context,
                 std::string spool,
                 std::string done,
                 std::size_t consumers,
                 std::size_t queue,
                 std::chrono::milliseconds poll)
        : producer_consumer(std::move(context), consumers, queue),
          spool_(std::move(spool)),
          done_(std::move(done)),
          poll_(poll),
          timer_(this->context().executor) {}

    net::awaitable<void> start() override {
        // Named before co_await, never temporaries inside it: g++ 12 mishandles those.
        auto make_done = [done = done_] {
            std::error_code ec;
            fs::create_directories(done, ec);
            return ec ? ec.message() : std::string();
        };
        auto making = run_blocking(context().blocking, std::move(make_done));
        auto made = co_await std::move(making);
        if (!made.empty()) {
            throw std::runtime_error(fmt::format("cannot make {}: {}", done_, made));
        }
        co_await producer_consumer::start();
    }
    std::string describe() const override {
        return fmt::format("spool worker on {} (done: {})", spool_, done_);
    }

  private:
    /// The next file nobody has taken yet; waits `poll` between looks at an empty spool.
    net::awaitable<std::optional<std::string>> produce() override {
        for (;;) {
            if (!found_.empty()) {
                auto name = *found_.begin();
                found_.erase(found_.begin());
                taken_.insert(name);
                co_return name;
            }
            auto scan = [spool = spool_] {
                std::set<std::string> out;
                std::error_code ec;
                for (const auto& entry : fs::directory_iterator(spool, ec)) {
                    auto name = entry.path().filename().string();
                    std::error_code type_ec;
                    if (!name.starts_with('.') && entry.is_regular_file(type_ec)) {
                        out.insert(std::move(name));
                    }
                }
                return out;
            };
            auto scanning = run_blocking(context().blocking, std::move(scan));
            auto names = co_await std::move(scanning);
            for (auto& n : names) {
                if (!taken_.count(n)) {
                    found_.insert(std::move(n));
                }
            }
            if (found_.empty()) {
                timer_.expires_after(poll_);
                co_await timer_.async_wait(net::use_awaitable);  // cancelled (it throws) when corrald stops
            }
        }
    }

    net::awaitable<void> consume(std::string name, std::size_t consumer) override {
        auto count = [from = fs::path(spool_) / name, done = fs::path(done_), name] {
            std::ifstream in(from, std::ios::binary);
            if (!in) {
                return fmt::format("cannot read {}", from.string());
            }
            std::size_t lines = 0, words = 0, bytes = 0;
            bool in_word = false;
            for (char c; in.get(c);) {
                ++bytes;
                lines += c == '\n';
                const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
                words += !space && !in_word;
                in_word = !space;
            }
            std::ofstream out(done / (name + ".count"));
            out << lines << ' ' << words << ' ' << bytes << '\n';
            std::error_code ec;
            fs::rename(from, done / name, ec);
            return ec ? fmt::format("cannot move {}: {}", from.string(), ec.message()) : std::string();
        };
        auto counting = run_blocking(context().blocking, std::move(count));
        auto outcome = co_await std::move(counting);
        taken_.erase(name);
        if (!outcome.empty()) {
            log(plugin::log_level::warn, outcome);
        } else {
            log(plugin::log_level::debug, fmt::format("worker {} counted {}", consumer, name));
        }
    }

    std::string spool_;
    std::string done_;
    std::chrono::milliseconds poll_;
    net::steady_timer timer_;
    std::set<std::string> found_;  ///< seen in the spool, not queued yet
    std::set<std::string> taken_;  ///< queued or being counted
};

std::unique_ptr<plugin::component> create(const plugin::component_context& context,
                                          plugin::component_options& o) {
    o.require("spool", "the directory files are dropped into");
    auto spool = o.string("spool", "");
    std::error_code ec;
    if (!spool.empty() && !fs::is_directory(spool, ec)) {
        o.problem("spool", fmt::format("'{}' is not a directory", spool));
    }
    auto done = o.string("done", spool.empty() ? "" : (fs::path(spool) / "done").string());
    auto consumers = o.integer("consumers", 2, 1, 64);
    auto queue = o.integer("queue", 16, 1, 100'000);
    auto poll = o.duration("poll", std::chrono::milliseconds(500));
    if (poll < std::chrono::milliseconds(10)) {
        o.problem("poll", "must be at least 10ms");
    }
    return std::make_unique<spool_worker>(context,
                                          std::move(spool),
                                          std::move(done),
                                          static_cast<std::size_t>(consumers),
                                          static_cast<std::size_t>(queue),
                                          poll);
}

}  // namespace

CORRAL_PLUGIN((corral::plugin::plugin_info{
    "spool-worker",
    "counts the lines, words and bytes of files dropped into a directory (the producer/consumer example)",
    "spool (required), done (default SPOOL/done), consumers (default 2), queue (default 16), poll (default "
    "500ms)",
    &create,
}))
