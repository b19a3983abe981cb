#pragma once
// The coroutine equivalents of a channel's blocking and polling calls, for Asio programs: they wait
// on the channel's descriptor without blocking the thread.

#include <string>

#include "corral/core/asio.hpp"
#include "corral/runner/channel.hpp"

namespace corral::runner {

/// Waits until `ch` has something, and returns it (never ""). Throws endpoint_closed once the other
/// end has closed and everything was read, like channel::read().
net::awaitable<std::string> read_some(channel& ch);

/// channel::write() as a coroutine: writes all of `data`, waiting for room without blocking the
/// thread. Throws endpoint_closed when the other end is gone.
net::awaitable<void> write_all(channel& ch, std::string data);

}  // namespace corral::runner
