#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "corral/output/output_log.hpp"

namespace corral::output {

/**
 * Complete lines of a log, in the order their newlines arrived: acons's `flush_console_lines`, done
 * right. Each take() returns the lines completed since the previous call, never repeats one, and holds
 * a partial line until its newline comes or the log is closed (then it is returned as the last line).
 * stdout and stderr keep separate partial lines, so interleaved streams never splice.
 *
 * Lines end at '\n'; a '\r' before it is removed ("\r\n" endings). A lone '\r' stays in the line.
 * A line longer than `max_line` is returned in pieces of that size, so memory stays bounded.
 * When output was dropped before the view read it, a marker line says how many bytes were lost.
 */
class line_view {
  public:
    struct options {
        bool strip_ansi = false;
        std::size_t max_line = 1 << 20;
    };

    explicit line_view(const output_log& log) : line_view(log, options{}) {}
    line_view(const output_log& log, options opts) : log_(&log), options_(opts) {}

    /// The lines completed since the last call, reading at most about `max_bytes` of the log (the
    /// rest waits for the next call), so one call's reply stays bounded however far behind it is.
    std::vector<std::string> take(std::size_t max_bytes = SIZE_MAX);
    /// take(), reading what is on file on the log's file executor (output_log::read_async()). The log
    /// must outlive the call: pin its job.
    net::awaitable<std::vector<std::string>> take_async(std::size_t max_bytes = SIZE_MAX);
    /// True when the log is closed and every line has been taken.
    bool finished() const;
    std::uint64_t cursor() const { return cursor_; }

  private:
    void add(std::vector<std::string>& out, std::string line) const;
    bool more(std::size_t budget) const;
    /// Splits one read into lines; false when it brought nothing (nothing more to read now).
    bool consume(const read_result& r, std::size_t& budget, std::vector<std::string>& lines);
    /// At the end of the log, the partial lines are lines.
    void end_lines(std::vector<std::string>& lines);

    const output_log* log_;
    options options_;
    std::uint64_t cursor_ = 0;
    std::array<std::string, 3> partial_;  // indexed by stream
};

}  // namespace corral::output
