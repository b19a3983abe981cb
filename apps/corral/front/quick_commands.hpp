#pragma once

#include <optional>
#include <span>
#include <string>

namespace corral::cli::front {

/// What the front knows before it looks at the arguments.
struct quick_settings {
    std::string socket;  ///< $CORRAL_SOCKET, else the default socket
    std::string token;   ///< $CORRAL_TOKEN (may be empty)
};

/**
 * Runs the one-shot commands scripts call once per job, in the forms they call them:
 *
 *     corral [--socket PATH] kill ID...
 *     corral [--socket PATH] submit [--] COMMAND [ARG]...
 *     corral [--socket PATH] show (--field NAME | --json) ID
 *
 * printing what the full client prints and exiting as it exits. Anything else (another command,
 * another option, a URL, --help, an argument that is not a job id) returns nothing, and so does a
 * daemon that cannot be reached before anything was sent: the full client then runs the command and
 * explains what went wrong.
 */
std::optional<int> run_quick_command(std::span<char* const> args, const quick_settings& settings);

}  // namespace corral::cli::front
