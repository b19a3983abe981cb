#pragma once
// A blocking client on 127.0.0.1 (or a Unix socket) for protocols that frame their own bytes (ASEXOR's raw socket,
// WAMP's RawSocket): write bytes, read what comes within a time limit, tell a close from a pause.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

namespace corral::test {

class loopback_client {
  public:
    explicit loopback_client(unsigned short port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd_);
            throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
        }
    }
    /// The same over the Unix socket at `path`.
    explicit loopback_client(const std::string& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        if (path.size() >= sizeof a.sun_path) {
            ::close(fd_);
            throw std::runtime_error("socket path too long: " + path);
        }
        path.copy(a.sun_path, path.size());
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd_);
            throw std::runtime_error("cannot connect to " + path);
        }
    }
    ~loopback_client() { ::close(fd_); }
    loopback_client(const loopback_client&) = delete;
    loopback_client& operator=(const loopback_client&) = delete;

    bool write(std::string_view bytes) {
        return ::write(fd_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    }
    /// What arrives within `limit`; empty when nothing did or the server closed (closed() says which).
    std::string read_some(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) {
            return {};
        }
        char buffer[4096];
        const auto n = ::read(fd_, buffer, sizeof buffer);
        if (n <= 0) {
            closed_ = true;
            return {};
        }
        return {buffer, static_cast<std::size_t>(n)};
    }
    bool closed() const { return closed_; }

  private:
    int fd_ = -1;
    bool closed_ = false;
};

}  // namespace corral::test
