// A task's arguments from a client: validated against their declared types and turned into argv by
// the task's template. Refusals are values; nothing may crash, and argv never gets an unchecked value.
#include <cstddef>
#include <cstdint>

#include "corral/tasks/task_catalog.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto args = corral::fuzz::parse_json(data, size);
    if (!args || !args->is_object()) {
        return 0;
    }
    static const auto& catalog = corral::fuzz::catalog();
    for (const auto& task : catalog.all()) {
        auto valid = corral::tasks::task_catalog::validate(task, args->get_object());
        if (valid) {
            auto argv = corral::tasks::task_catalog::expand(task, *valid);
            if (!task.multi_step() && argv.empty()) {
                __builtin_trap();  // a single-step task always has a program to run
            }
        }
    }
    return 0;
}
