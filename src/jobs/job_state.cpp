#include "corral/jobs/job_state.hpp"

#include <array>
#include <utility>

#include "corral/jobs/job.hpp"

namespace corral::jobs {
namespace {

constexpr std::array<std::pair<job_state, std::string_view>, 9> names{{
    {job_state::queued, "queued"},
    {job_state::running, "running"},
    {job_state::succeeded, "succeeded"},
    {job_state::failed, "failed"},
    {job_state::killed, "killed"},
    {job_state::timed_out, "timed_out"},
    {job_state::lost, "lost"},
    {job_state::waiting, "waiting"},
    {job_state::retrying, "retrying"},
}};

constexpr std::array<job_state, names.size()> states = [] {
    std::array<job_state, names.size()> out{};
    for (std::size_t i = 0; i < names.size(); ++i) {
        out[i] = names[i].first;
    }
    return out;
}();

}  // namespace

std::span<const job_state> all_job_states() {
    return states;
}

std::string_view to_string(job_state s) {
    for (const auto& [state, name] : names) {
        if (state == s) {
            return name;
        }
    }
    return "unknown";
}

std::optional<job_state> job_state_from_string(std::string_view s) {
    for (const auto& [state, name] : names) {
        if (name == s) {
            return state;
        }
    }
    return std::nullopt;
}

bool is_finished(job_state s) {
    return s != job_state::running && !is_pending(s);
}

bool is_pending(job_state s) {
    return s == job_state::queued || s == job_state::waiting || s == job_state::retrying;
}

int job::shell_code() const {
    if (exit) {
        return exit->shell_code();
    }
    return state == job_state::failed ? 127 : 0;
}

}  // namespace corral::jobs
