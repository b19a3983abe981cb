#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "corral/core/error_info.hpp"

namespace corral::proc {

/// One step of a stop plan: send `signal` to the whole tree, then wait up to `grace` for it to be gone.
struct stop_step {
    int signal;
    std::chrono::milliseconds grace;
    friend bool operator==(const stop_step&, const stop_step&) = default;
};

/**
 * How to stop a process tree, as data (reproc's stop actions): a list of (signal, grace) steps that
 * always ends in SIGKILL. Stopping walks the steps until the tree is gone.
 *
 * Text form, as used on the command line and in config: `TERM:5s,KILL` or `INT:2s,TERM:5s,KILL:1s`.
 * A step without a grace gets `default_grace` (SIGKILL: `kill_grace`). A plan that does not end in
 * KILL has `KILL` appended, so a stop always finishes.
 */
class stop_plan {
  public:
    static constexpr std::chrono::milliseconds default_grace{5000};
    /// How long to wait for the kernel to finish tearing a tree down after SIGKILL.
    static constexpr std::chrono::milliseconds kill_grace{2000};

    /// TERM, 5 s, then KILL.
    stop_plan();
    /// Builds a plan from steps; appends KILL when the last step is not KILL.
    explicit stop_plan(std::vector<stop_step> steps);

    static result_info<stop_plan> parse(std::string_view text);
    /// A plan that sends KILL at once.
    static stop_plan kill_now();

    const std::vector<stop_step>& steps() const { return steps_; }
    /// Text form that parse() reads back to the same plan.
    std::string to_string() const;

    friend bool operator==(const stop_plan&, const stop_plan&) = default;

  private:
    std::vector<stop_step> steps_;
};

}  // namespace corral::proc
