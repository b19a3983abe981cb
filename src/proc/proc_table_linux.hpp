#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace corral::proc {

/// One row of /proc/<pid>/stat that tree discovery needs.
struct proc_entry {
    pid_t pid;
    pid_t ppid;
    pid_t pgrp;
    pid_t session;
    char state;  ///< 'R', 'S', 'Z' (zombie), ...
};

/// One process's row, if it still exists.
std::optional<proc_entry> read_proc_entry(pid_t pid);

/// Every process visible in /proc (racy by nature: processes come and go while it reads).
std::vector<proc_entry> read_proc_table();

/// This process's children (those of every thread), from /proc/self/task/*/children: a few small
/// reads, where read_proc_table() reads every process. nullopt where the kernel has no such files.
std::optional<std::vector<pid_t>> own_children();

/// True when /proc/<pid>/environ contains exactly `entry` ("NAME=value").
bool environ_contains(pid_t pid, const std::string& entry);

}  // namespace corral::proc
