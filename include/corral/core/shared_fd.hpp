#pragma once
// An open file descriptor shared by whoever holds a copy: a page of a job's output sent from its spill
// file keeps the file open until the page is written, even if the job is evicted meanwhile.

#include <unistd.h>

#include <memory>

namespace corral {

class shared_fd {
  public:
    shared_fd() = default;
    /// Takes `fd` (closed with the last copy); a negative one makes an empty shared_fd.
    explicit shared_fd(int fd) {
        if (fd >= 0) {
            fd_ = std::shared_ptr<const int>(new int(fd), [](const int* p) {
                ::close(*p);
                delete p;
            });
        }
    }
    int get() const { return fd_ ? *fd_ : -1; }
    explicit operator bool() const { return fd_ != nullptr; }

  private:
    std::shared_ptr<const int> fd_;
};

}  // namespace corral
