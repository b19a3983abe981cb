#pragma once
// The console's lines over a byte stream: a connection of a [[console]] listener, or corrald's own
// stdin and stdout.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "corral/console/interpreter.hpp"
#include "corral/net/byte_stream.hpp"

namespace corral::console {

/// A console_io over a byte stream: lines split at '\n', each at most `max_line` bytes.
class stream_io final : public console_io {
  public:
    stream_io(sockets::byte_stream& stream, std::size_t max_line) : stream_(stream), max_line_(max_line) {}
    net::awaitable<std::optional<std::string>> read_line() override;
    net::awaitable<bool> write(std::string text) override;

  private:
    sockets::byte_stream& stream_;
    std::size_t max_line_;
    std::string buffer_;
    bool dropping_ = false;  ///< inside a line that was too long, until its '\n'
};

/// A byte stream over two descriptors this process already has (its stdin and stdout, for
/// `corrald run --console`). Not owned: they stay open.
std::unique_ptr<sockets::byte_stream> stdio_stream(net::any_io_executor executor, int in, int out);

}  // namespace corral::console
