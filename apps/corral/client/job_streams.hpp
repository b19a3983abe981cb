#pragma once
// A job's output and input from the command line, for `corral tail` / `stdin` and `corral svc`.

#include <cstdint>
#include <string>
#include <vector>

#include "client/api_client.hpp"

namespace corral::cli {

/// Follows a job's output from `from` until it ends (or, without `follow`, until what there is now).
net::awaitable<void> follow_output(api_client& c, std::uint64_t id, std::uint64_t from, bool follow);

/// POSTs to `target` (a job's or a service's stdin route): `words` joined by spaces as one line, or,
/// without words, everything on our own stdin as it comes; then closes it when `close`.
net::awaitable<void> write_input(api_client& c, const std::string& target, const std::vector<std::string>& words, bool close);

}  // namespace corral::cli
