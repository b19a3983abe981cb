#pragma once

#include <cstddef>
#include <cstdint>

#include "corral/auth/authority.hpp"
#include "corral/console/interpreter.hpp"
#include "corral/console/stream_io.hpp"
#include "corral/net/byte_stream.hpp"

namespace corral::console {

/// Sessions served, for tests and logs.
struct console_stats {
    std::uint64_t sessions = 0;
    std::uint64_t refused = 0;  ///< a wrong or missing token
};

/**
 * The operator console over a byte stream (a `[[console]]` listener: TCP, TLS or a Unix socket).
 * A Unix socket's peer is who it is (the local role); over TCP a client that is not let in
 * anonymously (`auth.anonymous_role`) sends its token as its first line, before any banner, and a
 * wrong one gets `Authentication failed.` and the connection closes. Then the interpreter runs with
 * the caller's identity, whose role limits every command. Lines longer than `max_line` are dropped
 * with a message.
 */
class console_handler final : public sockets::byte_stream_handler {
  public:
    /// `commands` and `auth` must outlive the handler; `blocking` looks up Unix socket peers' names.
    console_handler(const interpreter& commands,
                    const auth::authority& auth,
                    net::any_io_executor blocking,
                    const sockets::stream_options& stream,
                    std::size_t max_line);

    net::awaitable<void> serve(sockets::byte_stream& stream, const sockets::peer& who) override;
    const console_stats& stats() const { return stats_; }

  private:
    const interpreter& commands_;
    const auth::authority& auth_;
    net::any_io_executor blocking_;
    std::size_t max_line_;
    console_stats stats_;
};

}  // namespace corral::console
