// Channels over pipes and sockets, whole lines over any channel, and a channel for tests.
#include "corral/runner/channel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace corral::runner {
namespace {

void set_nonblocking(int fd) {
    if (fd >= 0) {
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
}

void close_fd(int& fd) {
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}

/// Everything available on `fd` now. Throws endpoint_closed at end of stream with nothing read.
std::string read_available(int fd, bool socket) {
    std::string out;
    std::array<char, 64 * 1024> buffer;
    for (;;) {
        const auto n = socket ? ::recv(fd, buffer.data(), buffer.size(), 0) : ::read(fd, buffer.data(), buffer.size());
        if (n > 0) {
            out.append(buffer.data(), static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return out;
        }
        // End of stream (or an error): what was read so far first; the end on the next call.
        if (!out.empty()) {
            return out;
        }
        throw endpoint_closed(n == 0 ? "the other end closed" : fmt::format("read: {}", std::strerror(errno)));
    }
}

/// SIGPIPE blocked in this thread while it lives, and one raised meanwhile consumed: a write to a
/// pipe whose reader is gone fails with EPIPE instead of killing a program that did not ignore it
/// (sockets say MSG_NOSIGNAL instead).
class sigpipe_blocked {
  public:
    sigpipe_blocked() {
        sigset_t pipe_only;
        ::sigemptyset(&pipe_only);
        ::sigaddset(&pipe_only, SIGPIPE);
        ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old_);
    }
    ~sigpipe_blocked() {
        sigset_t pipe_only;
        ::sigemptyset(&pipe_only);
        ::sigaddset(&pipe_only, SIGPIPE);
        const timespec now{0, 0};
        while (::sigtimedwait(&pipe_only, nullptr, &now) > 0) {
        }
        ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    sigpipe_blocked(const sigpipe_blocked&) = delete;
    sigpipe_blocked& operator=(const sigpipe_blocked&) = delete;

  private:
    sigset_t old_;
};

/// As much of `data` as `fd` (non-blocking) takes now. Throws endpoint_closed when the reader is gone.
std::size_t write_some(int fd, std::string_view data, bool socket) {
    const sigpipe_blocked quiet;
    std::size_t written = 0;
    while (written < data.size()) {
        const auto rest = data.substr(written);
        const auto n = socket ? ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL) : ::write(fd, rest.data(), rest.size());
        if (n >= 0) {
            written += static_cast<std::size_t>(n);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno != EINTR) {
            throw endpoint_closed(fmt::format("write: {}", std::strerror(errno)));
        }
    }
    return written;
}

/// All of `data` to `fd`, waiting while it is full. Throws endpoint_closed when the reader is gone.
void write_all(int fd, std::string_view data, bool socket) {
    for (;;) {
        data.remove_prefix(write_some(fd, data, socket));
        if (data.empty()) {
            return;
        }
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, -1);
    }
}

}  // namespace

pipe_channel::pipe_channel(int faucet, int sink) : faucet_(faucet), sink_(sink) {
    set_nonblocking(faucet_);
    set_nonblocking(sink_);
}

pipe_channel::~pipe_channel() {
    close();
}

std::string pipe_channel::read() {
    if (closed_) {
        throw endpoint_closed("the channel is closed");
    }
    if (faucet_ < 0) {
        return {};
    }
    return read_available(faucet_, false);
}

void pipe_channel::write(std::string_view data) {
    if (closed_ || sink_ < 0) {
        throw endpoint_closed(closed_ ? "the channel is closed" : "nothing to write to");
    }
    write_all(sink_, data, false);
}

std::size_t pipe_channel::try_write(std::string_view data) {
    if (closed_ || sink_ < 0) {
        throw endpoint_closed(closed_ ? "the channel is closed" : "nothing to write to");
    }
    return write_some(sink_, data, false);
}

void pipe_channel::close_write() {
    close_fd(sink_);
}

void pipe_channel::close() {
    closed_ = true;
    close_fd(faucet_);
    close_fd(sink_);
}

socket_channel::socket_channel(int socket) : socket_(socket) {
    set_nonblocking(socket_);
}

socket_channel::~socket_channel() {
    close();
}

std::string socket_channel::read() {
    if (closed_) {
        throw endpoint_closed("the channel is closed");
    }
    return read_available(socket_, true);
}

void socket_channel::write(std::string_view data) {
    if (closed_ || write_closed_) {
        throw endpoint_closed(closed_ ? "the channel is closed" : "its writing side is closed");
    }
    write_all(socket_, data, true);
}

std::size_t socket_channel::try_write(std::string_view data) {
    if (closed_ || write_closed_) {
        throw endpoint_closed(closed_ ? "the channel is closed" : "its writing side is closed");
    }
    return write_some(socket_, data, true);
}

void socket_channel::close_write() {
    if (!closed_ && !write_closed_) {
        ::shutdown(socket_, SHUT_WR);
        write_closed_ = true;
    }
}

void socket_channel::close() {
    closed_ = true;
    close_fd(socket_);
}

std::string line_channel::read() {
    for (int attempt = 0;; ++attempt) {
        if (auto end = buffer_.find('\n'); end != std::string::npos) {
            auto line = buffer_.substr(0, end + 1);
            buffer_.erase(0, end + 1);
            return line;
        }
        if (ended_) {
            if (buffer_.empty()) {
                throw endpoint_closed("the other end closed");
            }
            return std::exchange(buffer_, {});  // the last line, without its '\n', once
        }
        if (attempt == 2) {
            return {};
        }
        try {
            buffer_ += inner_->read();
        } catch (const endpoint_closed&) {
            ended_ = true;
        }
    }
}

test_channel::test_channel() {
    int to_reader[2];
    int from_writer[2];
    if (::pipe2(to_reader, O_CLOEXEC) != 0 || ::pipe2(from_writer, O_CLOEXEC) != 0) {
        throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    }
    inner_ = std::make_unique<pipe_channel>(to_reader[0], from_writer[1]);
    put_end_ = to_reader[1];
    get_end_ = from_writer[0];
    set_nonblocking(get_end_);
}

test_channel::~test_channel() {
    close();
}

void test_channel::put(std::string_view data) {
    write_all(put_end_, data, false);
}

std::string test_channel::get() {
    try {
        return read_available(get_end_, false);
    } catch (const endpoint_closed&) {
        return {};
    }
}

void test_channel::close() {
    inner_->close();
    close_fd(put_end_);
    close_fd(get_end_);
}

}  // namespace corral::runner
