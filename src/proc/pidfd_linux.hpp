#pragma once
// pidfd system calls. glibc 2.36's <sys/pidfd.h> declares them without extern "C", so C++ cannot link
// against it; these wrappers call the kernel directly.

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace corral::proc {

inline int open_pidfd(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U));
}

inline int send_signal(int pidfd, int signal) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0U));
}

}  // namespace corral::proc
