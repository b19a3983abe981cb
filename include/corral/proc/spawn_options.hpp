#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace corral::proc {

/// Where the child's standard input comes from.
enum class input_mode {
    none,  ///< /dev/null
    pipe,  ///< a pipe the parent can write to and close later (child::stdin_pipe)
    file,  ///< a file opened for reading (spawn_options::stdin_file)
    inherit,  ///< the parent's own stdin (a library's helper process reading the same terminal)
};

/// How stdout and stderr reach the parent.
enum class output_mode {
    separate,  ///< two pipes; every chunk is tagged with its stream
    merged,    ///< one pipe for both, so chunks keep their exact arrival order
    stdout_only,  ///< stdout through a pipe; stderr is the parent's own (runner's stdio processes)
    inherit,      ///< both are the parent's own: nothing to read (runner's socket processes)
};

/// Per-job resource limits, applied with setrlimit() in the child before exec. Unset means inherited.
struct resource_limits {
    std::optional<std::uint64_t> cpu_seconds;    ///< RLIMIT_CPU: SIGXCPU, then SIGKILL
    std::optional<std::uint64_t> address_space;  ///< RLIMIT_AS in bytes
    std::optional<std::uint64_t> open_files;     ///< RLIMIT_NOFILE
    std::optional<std::uint64_t> processes;      ///< RLIMIT_NPROC (per user; root is exempt)
};

/// The child's environment: the parent's (when `inherit`) with `changes` applied in order;
/// a change with no value removes the variable.
struct environment {
    bool inherit = true;
    std::vector<std::pair<std::string, std::optional<std::string>>> changes;

    environment& set(std::string name, std::string value) {
        changes.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    environment& unset(std::string name) {
        changes.emplace_back(std::move(name), std::nullopt);
        return *this;
    }
};

/// Terminal size for PTY mode.
struct terminal_size {
    unsigned short rows = 24;
    unsigned short columns = 80;
};

/// Everything needed to start one child. One aggregate instead of overloads (research/aesthetics.md §10.16).
struct spawn_options {
    /// Program and arguments. argv[0] is looked up in the child's PATH when it has no '/'. No shell.
    std::vector<std::string> argv;
    /// When set, runs `/bin/sh -c shell_command` instead of argv (only when explicitly asked).
    std::optional<std::string> shell_command;
    /// Working directory of the child; empty keeps the parent's. The parent never chdir()s.
    std::string cwd;
    environment env;
    input_mode input = input_mode::none;
    /// The file to read when input == input_mode::file.
    std::string stdin_file;
    output_mode output = output_mode::separate;
    /// Run on a pseudo-terminal so programs that check isatty() keep their colours. stdout and stderr
    /// are then one stream; stdin comes from the terminal when input == pipe.
    bool pty = false;
    terminal_size pty_size;
    resource_limits limits;
    /// The child starts its own session and process group (the default), so a signal to the
    /// parent's group (Ctrl-C at its terminal) does not reach it. false keeps it in the parent's
    /// session and group; its tree is then its descendants (and, in cgroup mode, its cgroup), never
    /// the parent's group. Not with a PTY, which needs a session of its own.
    bool new_session = true;
};

}  // namespace corral::proc
