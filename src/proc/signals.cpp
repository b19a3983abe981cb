#include "corral/proc/signals.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <csignal>
#include <utility>

#include <fmt/format.h>

namespace corral::proc {
namespace {

constexpr std::array<std::pair<std::string_view, int>, 31> names{{
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},   {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"CHLD", SIGCHLD},     {"CONT", SIGCONT},   {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},     {"URG", SIGURG},     {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"PWR", SIGPWR},   {"SYS", SIGSYS},
    {"STKFLT", SIGSTKFLT},
}};

}  // namespace

result_info<int> parse_signal(std::string_view text) {
    std::string upper;
    for (char c : text) {
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    std::string_view name = upper;
    if (name.starts_with("SIG")) {
        name.remove_prefix(3);
    }
    int number = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
    if (!name.empty() && ec == std::errc{} && end == name.data() + name.size()) {
        if (number > 0 && number < NSIG) {
            return number;
        }
    } else {
        auto it = std::find_if(names.begin(), names.end(), [&](const auto& p) { return p.first == name; });
        if (it != names.end()) {
            return it->second;
        }
    }
    return error_info{make_error_code(errc::invalid_argument),
                      fmt::format("unknown signal '{}' (use a name such as TERM or a number)", text)};
}

std::string signal_name(int signal) {
    auto it = std::find_if(names.begin(), names.end(), [&](const auto& p) { return p.second == signal; });
    return it != names.end() ? std::string(it->first) : std::to_string(signal);
}

}  // namespace corral::proc
