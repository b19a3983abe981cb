#include "corral/proc/exit_status.hpp"

#include <csignal>

#include <fmt/format.h>

#include "corral/proc/signals.hpp"

namespace corral::proc {

exit_status exit_status::from_wait(int code, int status) {
    switch (code) {
        case CLD_KILLED:
            return signaled{status, false};
        case CLD_DUMPED:
            return signaled{status, true};
        default:
            return exited{status};
    }
}

int exit_status::shell_code() const {
    if (const auto* e = std::get_if<exited>(&state_)) {
        return e->code;
    }
    return 128 + std::get<signaled>(state_).signal;
}

std::string exit_status::describe() const {
    if (const auto* e = std::get_if<exited>(&state_)) {
        return fmt::format("exited with code {}", e->code);
    }
    const auto& s = std::get<signaled>(state_);
    return fmt::format("killed by signal {}{}", signal_name(s.signal), s.core_dumped ? " (core dumped)" : "");
}

}  // namespace corral::proc
