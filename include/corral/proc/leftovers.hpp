#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>

namespace corral::proc {

/**
 * Kills what is left of a job's process tree after the daemon that ran it died: every process in the
 * session (and process group) of `leader`, the job's leader, which each job's child starts with
 * setsid(). Only when the leader still exists and started at `started` (within a few seconds), so a
 * reused pid is never mistaken for the job. Returns how many processes were sent SIGKILL.
 */
std::size_t kill_leftover_tree(pid_t leader, std::chrono::system_clock::time_point started);

}  // namespace corral::proc
