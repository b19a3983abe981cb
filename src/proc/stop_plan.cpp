#include "corral/proc/stop_plan.hpp"

#include <csignal>

#include <fmt/format.h>

#include "corral/core/parse.hpp"
#include "corral/proc/signals.hpp"

namespace corral::proc {

stop_plan::stop_plan() : stop_plan({{SIGTERM, default_grace}}) {}

stop_plan::stop_plan(std::vector<stop_step> steps) : steps_(std::move(steps)) {
    if (steps_.empty() || steps_.back().signal != SIGKILL) {
        steps_.push_back({SIGKILL, kill_grace});
    }
}

stop_plan stop_plan::kill_now() {
    return stop_plan({{SIGKILL, kill_grace}});
}

result_info<stop_plan> stop_plan::parse(std::string_view text) {
    std::vector<stop_step> steps;
    auto fail = [&](const std::string& why) {
        return error_info{make_error_code(errc::invalid_argument),
                          fmt::format("stop plan '{}': {}", text, why)};
    };
    std::string_view rest = text;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (item.empty()) {
            return fail("empty step");
        }
        auto colon = item.find(':');
        auto signal = parse_signal(item.substr(0, colon));
        if (!signal) {
            return fail(signal.error().message);
        }
        std::chrono::milliseconds grace = *signal == SIGKILL ? kill_grace : default_grace;
        if (colon != std::string_view::npos) {
            auto d = parse_duration(item.substr(colon + 1));
            if (!d) {
                return fail(d.error().message);
            }
            grace = *d;
        }
        steps.push_back({*signal, grace});
        if (steps.size() > 16) {
            return fail("more than 16 steps");
        }
    }
    if (steps.empty()) {
        return fail("no steps (example: TERM:5s,KILL)");
    }
    return stop_plan(std::move(steps));
}

std::string stop_plan::to_string() const {
    std::string out;
    for (const auto& s : steps_) {
        if (!out.empty()) {
            out += ',';
        }
        out += fmt::format("{}:{}", signal_name(s.signal), format_duration(s.grace));
    }
    return out;
}

}  // namespace corral::proc
