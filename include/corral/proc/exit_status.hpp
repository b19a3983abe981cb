#pragma once

#include <string>
#include <variant>

namespace corral::proc {

/// The child called exit(code) or returned from main.
struct exited {
    int code;
    friend bool operator==(const exited&, const exited&) = default;
};

/// The child was ended by a signal.
struct signaled {
    int signal;
    bool core_dumped = false;
    friend bool operator==(const signaled&, const signaled&) = default;
};

/// How a child ended. Data, never an error: a failing job is a state, not an exception.
class exit_status {
  public:
    /// exited(0); exists because co_spawn needs default-constructible results.
    exit_status() : state_(exited{0}) {}
    exit_status(exited e) : state_(e) {}
    exit_status(signaled s) : state_(s) {}

    /// Decodes waitid()'s si_code/si_status pair.
    static exit_status from_wait(int code, int status);

    bool success() const {
        return std::holds_alternative<exited>(state_) && std::get<exited>(state_).code == 0;
    }
    bool is_signaled() const { return std::holds_alternative<signaled>(state_); }
    const std::variant<exited, signaled>& state() const { return state_; }

    /// The status a shell would report: the exit code, or 128 + signal.
    int shell_code() const;

    /// "exited with code 3", "killed by signal TERM", "killed by signal SEGV (core dumped)".
    std::string describe() const;

    friend bool operator==(const exit_status&, const exit_status&) = default;

  private:
    std::variant<exited, signaled> state_;
};

}  // namespace corral::proc
