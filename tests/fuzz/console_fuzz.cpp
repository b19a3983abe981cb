// The operator console reading arbitrary bytes as its input: lines of any length (the limit drops the
// long ones), shell quoting gone wrong, continuation lines, options and arguments the parsers refuse,
// `-h` and `exit` anywhere. Every session ends, nothing crashes, and the output always starts with the
// banner.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "corral/console/interpreter.hpp"
#include "corral/console/stream_io.hpp"

namespace {

using namespace corral;

/// Input from the fuzzer in pieces of up to 37 bytes; output kept.
class memory_stream final : public sockets::byte_stream {
  public:
    explicit memory_stream(std::string_view in) : in_(in) {}
    net::awaitable<std::size_t> read_some(std::span<char> into) override {
        const auto n = std::min({into.size(), in_.size(), std::size_t{37}});
        std::copy_n(in_.data(), n, into.data());
        in_.remove_prefix(n);
        co_return n;
    }
    net::awaitable<bool> write(std::string_view bytes) override {
        out.append(bytes);
        co_return true;
    }
    net::awaitable<void> shutdown() override { co_return; }
    std::string out;

  private:
    std::string_view in_;
};

const console::interpreter& commands() {
    static const auto in = [] {
        auto made = std::make_unique<console::interpreter>();
        auto& i = *made;
        console::arg_parser p("job", "A command with every kind of argument.");
        p.option({"--state", "-s"}, "a choice", {}, {"queued", "running"});
        p.option({"--last", "-n"}, "a number", "20", {}, true);
        p.flag({"--json"}, "a switch");
        p.positional("id", "one number", console::nargs::one, true);
        p.positional("rest", "any words", console::nargs::any);
        i.add({std::move(p), [](const console::parsed_args& a, console::session&) -> net::awaitable<std::optional<std::string>> {
                   co_return a.value("id").value_or("") + " " + std::to_string(a.words("rest").size());
               }});
        return made;
    }();
    return *in;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static net::io_context io;
    memory_stream stream(std::string_view(reinterpret_cast<const char*>(data), size));
    console::stream_io lines(stream, 256);
    console::session s{{"fuzzer", std::make_shared<const auth::role_policy>(auth::role_policy{.name = "admin", .admin = true})},
                       lines,
                       {}};
    bool done = false;
    net::co_spawn(io, commands().interact(s), [&](std::exception_ptr e) {
        if (e) {
            std::abort();  // a session must end by itself, whatever it was sent
        }
        done = true;
    });
    io.restart();
    io.run();
    if (!done || !stream.out.starts_with("Welcome to the CLI interface of corral!\n")) {
        std::abort();
    }
    return 0;
}
