#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/auth/identity.hpp"
#include "corral/core/error_info.hpp"

namespace corral::auth {

struct auth_options {
    /// Lines `USER:ROLE:sha256:HEX` (`corrald hash-token` makes the hash). Empty: only the admin token.
    std::string tokens_file;
    /// Roles by name. Empty: the built-in `admin` and `user` roles (docs/config.md).
    std::map<std::string, role_policy, std::less<>> roles;
    /// The role of a Unix socket peer that shows no token (it is who its uid says it is).
    std::string local_role = "admin";
    /// The role of a TCP request with no token; empty (the default) means such requests get 401.
    std::string anonymous_role;
};

/// The admin token's file in a state directory: `<state_dir>/admin.token`.
std::string admin_token_path(const std::string& state_dir);
/**
 * The token in `path`, made first (32 random bytes as hex, a file of mode 0600 written whole and
 * renamed into place) when there is none or when `rotate`. Errors: the system's, with a message naming
 * the file.
 */
result_info<std::string> ensure_admin_token(const std::string& path, bool rotate = false);

/**
 * Knows the tokens (hashed: the file holds SHA-256 digests, never tokens) and the roles, and says who
 * a caller is. Every surface asks it once per request or connection, then checks the caller's role.
 *
 * Nobody is trusted for being on loopback: a TCP caller shows a token (the admin token corrald makes
 * in its state directory, or one from the tokens file) unless `anonymous_role` is set. A Unix socket
 * peer is who its uid says, with `local_role`.
 *
 * @par Thread safety
 * Not thread-safe: the admin token is re-read when its file changes (`corrald token --rotate`), on the
 * thread that asks.
 */
class authority {
  public:
    /// The built-in roles, no tokens file, no admin token: TCP callers get 401, socket peers are admins.
    authority();
    /// Reads the tokens file. Errors: errc::invalid_argument naming the file, line and problem, or
    /// a role that is named but not defined (an empty local_role included).
    static result_info<authority> create(auth_options options);

    /**
     * Accepts the token in `path` (see ensure_admin_token) as `user` with every right. The file is
     * looked at again when a token is shown and it has changed, so a rotation takes effect at once.
     * Errors: the system's when it cannot be read, errc::invalid_argument when it holds no token.
     */
    result_info<void> use_admin_token(std::string path, std::string user);

    /**
     * The caller: by `token` when given (an unknown token is errc::unauthenticated), else the Unix
     * socket peer `local_user` with the local role, else the anonymous role. Errors:
     * errc::unauthenticated when none applies.
     */
    result_info<identity> identify(std::optional<std::string_view> token,
                                   const std::optional<std::string>& local_user) const;
    /// The role `name`, or null. Shared: a caller keeps the role it was identified with across reloads.
    std::shared_ptr<const role_policy> role(std::string_view name) const;
    const auth_options& options() const { return options_; }
    /// Where the admin token is read from; empty when there is none.
    const std::string& admin_token_file() const { return admin_.path; }

  private:
    struct token_entry {
        std::string user;
        std::string role;
    };
    struct admin_token {
        std::string path;
        std::string user;
        std::string digest;
        /// What the file looked like when read: (device, inode, size, mtime in ns).
        std::array<std::int64_t, 4> seen{};
    };
    void refresh_admin_token() const;
    void share_roles();

    auth_options options_;
    std::map<std::string, std::shared_ptr<const role_policy>, std::less<>> roles_;
    std::map<std::string, token_entry, std::less<>> by_digest_;
    mutable admin_token admin_;
};

/// `sha256:` and the hex SHA-256 digest of `token`: what a tokens file stores.
std::string hash_token(std::string_view token);

}  // namespace corral::auth
