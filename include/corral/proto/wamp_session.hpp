#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "corral/auth/authority.hpp"
#include "corral/proto/asexor_session.hpp"
#include "corral/proto/wamp_router.hpp"

namespace corral::proto::wamp {

/// How one WAMP connection moves whole messages: WebSocket messages or RawSocket frames, each
/// serialised as JSON or CBOR.
class link {
  public:
    virtual ~link() = default;
    /// The next message's bytes; nullopt when the connection ended or broke its framing.
    virtual net::awaitable<std::optional<std::string>> receive() = 0;
    /// False when the connection is gone.
    virtual net::awaitable<bool> send(std::string_view bytes) = 0;
    /// Ends the connection politely (a WebSocket close 1000, a RawSocket FIN).
    virtual net::awaitable<void> close() = 0;
    virtual bool cbor() const = 0;
    /// The peer's address, for the log.
    virtual const std::string& where() const = 0;
};

/// What a WAMP session reaches: the router, and what the task procedure needs.
struct services_for_wamp {
    router& realm;
    const asexor::backend& tasks;
    const auth::authority& auth;
};

/**
 * One connection's whole WAMP session. The opening: HELLO for the router's realm; with `ticket`
 * among its authmethods, a CHALLENGE whose AUTHENTICATE carries the token (the authid, when given,
 * must be the token's user); without, the anonymous role if the router allows it; then WELCOME, or
 * ABORT saying why not. After it, every message of the basic profile is routed until GOODBYE or the
 * connection ends. A CALL of the task procedure runs a task as the session's user: its RESULT is
 * the task id, and its updates follow as EVENTs of the update topic to this session alone (if it
 * subscribed). A malformed or out-of-order message is answered with ABORT
 * wamp.error.protocol_violation saying what was wrong, and the connection closes.
 */
net::awaitable<void> serve(link& l, const services_for_wamp& s);

}  // namespace corral::proto::wamp
