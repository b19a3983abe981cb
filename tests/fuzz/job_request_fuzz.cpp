// Every JSON body a client can send to submit work: a job (command or shell), a task or a sequence of
// tasks, through the same parser options the router uses. Errors are values; nothing may crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "corral/proc/signals.hpp"
#include "corral/proc/stop_plan.hpp"
#include "corral/services/job_request.hpp"
#include "corral/services/task_request.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto body = corral::fuzz::parse_json(data, size);
    if (!body) {
        // Strings that reach the kill route and the config as they are.
        (void)corral::proc::parse_signal(text);
        (void)corral::proc::stop_plan::parse(text);
        return 0;
    }
    static const auto& catalog = corral::fuzz::catalog();
    corral::jobs::job_spec defaults;
    corral::services::request_limits limits;
    if (corral::services::is_task_request(*body)) {
        (void)corral::services::parse_task_request(*body, catalog, defaults, limits);
    } else {
        (void)corral::services::parse_job_request(*body, defaults, limits);
    }
    return 0;
}
