#include "corral/runner/poller.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace corral::runner {

void poller::add(channel& ch) {
    if (ch.fd() < 0) {
        throw std::invalid_argument("poller: a channel with nothing to read cannot be polled");
    }
    if (std::find(channels_.begin(), channels_.end(), &ch) == channels_.end()) {
        channels_.push_back(&ch);
    }
}

void poller::add_server(int fd) {
    servers_.push_back(fd);
}

void poller::remove(channel& ch) {
    std::erase(channels_, &ch);
}

void poller::close_all() {
    for (auto* ch : channels_) {
        ch->close();
    }
    for (int fd : servers_) {
        ::close(fd);
    }
    channels_.clear();
    servers_.clear();
    clients_.clear();
}

std::vector<poller::event> poller::poll(std::optional<std::chrono::milliseconds> timeout) {
    std::vector<pollfd> fds;
    for (auto* ch : channels_) {
        fds.push_back({ch->fd(), POLLIN, 0});
    }
    for (int fd : servers_) {
        fds.push_back({fd, POLLIN, 0});
    }
    std::vector<event> out;
    const int ready = ::poll(fds.data(), fds.size(), timeout ? static_cast<int>(timeout->count()) : -1);
    if (ready <= 0) {
        return out;
    }
    const auto channels = channels_;  // reading may end (and unregister) some
    for (std::size_t i = 0; i < channels.size(); ++i) {
        if (fds[i].revents == 0) {
            continue;
        }
        event e{.from = channels[i]};
        try {
            e.data = channels[i]->read();
        } catch (const endpoint_closed&) {
            e.ended = true;
            remove(*channels[i]);
        }
        if (!e.data.empty() || e.ended) {
            out.push_back(std::move(e));
        }
    }
    for (std::size_t i = 0; i < servers_.size(); ++i) {
        if (fds[channels.size() + i].revents == 0) {
            continue;
        }
        const int client = ::accept4(servers_[i], nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) {
            continue;  // the client left before it was accepted, or the server was closed
        }
        auto& ch = clients_.emplace_back(std::make_unique<socket_channel>(client));
        channels_.push_back(ch.get());
        out.push_back({.accepted = ch.get(), .server = servers_[i]});
    }
    return out;
}

}  // namespace corral::runner
