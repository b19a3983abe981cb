#pragma once

#include <functional>

#include "corral/core/asio.hpp"
#include "corral/output/output_log.hpp"

namespace corral::cli {

struct printer_options {
    bool quiet = false;   ///< print nothing on the terminal
    bool merged = false;  ///< everything to stdout
    int file = -1;        ///< also write every byte here
    /// Called once when stdout goes away (EPIPE); the printer goes on draining the log quietly.
    std::function<void()> on_stdout_closed;
};

/**
 * Follows a log from its start to its close and writes it out. It holds the log (output_log holds) so
 * nothing is dropped before it is printed: a slow terminal slows the job through its pipe instead.
 */
net::awaitable<void> print_output(output::output_log& log, printer_options options);

}  // namespace corral::cli
