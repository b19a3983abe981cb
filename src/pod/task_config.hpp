#pragma once

// The [[task]] and [auth] sections of corrald's config (docs/config.md).

#include <string>
#include <vector>

#include "corral/auth/authority.hpp"
#include "corral/tasks/task_def.hpp"
#include "pod/config_section.hpp"

namespace corral::pod {

/// Every [[task]]; problems are added to `p` with their key paths.
std::vector<tasks::task_def> read_tasks(toml::table& root, problems& p);
/// [auth]; a relative tokens_file is taken from `config_dir`.
auth::auth_options read_auth(toml::table& root, const std::string& config_dir, problems& p);

}  // namespace corral::pod
