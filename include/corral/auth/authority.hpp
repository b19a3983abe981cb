#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/core/error_info.hpp"

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
    const role_policy* role = nullptr;
};

struct auth_options {
    /// Lines `USER:ROLE:sha256:HEX` (`corrald hash-token` makes the hash). Empty: no tokens, and only
    /// loopback and the Unix socket may be served.
    std::string tokens_file;
    /// Roles by name. Empty: the built-in `admin` and `user` roles (docs/config.md).
    std::map<std::string, role_policy, std::less<>> roles;
    /// The role of a Unix socket peer that shows no token (it is who its uid says it is).
    std::string local_role = "admin";
    /// The role of a request with no token; empty means such requests get 401.
    std::string anonymous_role;
};

/**
 * Knows the tokens (hashed: the file holds SHA-256 digests, never tokens) and the roles, and says who
 * a caller is. Every surface asks it once per request or connection, then checks the caller's role.
 *
 * @par Thread safety
 * Immutable after construction; safe to share.
 */
class authority {
  public:
    /// Without a tokens file every caller is `local` with every right (loopback and Unix socket only).
    authority();
    /// Reads the tokens file. Errors: errc::invalid_argument naming the file, line and problem, or
    /// a role that is named but not defined.
    static result_info<authority> create(auth_options options);

    /// True when a tokens file is configured.
    bool enabled() const { return enabled_; }
    /**
     * The caller: by `token` when given (an unknown token is errc::unauthenticated), else the Unix
     * socket peer `local_user` with the local role, else the anonymous role. Errors:
     * errc::unauthenticated when none applies.
     */
    result_info<identity> identify(std::optional<std::string_view> token,
                                   const std::optional<std::string>& local_user) const;
    const role_policy* role(std::string_view name) const;

  private:
    struct token_entry {
        std::string user;
        std::string role;
    };
    bool enabled_ = false;
    auth_options options_;
    std::map<std::string, token_entry, std::less<>> by_digest_;
};

/// `sha256:` and the hex SHA-256 digest of `token`: what a tokens file stores.
std::string hash_token(std::string_view token);

}  // namespace corral::auth
