#include "pod/schedule_config.hpp"

#include <set>

#include <fmt/format.h>

#include "pod/task_config.hpp"

namespace corral::pod {

std::vector<services::schedule_def> read_schedules(toml::table& root, problems& p) {
    std::vector<services::schedule_def> out;
    auto* list = root["schedule"].as_array();
    if (!list) {
        if (root.contains("schedule"))
            p.add(root["schedule"].node()->source(), "schedule", "expected [[schedule]] tables");
        return out;
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto path = fmt::format("schedule[{}]", i + 1);
        const auto* table = (*list)[i].as_table();
        if (!table) {
            p.add((*list)[i].source(), path, "expected a table");
            continue;
        }
        auto def = services::schedule_from_json(json_of(*table));
        if (!def) {
            p.add(table->source(), path, def.error().what());
            continue;
        }
        if (!names.insert(def->name).second) {
            p.add(table->source(), path + ".name", fmt::format("'{}' names another schedule too", def->name));
            continue;
        }
        out.push_back(std::move(*def));
    }
    return out;
}

}  // namespace corral::pod
