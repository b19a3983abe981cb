// A job's output as the line view (acons's flush, whole lines) reads it: arbitrary bytes on two
// streams, in arbitrary pieces, with a memory limit small enough that old output is dropped, read a
// few hundred bytes per take(). Every byte ends in a line or a "dropped" marker; nothing crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "corral/output/line_view.hpp"
#include "corral/output/output_log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    static boost::asio::io_context io;
    corral::output::log_options options;
    options.memory_limit = 64 * 1024;
    options.cap = data[0] % 2 ? 0 : 96 * 1024;
    auto log = corral::output::output_log::create(io.get_executor(), options);
    if (!log) {
        return 0;
    }
    corral::output::line_view view(**log, {.strip_ansi = (data[1] & 1) != 0, .max_line = 512});
    const std::size_t budget = 64 + data[1] * 4;
    std::size_t lines = 0;
    // Pieces: a length byte (stream in its top bit) and that many bytes, repeated; some takes between.
    for (std::size_t at = 2; at < size;) {
        const auto head = data[at++];
        const std::size_t n = std::min<std::size_t>(head & 0x7f, size - at);
        const auto source = head & 0x80 ? corral::output::stream::err : corral::output::stream::out;
        (*log)->append(source, std::string_view(reinterpret_cast<const char*>(data) + at, n));
        at += n;
        if (head % 3 == 0) {
            lines += view.take(budget).size();
        }
    }
    (*log)->close();
    for (int i = 0; i < 100000 && !view.finished(); ++i) {
        lines += view.take(budget).size();
    }
    if (!view.finished()) {
        __builtin_trap();  // a closed log is always read to its end
    }
    return static_cast<int>(lines * 0);
}
