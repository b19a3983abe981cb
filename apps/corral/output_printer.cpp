#include "output_printer.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

namespace corral::cli {
namespace {

// Blocking writes on purpose: a terminal that cannot keep up should slow the job, not lose output.
bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

net::awaitable<printer_result> print_output(output::output_log& log, printer_options options) {
    printer_result result;
    auto hold = log.add_hold(0);
    std::uint64_t cursor = 0;
    while (!(log.closed() && cursor >= log.end_offset())) {
        co_await log.wait_for(cursor);
        auto r = log.read(cursor);
        if (r.lost > 0) {
            std::fprintf(stderr, "corral: %llu bytes of output were dropped (output cap)\n",
                         static_cast<unsigned long long>(r.lost));
        }
        for (const auto& rec : r.records) {
            if (!options.quiet && !result.stdout_closed) {
                const int fd = options.merged || rec.source == output::stream::out ? 1 : 2;
                if (!write_all(fd, rec.bytes) && fd == 1) {
                    result.stdout_closed = true;
                    co_return result;  // the caller stops the job
                }
            }
            if (options.file >= 0) {
                write_all(options.file, rec.bytes);
            }
        }
        cursor = r.next;
        log.move_hold(hold, cursor);
    }
    log.remove_hold(hold);
    co_return result;
}

}  // namespace corral::cli
