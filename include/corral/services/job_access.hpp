#pragma once

#include <string>

#include "corral/auth/identity.hpp"
#include "corral/core/error_info.hpp"
#include "corral/services/job_service.hpp"

namespace corral::services {

using auth::identity;

/**
 * The checks every surface makes before acting for a caller, so REST, SSE, WebSocket, acons's RPC
 * and the CLI socket all answer alike. Errors: errc::forbidden with a message saying what the role
 * lacks ("role 'user' may not run task 'reboot'").
 */
/// A submission: the command or tasks it runs, and a priority other than the role's.
result_info<void> check_submit(const identity& who,
                               const submit_request& request,
                               bool priority_given);
/// Seeing a job: its record, output and events.
result_info<void> check_see(const identity& who, const jobs::job& j);
/// Acting on a job: kill, stdin.
result_info<void> check_control(const identity& who, const jobs::job& j);
/// Queue administration: drain and resume.
result_info<void> check_admin(const identity& who);
/// Submitting for other users (ASEXOR's delegated calls, from a trusted proxy): an admin's right.
result_info<void> check_delegate(const identity& who);
/// Seeing services (their status, history and runs): as seeing every user's jobs.
result_info<void> check_see_services(const identity& who);
/// Starting, stopping, restarting services and writing to their stdin: as acting on every user's jobs.
result_info<void> check_control_services(const identity& who);
/// Whether the caller sees every owner's jobs (else listings show only their own).
bool sees_all(const identity& who);

}  // namespace corral::services
