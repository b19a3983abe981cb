#include "proc_table_linux.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "unique_fd.hpp"

namespace corral::proc {
namespace {

bool read_stat(pid_t pid, proc_entry& out) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    unique_fd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return false;
    }
    char buf[512];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) {
        return false;
    }
    buf[n] = '\0';
    // The command name is in parentheses and may itself contain ") ": parse after the last ')'.
    char* close = std::strrchr(buf, ')');
    if (close == nullptr) {
        return false;
    }
    int ppid = 0, pgrp = 0, session = 0;
    char state = '?';
    if (std::sscanf(close + 1, " %c %d %d %d", &state, &ppid, &pgrp, &session) != 4) {
        return false;
    }
    out = {pid, ppid, pgrp, session, state};
    return true;
}

}  // namespace

std::optional<proc_entry> read_proc_entry(pid_t pid) {
    proc_entry entry{};
    if (!read_stat(pid, entry)) {
        return std::nullopt;
    }
    return entry;
}

std::optional<std::vector<pid_t>> own_children() {
    DIR* dir = ::opendir("/proc/self/task");
    if (dir == nullptr) {
        return std::nullopt;
    }
    std::vector<pid_t> children;
    bool readable = true;
    while (dirent* e = ::readdir(dir)) {
        if (e->d_name[0] == '.') {
            continue;
        }
        const std::string path = std::string("/proc/self/task/") + e->d_name + "/children";
        unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            readable = false;  // no such file (CONFIG_PROC_CHILDREN off), or the thread just ended
            break;
        }
        std::string text;
        char buf[4096];
        for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) {
            text.append(buf, static_cast<std::size_t>(n));
        }
        for (const char* p = text.c_str(); *p != '\0';) {
            char* end = nullptr;
            const long pid = std::strtol(p, &end, 10);
            if (end == p) {
                break;
            }
            children.push_back(static_cast<pid_t>(pid));
            p = end;
        }
    }
    ::closedir(dir);
    if (!readable) {
        return std::nullopt;
    }
    return children;
}

std::vector<proc_entry> read_proc_table() {
    std::vector<proc_entry> table;
    DIR* dir = ::opendir("/proc");
    if (dir == nullptr) {
        return table;
    }
    while (dirent* e = ::readdir(dir)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') {
            continue;
        }
        proc_entry entry{};
        if (read_stat(static_cast<pid_t>(pid), entry)) {
            table.push_back(entry);
        }
    }
    ::closedir(dir);
    return table;
}

bool environ_contains(pid_t pid, const std::string& entry) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/environ", pid);
    unique_fd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return false;
    }
    std::string env;
    char buf[8192];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0 && env.size() < (1u << 20);) {
        env.append(buf, static_cast<std::size_t>(n));
    }
    std::string needle = entry + '\0';
    return env.starts_with(needle) || env.find('\0' + needle) != std::string::npos;
}

}  // namespace corral::proc
