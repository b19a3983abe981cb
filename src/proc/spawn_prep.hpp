#pragma once
// Parent-side preparation for a spawn: everything that may allocate or fail with a clear message
// happens here, before the child exists.

#include <array>
#include <string>
#include <vector>

#include "corral/core/error_info.hpp"
#include "corral/proc/spawn_options.hpp"
#include "unique_fd.hpp"

namespace corral::proc {

/// argv to exec: the options' argv, or /bin/sh -c for a shell command.
result_info<std::vector<std::string>> build_argv(const spawn_options& options);

/// "NAME=value" entries: the parent's environment (if inherited) with the changes applied in order.
std::vector<std::string> build_environment(const environment& env);

/// The executable for argv[0]: as given when it contains '/', else the first executable regular file in
/// the PATH of `env` (or /usr/local/bin:/usr/bin:/bin when it has none). Errors: executable_not_found.
result_info<std::string> find_program(const std::string& name,
                                      const std::vector<std::string>& env,
                                      const std::string& cwd);

/// The descriptors for one spawn: the child's 0/1/2 and the parent's ends.
struct stdio_fds {
    std::array<int, 3> child{-1, -1, -1};
    std::vector<unique_fd> child_owned;  ///< closed in the parent after the spawn
    unique_fd stdin_write;
    unique_fd stdout_read;
    unique_fd stderr_read;
    bool pty = false;
};

/// Pipes, /dev/null, the stdin file or a PTY, per the options. Errors name the file and reason.
result_info<stdio_fds> make_stdio(const spawn_options& options);

}  // namespace corral::proc
