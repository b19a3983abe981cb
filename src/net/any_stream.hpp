#pragma once
// One stream type for every HTTP connection, plain (TCP, Unix) or TLS, the daemon's and the CLI's, so that Beast's HTTP and
// WebSocket templates are instantiated once instead of once per kind of stream. Instantiated per
// stream type and per operation they were the slowest translation units of the build (TLS alone
// 47 s for HTTP and 57 s for WebSocket, in release); behind this erasure each kind of stream costs
// its few reads and writes, once (any_stream_plain.cpp, any_stream_tls.cpp). A read or write costs a
// virtual call and a type-erased handler, nothing next to its system call.

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/role.hpp>

#include "corral/core/asio.hpp"

namespace boost::asio::ssl {
class context;
}

namespace corral::http {

using io_handler = net::any_completion_handler<void(boost::system::error_code, std::size_t)>;
using wait_handler = net::any_completion_handler<void(boost::system::error_code)>;

/// The buffers of one write: up to 16 (Beast's serializer gathers a header and a body; a write may
/// take fewer bytes than offered anyway).
struct write_buffers {
    std::array<net::const_buffer, 16> buffers;
    std::size_t count = 0;
    const net::const_buffer* begin() const { return buffers.data(); }
    const net::const_buffer* end() const { return buffers.data() + count; }
};

/**
 * An AsyncStream for Beast over whichever connection is behind it. Timeouts are the underlying
 * beast stream's (expires_after/expires_never, reached by beast::get_lowest_layer, which is this).
 */
class any_stream {
  public:
    using executor_type = net::any_io_executor;

    /// One kind of connection (any_stream_plain.cpp, any_stream_tls.cpp).
    class impl {
      public:
        virtual ~impl() = default;
        virtual executor_type executor() = 0;
        virtual void read_some(net::mutable_buffer into, io_handler done) = 0;
        virtual void write_some(const write_buffers& from, io_handler done) = 0;
        /// Completes when the socket has something to read (or its peer closed).
        virtual void wait_readable(wait_handler done) = 0;
        /// Completes when the socket can take more bytes (or failed).
        virtual void wait_writable(wait_handler done) = 0;
        virtual void expires_after(std::chrono::steady_clock::duration limit) = 0;
        virtual void expires_never() = 0;
        /// A WebSocket's end (Beast's teardown: TLS close_notify, then the socket).
        virtual void teardown(boost::beast::role_type role, wait_handler done) = 0;
        /// TLS: close_notify. Plain: completes at once.
        virtual void tls_shutdown(wait_handler done) = 0;
        /// No more bytes from us (a FIN); the peer may go on sending.
        virtual void shutdown_send() = 0;
        virtual bool tls() const = 0;
        virtual int native_handle() = 0;
        /// Closes the socket: pending operations fail (Beast's WebSocket timeouts end it so).
        virtual void close() = 0;
    };

    explicit any_stream(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

    executor_type get_executor() { return impl_->executor(); }
    void expires_after(std::chrono::steady_clock::duration limit) { impl_->expires_after(limit); }
    void expires_never() { impl_->expires_never(); }
    bool tls() const { return impl_->tls(); }
    int native_handle() { return impl_->native_handle(); }
    void shutdown_send() { impl_->shutdown_send(); }
    impl& get() { return *impl_; }

    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
        net::mutable_buffer first;
        for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers); ++it) {
            if (net::mutable_buffer b(*it); b.size() > 0) {
                first = b;
                break;
            }
        }
        return net::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [](auto handler, impl* i, net::mutable_buffer b) { i->read_some(b, std::move(handler)); },
            token,
            impl_.get(),
            first);
    }

    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
        write_buffers from;
        for (auto it = net::buffer_sequence_begin(buffers);
             it != net::buffer_sequence_end(buffers) && from.count < from.buffers.size();
             ++it) {
            if (net::const_buffer b(*it); b.size() > 0) {
                from.buffers[from.count++] = b;
            }
        }
        return net::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [](auto handler, impl* i, const write_buffers& b) { i->write_some(b, std::move(handler)); },
            token,
            impl_.get(),
            from);
    }

    template <class Token>
    auto async_wait_readable(Token&& token) {
        return net::async_initiate<Token, void(boost::system::error_code)>(
            [](auto handler, impl* i) { i->wait_readable(std::move(handler)); }, token, impl_.get());
    }

    template <class Token>
    auto async_wait_writable(Token&& token) {
        return net::async_initiate<Token, void(boost::system::error_code)>(
            [](auto handler, impl* i) { i->wait_writable(std::move(handler)); }, token, impl_.get());
    }

    template <class Token>
    auto async_tls_shutdown(Token&& token) {
        return net::async_initiate<Token, void(boost::system::error_code)>(
            [](auto handler, impl* i) { i->tls_shutdown(std::move(handler)); }, token, impl_.get());
    }

  private:
    std::unique_ptr<impl> impl_;
};

/// Beast's WebSocket close, found by argument-dependent lookup.
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, any_stream& stream, TeardownHandler&& handler) {
    stream.get().teardown(role, wait_handler(std::forward<TeardownHandler>(handler)));
}

/// Beast's way of closing a stream's socket (a WebSocket that timed out), found by ADL.
inline void beast_close_socket(any_stream& stream) {
    stream.get().close();
}

/// A plain connection (TCP or Unix) as an any_stream.
any_stream plain_stream(net::generic::stream_protocol::socket socket);

/// A TCP connection after its TLS handshake as the server (within 30 s); nullopt when the handshake
/// failed.
net::awaitable<std::optional<any_stream>> tls_stream(net::ip::tcp::socket socket, net::ssl::context& tls);

/// A connected TCP socket after its TLS handshake as the client (the CLI): the server's certificate
/// checked against `tls`'s trust and against `host`, sent as SNI when it is a name. nullopt, with
/// `failed` saying why, when the handshake failed.
net::awaitable<std::optional<any_stream>> tls_client_stream(net::ip::tcp::socket socket,
                                                            net::ssl::context& tls,
                                                            std::string host,
                                                            boost::system::error_code& failed);

}  // namespace corral::http
