#pragma once

#include "corral/core/asio.hpp"
#include "corral/output/output_log.hpp"

namespace corral::cli {

struct printer_options {
    bool quiet = false;  ///< print nothing on the terminal
    bool merged = false; ///< everything to stdout
    int file = -1;       ///< also write every byte here
};

/// What the printer saw.
struct printer_result {
    bool stdout_closed = false;  ///< stdout went away (EPIPE): the job should be stopped
};

/**
 * Follows a log from its start to its close and writes it out. It holds the log (output_log holds) so
 * nothing is dropped before it is printed: a slow terminal slows the job through its pipe instead.
 */
net::awaitable<printer_result> print_output(output::output_log& log, printer_options options);

}  // namespace corral::cli
