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
    /// Ends the writing side only (the process reads end-of-file; `sort`, `tr` then answer) and
    /// keeps reading. Later writes throw endpoint_closed. Not in the seed.
    virtual void close_write() = 0;
    /// The descriptor to poll for reading; -1 when there is none (nothing to read from).
    virtual int fd() const = 0;
    /// Writes what fits now without waiting; how much that was (0 when the other end is full).
    /// Throws like write(). For callers that wait for room themselves (runner::write_all).
    virtual std::size_t try_write(std::string_view data) = 0;
    /// The descriptor to poll for room to write; -1 when there is none.
    virtual int write_fd() const = 0;
    /// True when read() has something without fd() becoming readable first (data already buffered
    /// here), so a poller must not wait on the descriptor for it.
    virtual bool has_buffered() const { return false; }
};

/// A pipe pair: reads from `faucet` (a process's stdout), writes to `sink` (its stdin). Either may be
/// -1. Takes ownership of both; both are made non-blocking.
class pipe_channel : public channel {
  public:
    pipe_channel(int faucet, int sink);
    ~pipe_channel() override;
    pipe_channel(const pipe_channel&) = delete;
    pipe_channel& operator=(const pipe_channel&) = delete;
    std::string read() override;
    void write(std::string_view data) override;
    void close() override;
    void close_write() override;
    int fd() const override { return faucet_; }
    std::size_t try_write(std::string_view data) override;
    int write_fd() const override { return sink_; }

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
    void close_write() override;
    int fd() const override { return socket_; }
    std::size_t try_write(std::string_view data) override;
    int write_fd() const override { return socket_; }

  private:
    int socket_;
    bool closed_ = false;
    bool write_closed_ = false;
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
    void close_write() override { inner_->close_write(); }
    int fd() const override { return inner_->fd(); }
    std::size_t try_write(std::string_view data) override { return inner_->try_write(data); }
    int write_fd() const override { return inner_->write_fd(); }
    /// A whole line (or the last one) is buffered: read() returns it at once.
    bool has_buffered() const override {
        return buffer_.find('\n') != std::string::npos || (ended_ && !buffer_.empty());
    }

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
    void close_write() override { inner_->close_write(); }
    int fd() const override { return inner_->fd(); }
    std::size_t try_write(std::string_view data) override { return inner_->try_write(data); }
    int write_fd() const override { return inner_->write_fd(); }

  private:
    std::unique_ptr<pipe_channel> inner_;  ///< reads what put() wrote; writes to what get() reads
    int put_end_ = -1;
    int get_end_ = -1;
};

}  // namespace corral::runner
