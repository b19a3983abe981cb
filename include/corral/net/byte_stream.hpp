#pragma once
// For protocols that frame their own bytes (ASEXOR's length-prefixed CBOR, say): each connection of a
// stream_listener as a plain byte stream, the same over TCP, TLS and a Unix socket.

#include <chrono>
#include <cstddef>
#include <span>
#include <string_view>

#include "corral/net/stream_listener.hpp"

namespace corral::sockets {

/// One connection's bytes. At most one read and one write at a time (they may overlap).
class byte_stream {
  public:
    virtual ~byte_stream() = default;
    /// Some bytes into `into`: how many, or 0 when the peer closed, the connection failed, or it
    /// was closed for idling (stream_options::idle_timeout) or for a write the peer did not take.
    virtual net::awaitable<std::size_t> read_some(std::span<char> into) = 0;
    /// All of `bytes`; false when the connection is gone or the peer did not take them within
    /// stream_options::write_timeout (which closes the connection).
    virtual net::awaitable<bool> write(std::string_view bytes) = 0;
    /// Ends the connection politely: TLS close_notify, else a FIN.
    virtual net::awaitable<void> shutdown() = 0;
};

/**
 * A connection_handler that gives each connection to serve() as a byte_stream, after the TLS
 * handshake when the listener has TLS. A connection on which nothing is read or written for
 * `idle_timeout` is closed, as is one whose peer takes longer than `write_timeout` over one write.
 */
class byte_stream_handler : public connection_handler {
  public:
    explicit byte_stream_handler(const stream_options& options)
        : idle_timeout_(options.idle_timeout), write_timeout_(options.write_timeout) {}

    /// One connection's whole life; returning closes it.
    virtual net::awaitable<void> serve(byte_stream& stream, const peer& who) = 0;

    net::awaitable<void> serve_tcp(net::ip::tcp::socket socket, peer who) final;
    net::awaitable<void> serve_tls(net::ip::tcp::socket socket, net::ssl::context& tls, peer who) final;
    net::awaitable<void> serve_unix(net::local::stream_protocol::socket socket, peer who) final;

  private:
    std::chrono::seconds idle_timeout_;
    std::chrono::milliseconds write_timeout_;
};

}  // namespace corral::sockets
