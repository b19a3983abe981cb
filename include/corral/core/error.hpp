#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace corral {

/// Domain errors. Job *failures* are job states, not errors; these are for requests that cannot be done.
enum class errc {
    /// The program to run was not found (no such file, or not in PATH).
    executable_not_found = 1,
    /// The job spec is invalid (empty argv, bad option combination, ...).
    invalid_spec,
    /// A value could not be parsed (signal name, duration, size, stop plan, ...).
    invalid_argument,
    /// The child could not be started; the message says which stage failed.
    spawn_failed,
    /// No job with that id.
    job_not_found,
    /// The requested operation is not possible in the job's state.
    invalid_state,
    /// The host does not support the requested feature (e.g. cgroup v2 when required).
    unsupported,
    /// The queue holds as many jobs as it may (the scheduler's `max_queued`).
    queue_full,
    /// The caller did not say who they are (no token, or an unknown one).
    unauthenticated,
    /// The caller is known but their role does not allow the action.
    forbidden,
    /// No task with that name in the catalog.
    task_not_found,
    /// The durable store could not read or write (disk full, permissions, a damaged database).
    store_failed,
    /// No subscription with that id for this caller (it expired, was closed, or is another user's).
    subscription_not_found,
    /// No named process or service by that name (runner::registry, services).
    process_not_found,
    /// A named process or service with that alias is already running.
    process_exists,
    /// Something awaited did not happen in time (a named process's socket, a readiness check).
    timed_out,
};

/// The "corral" error category.
const boost::system::error_category& corral_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), corral_category()};
}

template <class T>
using result = boost::system::result<T>;

}  // namespace corral

template <>
struct boost::system::is_error_code_enum<corral::errc> : std::true_type {};
