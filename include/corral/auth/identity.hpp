#pragma once
// Who is calling, and what their role allows: what the job service is told with every call. The
// rest of auth (tokens, the roles' configuration: authority.hpp) belongs to the daemon; this part is
// in libcorral, so the service checks rights itself (services/job_access.hpp).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corral::auth {

/// What a role may do (`[auth.roles.NAME]`; docs/config.md).
struct role_policy {
    std::string name;
    /// Its jobs' queue priority (lower runs first).
    int priority = 4;
    /// May give its jobs another priority.
    bool set_priority = false;
    /// Tasks it may run, by name; "*" means every task.
    std::vector<std::string> tasks;
    /// May run ad-hoc commands (argv or shell), including acons's os_run.
    bool commands = false;
    /// May see, follow and read other users' jobs.
    bool see_all = false;
    /// May kill other users' jobs and write to their stdin.
    bool kill_all = false;
    /// May drain and resume the queue; implies every other right.
    bool admin = false;

    bool may_run_task(std::string_view task) const;
};

/// Who is calling: the user a token or a Unix socket peer stands for, and their role.
struct identity {
    std::string user;
    /// Shared with the authority: a connection keeps the role it was identified with, even after a
    /// reload (SIGHUP) changes or removes it; new requests and connections get the new one.
    std::shared_ptr<const role_policy> role;
    std::string_view role_name() const { return role ? std::string_view(role->name) : std::string_view(); }
};

}  // namespace corral::auth
