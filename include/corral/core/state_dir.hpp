#pragma once

#include <string>

namespace corral {

/// corrald's state directory by default: `$XDG_STATE_HOME/corral`, `~/.local/state/corral`, or
/// `/var/lib/corral` for root. The CLI finds the daemon's socket through the same rule.
std::string default_state_dir();
/// `<state dir>/corral.sock`: where corrald listens for the CLI by default.
std::string default_socket_path(const std::string& state_dir);

}  // namespace corral
