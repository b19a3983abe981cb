#pragma once
// Channels to a named process (the runner seed's, research/seeds-inventory.md §3): what a client reads
// from and writes to a process's stdio or its Unix socket, without blocking on reads.

#include <cstddef>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace corral::runner {

/// The other end closed, or this channel was closed: runner's EndpointClosedException.
class endpoint_closed : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/**
 * A byte channel. read() never blocks: it returns what is available now, or "" when nothing is, and
 * throws endpoint_closed only once the other end has closed *and* everything it sent has been read.
 * write() writes everything it is given, waiting for the other end to take it (partial writes are
 * continued, unlike the seed's sockets). After close() both throw.
 *
 * @par Thread safety
 * Not thread-safe.
 */
class channel {
  public:
    virtual ~channel() = default;
    virtual std::string read() = 0;
    virtual void write(std::string_view data) = 0;
    virtual void close() = 0;
    /// The descriptor to poll for reading; -1 when there is none (nothing to read from).
    virtual int fd() const = 0;
};

/// A pipe pair: reads from `faucet` (a process's stdout), writes to `sink` (its stdin). Either may be
/// -1. Takes ownership of both; the faucet is made non-blocking.
class pipe_channel : public channel {
  public:
    pipe_channel(int faucet, int sink);
    ~pipe_channel() override;
    pipe_channel(const pipe_channel&) = delete;
    pipe_channel& operator=(const pipe_channel&) = delete;
    std::string read() override;
    void write(std::string_view data) override;
    void close() override;
    int fd() const override { return faucet_; }

  private:
    int faucet_;
    int sink_;
    bool closed_ = false;
};

/// A connected stream socket (a Unix socket to a process): reads and writes on the same descriptor.
/// Takes ownership; the socket is made non-blocking.
class socket_channel : public channel {
  public:
    explicit socket_channel(int socket);
    ~socket_channel() override;
    socket_channel(const socket_channel&) = delete;
    socket_channel& operator=(const socket_channel&) = delete;
    std::string read() override;
    void write(std::string_view data) override;
    void close() override;
    int fd() const override { return socket_; }

  private:
    int socket_;
    bool closed_ = false;
};

/**
 * Whole lines over another channel: read() returns exactly one '\n'-terminated line when one has
 * arrived, else "". When the inner channel ends, a last line without '\n' is returned once, and
 * then endpoint_closed is thrown. write(), close() and fd() are the inner channel's.
 */
class line_channel : public channel {
  public:
    explicit line_channel(std::unique_ptr<channel> inner) : inner_(std::move(inner)) {}
    std::string read() override;
    void write(std::string_view data) override { inner_->write(data); }
    void close() override { inner_->close(); }
    int fd() const override { return inner_->fd(); }

  private:
    std::unique_ptr<channel> inner_;
    std::string buffer_;
    bool ended_ = false;
};

/// For tests of code that uses channels (runner.testing.TestChannel): put() makes bytes readable
/// through read(); get() returns what was write()n, or "".
class test_channel : public channel {
  public:
    test_channel();
    ~test_channel() override;
    test_channel(const test_channel&) = delete;
    test_channel& operator=(const test_channel&) = delete;
    void put(std::string_view data);
    std::string get();
    std::string read() override { return inner_->read(); }
    void write(std::string_view data) override { inner_->write(data); }
    void close() override;
    int fd() const override { return inner_->fd(); }

  private:
    std::unique_ptr<pipe_channel> inner_;  ///< reads what put() wrote; writes to what get() reads
    int put_end_ = -1;
    int get_end_ = -1;
};

}  // namespace corral::runner
