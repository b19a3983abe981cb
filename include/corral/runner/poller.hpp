#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corral/core/asio.hpp"
#include "corral/runner/channel.hpp"

namespace corral::runner {

/**
 * Waits on many channels and listening sockets at once (runner's Poller, with the fixes its
 * channels package made later): poll() returns what each ready channel had to read, and accepts
 * each waiting client of a server, registering a socket_channel for it. A channel that has ended is
 * reported once, `ended` set, and unregistered. A line_channel holding whole lines is ready without
 * its descriptor becoming readable again (the seed waited for more input first).
 *
 * One epoll set underneath, so wait() — the coroutine equivalent of poll() for Asio programs — waits
 * on a single descriptor whatever the number of channels.
 *
 * @par Thread safety
 * Not thread-safe.
 */
class poller {
  public:
    struct event {
        /// The channel that had something (or that ended); null for an accepted client.
        channel* from = nullptr;
        std::string data;
        bool ended = false;
        /// A new client of `server`, already registered; the poller owns it.
        channel* accepted = nullptr;
        int server = -1;
    };

    poller();
    ~poller();
    poller(const poller&) = delete;
    poller& operator=(const poller&) = delete;

    /// Polls `ch` for reading (it must have an fd, and outlive its registration).
    void add(channel& ch);
    /// Polls the listening socket `fd` for clients. Not owned, but close_all() closes it.
    void add_server(int fd);
    void remove(channel& ch);
    /// Closes every channel and server registered (and the accepted clients), and forgets them.
    void close_all();
    std::size_t size() const { return channels_.size() + servers_.size(); }

    /// Waits up to `timeout` (nullopt: for ever) for something to happen; what did, or nothing when
    /// the time passed. EINTR ends the wait early with nothing.
    std::vector<event> poll(std::optional<std::chrono::milliseconds> timeout = std::nullopt);

    /// poll() as a coroutine: the thread serves other work while nothing is ready. Cancellation
    /// (or the timeout) ends the wait with nothing.
    net::awaitable<std::vector<event>> wait(std::optional<std::chrono::milliseconds> timeout);
    net::awaitable<std::vector<event>> wait() { return wait(std::nullopt); }

  private:
    bool any_buffered() const;
    std::vector<event> collect(const std::vector<int>& ready_fds);
    void watch(int fd);
    void unwatch(int fd);

    int epoll_ = -1;
    std::vector<channel*> channels_;
    std::vector<int> servers_;
    std::vector<std::unique_ptr<channel>> clients_;
};

}  // namespace corral::runner
