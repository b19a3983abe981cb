#pragma once

#include <unistd.h>

#include <utility>

namespace corral::proc {

/// Owns one file descriptor; closes it on destruction.
class unique_fd {
  public:
    unique_fd() = default;
    explicit unique_fd(int fd) : fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept {
        if (this != &o) {
            reset(std::exchange(o.fd_, -1));
        }
        return *this;
    }
    ~unique_fd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0) {
            ::close(fd_);  // never retry close on EINTR: the fd is gone either way
        }
        fd_ = fd;
    }

  private:
    int fd_ = -1;
};

}  // namespace corral::proc
