// Also compiled into the CLI's front (apps/corral/front), which links nothing else of libcorral.
#include "corral/core/state_dir.hpp"

#include <unistd.h>

#include <cstdlib>

namespace corral {

std::string default_state_dir() {
    if (::geteuid() == 0) {
        return "/var/lib/corral";
    }
    if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) {
        return std::string(xdg) + "/corral";
    }
    if (const char* home = std::getenv("HOME"); home && *home) {
        return std::string(home) + "/.local/state/corral";
    }
    return "/tmp/corral-" + std::to_string(::geteuid());
}

std::string default_socket_path(const std::string& state_dir) {
    return state_dir + "/corral.sock";
}

}  // namespace corral
