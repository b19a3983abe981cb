#pragma once

#include <cstddef>
#include <cstdint>

#include "corral/net/byte_stream.hpp"
#include "corral/proto/asexor_frame.hpp"
#include "corral/proto/asexor_session.hpp"

namespace corral::proto::asexor {

struct raw_options {
    /// Calls carry the `user` and `role` they run for. For a trusted proxy only: its token must be
    /// an admin's.
    bool delegated = false;
    /// Never send update messages (ASEXOR's `no_update`).
    bool no_update = false;
    /// The largest frame payload taken; a larger one closes the connection ("Frame too big").
    std::size_t max_frame = max_frame_payload;
    /// Messages of a frame's CBOR.
    cbor_limits cbor;
};

/// The answer to the token frame: one byte.
enum class handshake : std::uint8_t {
    ok = 0,
    authentication_failed = 1,  ///< then the connection closes
    configuration_error = 2,    ///< then the connection closes: the server cannot open a session
};

/// Connections served, for tests and /metrics.
struct raw_stats {
    std::uint64_t connections = 0;
    std::uint64_t refused = 0;          ///< handshakes answered 1 or 2
    std::uint64_t protocol_errors = 0;  ///< connections closed for a bad frame or message
};

/**
 * ASEXOR's raw socket over TCP, TLS or a Unix socket (research/seeds-inventory.md §4.3): 4-byte
 * framed messages; the client's first data frame is its token, answered by one frame (handshake);
 * then CBOR call messages in and CBOR replies, errors and updates out. Pings are answered with a
 * pong carrying the same payload (ASEXOR left them unimplemented). A frame over the limit, an
 * unknown frame type, a payload that is not CBOR, or a call without a call id closes the
 * connection, with the reason logged; a call that has an id gets an error message instead.
 * Updates for a connection that has gone are not kept: nothing resumes a raw session.
 */
class raw_handler final : public sockets::byte_stream_handler {
  public:
    /// `b` and `auth` must outlive the handler; `blocking` looks up Unix socket peers' names.
    raw_handler(const backend& b,
                const auth::authority& auth,
                net::any_io_executor blocking,
                const sockets::stream_options& stream,
                raw_options options);

    net::awaitable<void> serve(sockets::byte_stream& stream, const sockets::peer& who) override;
    const raw_stats& stats() const { return stats_; }

  private:
    /// Reads the token frame and answers it; the caller once known.
    net::awaitable<std::optional<auth::identity>> accept(sockets::byte_stream& stream,
                                                         const sockets::peer& who,
                                                         frame_decoder& frames);

    const backend& backend_;
    const auth::authority& auth_;
    net::any_io_executor blocking_;
    raw_options options_;
    raw_stats stats_;
};

}  // namespace corral::proto::asexor
