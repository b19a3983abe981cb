#pragma once

// The [[task]] and [auth] sections of corrald's config (docs/config.md).

#include <string>
#include <vector>

#include "corral/auth/authority.hpp"
#include "corral/tasks/task_def.hpp"
#include "pod/config_section.hpp"

namespace corral::pod {

/// A TOML value as JSON (tables, arrays and scalars), for readers shared with the REST API.
boost::json::value json_of(const toml::node& n);
/// `retry = {...}` and `on_finish = {...}` through the same readers as a request's (jobs/workflow_json).
std::string read_retry(const toml::node& n, std::optional<jobs::retry_policy>& out);
std::string read_hook(const toml::node& n, jobs::finish_hook& out);

/// Every [[task]]; problems are added to `p` with their key paths.
std::vector<tasks::task_def> read_tasks(toml::table& root, problems& p);
/// [auth]; a relative tokens_file is taken from `config_dir`.
auth::auth_options read_auth(toml::table& root, const std::string& config_dir, problems& p);

}  // namespace corral::pod
