#pragma once
// System calls that never touch errno, for a child that runs in its parent's memory while the parent
// keeps running (clone with CLONE_VM, without CLONE_VFORK). libc's syscall() stores a failure in
// errno, which is thread-local through the parent's thread pointer: the child would overwrite the
// errno of the parent thread that cloned it, at any moment. These return -errno instead.
//
// Only x86-64 and AArch64 have them (corral_has_raw_syscall); elsewhere the launcher keeps the
// parent suspended until the child has exec'd (CLONE_VFORK), where libc's syscall() is safe.

#if defined(__x86_64__) || defined(__aarch64__)
#define CORRAL_HAS_RAW_SYSCALL 1
#else
#define CORRAL_HAS_RAW_SYSCALL 0
#endif

namespace corral::proc {

inline constexpr bool has_raw_syscall = CORRAL_HAS_RAW_SYSCALL != 0;

#if CORRAL_HAS_RAW_SYSCALL

/// The kernel's result: >= 0, or -errno.
__attribute__((always_inline, no_sanitize("address", "undefined"))) inline long raw_syscall(
    long number, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0) {
#if defined(__x86_64__)
    long result;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return result;
#else
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a1;
    register long x1 __asm__("x1") = a2;
    register long x2 __asm__("x2") = a3;
    register long x3 __asm__("x3") = a4;
    register long x4 __asm__("x4") = a5;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory", "cc");
    return x0;
#endif
}

#endif

}  // namespace corral::proc
