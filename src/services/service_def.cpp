#include "corral/services/service_def.hpp"

#include <map>
#include <set>

#include <fmt/format.h>

namespace corral::services {

std::string_view to_string(restart_policy p) {
    switch (p) {
        case restart_policy::never:
            return "never";
        case restart_policy::on_failure:
            return "on-failure";
        case restart_policy::always:
            return "always";
    }
    return "?";
}

std::string_view to_string(ready_check k) {
    switch (k) {
        case ready_check::started:
            return "started";
        case ready_check::socket:
            return "socket";
        case ready_check::port:
            return "port";
        case ready_check::line:
            return "line";
    }
    return "?";
}

namespace {

struct order_walk {
    const std::vector<service_def>& defs;
    std::map<std::string_view, std::size_t> index;
    std::vector<int> mark;  // 0 new, 1 on the path, 2 done
    std::vector<std::string_view> path;
    std::vector<std::size_t> order;
    std::vector<std::string> errors;

    void visit(std::size_t i) {
        if (mark[i] == 2) {
            return;
        }
        if (mark[i] == 1) {
            auto from = std::find(path.begin(), path.end(), defs[i].name);
            errors.push_back(fmt::format("services depend on each other in a cycle: {} -> {}",
                                         fmt::join(from, path.end(), " -> "), defs[i].name));
            return;
        }
        mark[i] = 1;
        path.push_back(defs[i].name);
        for (const auto& dep : defs[i].after) {
            if (auto it = index.find(dep); it != index.end()) {
                visit(it->second);
            }
        }
        path.pop_back();
        mark[i] = 2;
        order.push_back(i);
    }
};

}  // namespace

bool same_definition(const service_def& a, const service_def& b) {
    const auto& x = a.ready;
    const auto& y = b.ready;
    const auto pattern_text = [](const readiness& r) { return r.pattern ? r.pattern->text() : std::string(); };
    const auto same_backoff = a.backoff.initial == b.backoff.initial && a.backoff.max == b.backoff.max &&
                              a.backoff.factor == b.backoff.factor && a.backoff.jitter == b.backoff.jitter &&
                              a.backoff.give_up_after == b.backoff.give_up_after &&
                              a.backoff.reset_after == b.backoff.reset_after;
    const auto same_ready = x.kind == y.kind && x.socket == y.socket && x.host == y.host && x.port == y.port &&
                            pattern_text(x) == pattern_text(y) && x.timeout == y.timeout;
    return a.name == b.name && a.description == b.description && a.command == b.command && a.cwd == b.cwd &&
           a.env.inherit == b.env.inherit && a.env.changes == b.env.changes && a.stdin_pipe == b.stdin_pipe &&
           a.merge == b.merge && a.pty == b.pty && a.restart == b.restart && same_backoff && same_ready &&
           a.after == b.after && a.stop == b.stop && a.autostart == b.autostart;
}

result_info<std::vector<std::size_t>> start_order(const std::vector<service_def>& defs) {
    order_walk walk{defs, {}, std::vector<int>(defs.size(), 0), {}, {}, {}};
    for (std::size_t i = 0; i < defs.size(); ++i) {
        if (!walk.index.emplace(defs[i].name, i).second) {
            walk.errors.push_back(fmt::format("service '{}' is defined twice", defs[i].name));
        }
    }
    for (const auto& d : defs) {
        for (const auto& dep : d.after) {
            if (!walk.index.contains(dep)) {
                walk.errors.push_back(fmt::format("service '{}' comes after '{}', which is not a service", d.name, dep));
            }
        }
    }
    for (std::size_t i = 0; i < defs.size(); ++i) {
        walk.visit(i);
    }
    if (!walk.errors.empty()) {
        return error_info{make_error_code(errc::invalid_argument), fmt::format("{}", fmt::join(walk.errors, "\n"))};
    }
    return walk.order;
}

}  // namespace corral::services
