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
#include <utility>

#include "raw_syscall_linux.hpp"

namespace corral::proc {
namespace {

constexpr std::size_t child_stack_size = 64 * 1024;

// The kernel's result, >= 0 or -errno. Without raw system calls only the CLONE_VFORK path exists,
// where the parent is suspended and libc's errno is safe to use.
__attribute__((always_inline, no_sanitize("address", "undefined"))) inline long child_syscall(
    long number, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0) {
#if CORRAL_HAS_RAW_SYSCALL
    return raw_syscall(number, a1, a2, a3, a4);
#else
    long r = ::syscall(number, a1, a2, a3, a4);
    return r < 0 ? -errno : r;
#endif
}

// System calls only: sanitizer interceptors and libc wrappers may take locks or touch state (errno)
// that the child shares with the parent.
#define CORRAL_CHILD_TRY(call, stage)             \
    do {                                          \
        if (long r_ = (call); r_ < 0) {           \
            setup->error = static_cast<int>(-r_); \
            setup->failed_stage = (stage);        \
            child_syscall(SYS_exit, 127);         \
        }                                         \
    } while (0)

__attribute__((no_sanitize("address", "undefined"))) int child_main(void* arg) {
    auto* setup = static_cast<child_setup*>(arg);

    // Default dispositions for every signal (the parent may ignore SIGPIPE), then an empty mask.
    // An all-zero kernel sigaction is SIG_DFL on every architecture.
    alignas(8) char zero[64] = {};
    for (int sig = 1; sig < 65; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            child_syscall(SYS_rt_sigaction, sig, reinterpret_cast<long>(zero), 0, 8);
        }
    }
    child_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(zero), 0, 8);

    if (setup->new_session) {
        CORRAL_CHILD_TRY(child_syscall(SYS_setsid), spawn_stage::setsid);
    }
    if (setup->cgroup_procs_fd >= 0) {
        long r = child_syscall(SYS_write, setup->cgroup_procs_fd, reinterpret_cast<long>("0"), 1);
        CORRAL_CHILD_TRY(r == 1 ? 0 : (r < 0 ? r : -EIO), spawn_stage::cgroup);
    }
    if (setup->controlling_terminal) {
        CORRAL_CHILD_TRY(child_syscall(SYS_ioctl, setup->stdio[1], TIOCSCTTY, 0), spawn_stage::terminal);
    }
    // Move sources out of 0..2 first so one dup cannot clobber another's source.
    for (int& fd : setup->stdio) {
        if (fd >= 0 && fd < 3) {
            long moved = child_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
            CORRAL_CHILD_TRY(moved, spawn_stage::stdio);
            fd = static_cast<int>(moved);
        }
    }
    for (int target = 0; target < 3; ++target) {
        CORRAL_CHILD_TRY(child_syscall(SYS_dup3, setup->stdio[target], target, 0), spawn_stage::stdio);
    }
    if (setup->cwd != nullptr) {
        CORRAL_CHILD_TRY(child_syscall(SYS_chdir, reinterpret_cast<long>(setup->cwd)), spawn_stage::chdir);
    }
    for (int i = 0; i < setup->limit_count; ++i) {
        const auto& l = setup->limits[i];
        CORRAL_CHILD_TRY(child_syscall(SYS_prlimit64, 0, l.resource, reinterpret_cast<long>(&l.value), 0),
                         spawn_stage::rlimit);
    }
    // Nothing but 0, 1 and 2 reaches the program, whatever the parent forgot to mark CLOEXEC. The
    // exec watch (CLOEXEC) stays open until the exec itself: its end-of-file tells the parent that we
    // no longer use its memory.
    const long watch = setup->exec_watch_fd;
    if (watch > 3) {
        CORRAL_CHILD_TRY(child_syscall(SYS_close_range, 3, watch - 1, 0), spawn_stage::close_fds);
    }
    CORRAL_CHILD_TRY(child_syscall(SYS_close_range, watch >= 3 ? watch + 1 : 3, ~0U, 0),
                     spawn_stage::close_fds);
    CORRAL_CHILD_TRY(child_syscall(SYS_execve,
                                   reinterpret_cast<long>(setup->path),
                                   reinterpret_cast<long>(setup->argv),
                                   reinterpret_cast<long>(setup->envp)),
                     spawn_stage::exec);
    return 127;
}

#undef CORRAL_CHILD_TRY

// One child stack per spawning thread, made once and reused: with CLONE_VFORK the child is done with
// it (it has exec'd or exited) by the time clone() returns. Unmapping a stack after every spawn cost
// a TLB shootdown each time, a tenth of corrald's time per job on the CI machines.
char* vfork_stack() {
    thread_local child_stack stack = child_stack::make();
    return stack ? stack.top() : nullptr;
}

// Every signal blocked while we clone, so no handler of ours runs in the child while it shares our
// memory (it inherits the mask, resets the dispositions, then unblocks).
pid_t clone_blocking_signals(char* stack_top, int flags, child_setup& setup, int& pidfd, int& clone_errno) {
    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = ::clone(child_main, stack_top, flags | CLONE_VM | CLONE_PIDFD | SIGCHLD, &setup, &pidfd);
    clone_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return pid;
}

}  // namespace

child_stack child_stack::make() {
    child_stack s;
    void* p = ::mmap(
        nullptr, child_stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (p != MAP_FAILED) {
        s.base_ = static_cast<char*>(p);
    }
    return s;
}

child_stack::child_stack(child_stack&& o) noexcept : base_(std::exchange(o.base_, nullptr)) {}

child_stack& child_stack::operator=(child_stack&& o) noexcept {
    if (this != &o) {
        child_stack old(std::move(*this));
        base_ = std::exchange(o.base_, nullptr);
    }
    return *this;
}

child_stack::~child_stack() {
    if (base_ != nullptr) {
        ::munmap(base_, child_stack_size);
    }
}

char* child_stack::top() const {
    return base_ + child_stack_size;
}

bool clone_and_exec(child_setup& setup, spawned& out) {
    char* stack = vfork_stack();
    if (stack == nullptr) {
        setup.error = errno;
        setup.failed_stage = spawn_stage::exec;
        return false;
    }
    int pidfd = -1;
    int clone_errno = 0;
    pid_t pid = clone_blocking_signals(stack, CLONE_VFORK, setup, pidfd, clone_errno);
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

bool clone_started(child_setup& setup, const child_stack& stack, spawned& out) {
    if (!has_raw_syscall) {  // the child would write our errno: only clone_and_exec (CLONE_VFORK) is safe
        setup.error = ENOSYS;
        setup.failed_stage = spawn_stage::exec;
        return false;
    }
    int pidfd = -1;
    int clone_errno = 0;
    pid_t pid = clone_blocking_signals(stack.top(), 0, setup, pidfd, clone_errno);
    if (pid < 0) {
        setup.error = clone_errno;
        setup.failed_stage = spawn_stage::exec;
        return false;
    }
    out.pid = pid;
    out.pidfd = unique_fd(pidfd);
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
