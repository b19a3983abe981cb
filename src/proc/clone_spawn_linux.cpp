#include "clone_spawn_linux.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace corral::proc {
namespace {

constexpr std::size_t child_stack_size = 64 * 1024;

// Raw syscalls only: sanitizer interceptors and libc wrappers may take locks or touch state that the
// child shares with the suspended parent.
#define CORRAL_CHILD_FAIL(stage)       \
    do {                               \
        setup->error = errno;          \
        setup->failed_stage = (stage); \
        ::syscall(SYS_exit, 127);      \
    } while (0)

__attribute__((no_sanitize("address", "undefined"))) int child_main(void* arg) {
    auto* setup = static_cast<child_setup*>(arg);

    // Default dispositions for every signal (the parent may ignore SIGPIPE), then an empty mask.
    // An all-zero kernel sigaction is SIG_DFL on every architecture.
    alignas(8) char zero[64] = {};
    for (int sig = 1; sig < 65; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            ::syscall(SYS_rt_sigaction, sig, zero, nullptr, 8);
        }
    }
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, zero, nullptr, 8);

    if (::syscall(SYS_setsid) < 0) {
        CORRAL_CHILD_FAIL(spawn_stage::setsid);
    }
    if (setup->cgroup_procs_fd >= 0 && ::syscall(SYS_write, setup->cgroup_procs_fd, "0", 1) != 1) {
        CORRAL_CHILD_FAIL(spawn_stage::cgroup);
    }
    if (setup->controlling_terminal && ::syscall(SYS_ioctl, setup->stdio[1], TIOCSCTTY, 0) < 0) {
        CORRAL_CHILD_FAIL(spawn_stage::terminal);
    }
    // Move sources out of 0..2 first so one dup cannot clobber another's source.
    for (int& fd : setup->stdio) {
        if (fd >= 0 && fd < 3 && (fd = static_cast<int>(::syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3))) < 0) {
            CORRAL_CHILD_FAIL(spawn_stage::stdio);
        }
    }
    for (int target = 0; target < 3; ++target) {
        if (::syscall(SYS_dup3, setup->stdio[target], target, 0) < 0) {
            CORRAL_CHILD_FAIL(spawn_stage::stdio);
        }
    }
    if (setup->cwd != nullptr && ::syscall(SYS_chdir, setup->cwd) < 0) {
        CORRAL_CHILD_FAIL(spawn_stage::chdir);
    }
    for (int i = 0; i < setup->limit_count; ++i) {
        const auto& l = setup->limits[i];
        if (::syscall(SYS_prlimit64, 0, l.resource, &l.value, nullptr) < 0) {
            CORRAL_CHILD_FAIL(spawn_stage::rlimit);
        }
    }
    // Nothing but 0, 1 and 2 reaches the program, whatever the parent forgot to mark CLOEXEC.
    if (::syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
        CORRAL_CHILD_FAIL(spawn_stage::close_fds);
    }
    ::syscall(SYS_execve, setup->path, setup->argv, setup->envp);
    CORRAL_CHILD_FAIL(spawn_stage::exec);
    return 127;
}

#undef CORRAL_CHILD_FAIL

// One child stack per spawning thread, made once and reused: with CLONE_VFORK the child is done with
// it (it has exec'd or exited) by the time clone() returns. Unmapping a stack after every spawn cost
// a TLB shootdown each time, a tenth of corrald's time per job on the CI machines.
char* child_stack() {
    thread_local char* stack = nullptr;
    if (stack == nullptr) {
        void* p = ::mmap(nullptr,
                         child_stack_size,
                         PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                         -1,
                         0);
        stack = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
    }
    return stack;
}

}  // namespace

bool clone_and_exec(child_setup& setup, spawned& out) {
    char* stack = child_stack();
    if (stack == nullptr) {
        setup.error = errno;
        setup.failed_stage = spawn_stage::exec;
        return false;
    }
    // Block every signal so no handler of ours runs in the child while it shares our memory.
    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    int pidfd = -1;
    pid_t pid = ::clone(
        child_main, stack + child_stack_size, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &setup, &pidfd);
    int clone_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);

    if (pid < 0) {
        setup.error = clone_errno;
        setup.failed_stage = spawn_stage::exec;
        return false;
    }
    unique_fd fd(pidfd);
    if (setup.failed_stage != spawn_stage::none) {
        siginfo_t info{};
        while (::waitid(P_PIDFD, static_cast<id_t>(fd.get()), &info, WEXITED) < 0 && errno == EINTR) {
        }
        return false;
    }
    out.pid = pid;
    out.pidfd = std::move(fd);
    return true;
}

const char* stage_name(spawn_stage stage) {
    switch (stage) {
        case spawn_stage::none:
            return "none";
        case spawn_stage::setsid:
            return "setsid";
        case spawn_stage::cgroup:
            return "join cgroup";
        case spawn_stage::terminal:
            return "set controlling terminal";
        case spawn_stage::stdio:
            return "set up stdio";
        case spawn_stage::chdir:
            return "chdir";
        case spawn_stage::rlimit:
            return "set resource limit";
        case spawn_stage::close_fds:
            return "close descriptors";
        case spawn_stage::exec:
            return "exec";
    }
    return "?";
}

}  // namespace corral::proc
