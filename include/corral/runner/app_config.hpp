#pragma once
// What the registry knows about a named process (runner's config keys), and what a start may change.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "corral/proc/spawn_options.hpp"
#include "corral/proc/stop_plan.hpp"

namespace corral::runner {

/// How the registry talks to a process: runner's `type`.
enum class channel_type {
    stdio,   ///< the process's stdin and stdout, through pipes (stderr stays the caller's)
    socket,  ///< a Unix socket the process listens on (`app_options::socket`)
};

/// runner's config keys for one named process, and what it left out (env, timeouts, a stop plan).
struct app_options {
    channel_type type = channel_type::stdio;
    /// The Unix socket the process creates and listens on (channel_type::socket). A file already at
    /// that path is removed before the start, so a stale one from an earlier run is not connected to.
    std::string socket;
    /// How long to wait for the socket to accept; the start fails sooner if the process exits first.
    std::chrono::milliseconds socket_wait{10'000};
    /// Working directory; empty keeps the caller's.
    std::string cwd;
    proc::environment env;
    /// runner's `setpgrp`: the process gets a process group (and session) of its own, so a signal to
    /// the caller's group (Ctrl-C at its terminal) does not reach it. false, the seed's default,
    /// leaves it in the caller's group.
    bool setpgrp = false;
    /// runner's `buffering = "line"`: the channel returns one whole line per read().
    bool line_buffered = false;
    /// How terminate() stops it: TERM, 5 s, then KILL (runner waited for ever after TERM).
    proc::stop_plan stop;
};

/// One named process: its command (no shell) and options.
struct app_config {
    std::vector<std::string> command;
    app_options options;
};

/// What one start may override (runner's **kwargs); `type` is fixed by the config, as in the seed.
struct start_overrides {
    std::optional<std::string> socket;
    std::optional<std::string> cwd;
    std::optional<bool> setpgrp;
    std::optional<bool> line_buffered;
};

/// One start of a named process: under which alias (the app's name when empty), with which extra
/// arguments after its command, and with which overrides.
struct start_request {
    std::string alias;
    std::vector<std::string> with_args;
    start_overrides overrides;
};

}  // namespace corral::runner
