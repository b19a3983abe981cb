#pragma once
// `corral tasks`, `corral queue` and `corral audit`: what corrald offers, what waits, who did what.

#include <cstddef>
#include <cstdint>
#include <string>

#include "client/api_client.hpp"

namespace corral::cli {

/// The predefined tasks and their arguments (`--json`: as the API gives them; `--names`: names only).
net::awaitable<int> list_tasks(api_client& c, bool as_json, bool names_only);
/// The queue: slots, groups and the waiting jobs in the order they will start. `action` is empty,
/// "drain" or "resume" (admin).
net::awaitable<int> show_queue(api_client& c, const std::string& action, bool as_json);
/// The newest `last` audit entries (about `job` when it is not 0), oldest first (admin).
net::awaitable<int> show_audit(api_client& c, std::uint64_t job, std::size_t last, bool as_json);

}  // namespace corral::cli
