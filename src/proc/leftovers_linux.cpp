#include "corral/proc/leftovers.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "proc_table_linux.hpp"

namespace corral::proc {
namespace {

using std::chrono::system_clock;

std::optional<long long> boot_time_seconds() {
    std::ifstream in("/proc/stat");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("btime ", 0) == 0) {
            return std::stoll(line.substr(6));
        }
    }
    return std::nullopt;
}

// When the process started, from field 22 of /proc/<pid>/stat (clock ticks after boot).
std::optional<system_clock::time_point> start_time(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
    auto boot = boot_time_seconds();
    if (close == std::string::npos || !boot) {
        return std::nullopt;
    }
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
        if (i == 22) {
            const double ticks = std::stod(field);
            const double seconds =
                static_cast<double>(*boot) + ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
            return system_clock::time_point(
                std::chrono::duration_cast<system_clock::duration>(std::chrono::duration<double>(seconds)));
        }
    }
    return std::nullopt;
}

}  // namespace

std::size_t kill_leftover_tree(pid_t leader, system_clock::time_point started) {
    if (leader <= 1) {
        return 0;
    }
    auto began = start_time(leader);
    if (!began) {
        return 0;  // gone (or unreadable): nothing we can tell apart from a stranger's process
    }
    const auto skew = began > started ? *began - started : started - *began;
    if (skew > std::chrono::seconds(3)) {
        return 0;  // the pid was reused
    }
    std::size_t killed = 0;
    for (const auto& p : read_proc_table()) {
        if ((p.session == leader || p.pgrp == leader) && p.state != 'Z' && ::kill(p.pid, SIGKILL) == 0) {
            ++killed;
        }
    }
    return killed;
}

}  // namespace corral::proc
