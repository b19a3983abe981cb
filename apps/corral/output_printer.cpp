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

// Keeps the log from dropping what has not been printed; released however the printer ends.
class scoped_hold {
  public:
    explicit scoped_hold(output::output_log& log) : log_(log), id_(log.add_hold(0)) {}
    ~scoped_hold() { log_.remove_hold(id_); }
    scoped_hold(const scoped_hold&) = delete;
    scoped_hold& operator=(const scoped_hold&) = delete;
    void move(std::uint64_t offset) { log_.move_hold(id_, offset); }

  private:
    output::output_log& log_;
    output::output_log::hold_id id_;
};

}  // namespace

net::awaitable<void> print_output(output::output_log& log, printer_options options) {
    scoped_hold hold(log);
    std::uint64_t cursor = 0;
    while (!(log.closed() && cursor >= log.end_offset())) {
        co_await log.wait_for(cursor);
        auto r = log.read(cursor);
        if (r.lost > 0) {
            std::fprintf(stderr,
                         "corral: %llu bytes of output were dropped (output cap)\n",
                         static_cast<unsigned long long>(r.lost));
        }
        for (const auto& rec : r.records) {
            if (!options.quiet) {
                const int fd = options.merged || rec.source == output::stream::out ? 1 : 2;
                if (!write_all(fd, rec.bytes) && fd == 1) {
                    options.quiet = true;  // keep draining so the job is never blocked by us
                    if (options.on_stdout_closed) {
                        options.on_stdout_closed();
                    }
                }
            }
            if (options.file >= 0) {
                write_all(options.file, rec.bytes);
            }
        }
        cursor = r.next;
        hold.move(cursor);
    }
}

}  // namespace corral::cli
