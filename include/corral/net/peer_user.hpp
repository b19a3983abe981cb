#pragma once

#include <optional>
#include <string>

#include "corral/core/asio.hpp"
#include "corral/net/stream_listener.hpp"

namespace corral::sockets {

/// The Unix socket peer's user name (or "uid:N"); empty for TCP peers. Looked up through NSS on
/// `blocking` (the blocking-work thread), then remembered for a minute. Every surface that trusts
/// a Unix socket's peer (HTTP, ASEXOR's raw socket, the console) asks this.
net::awaitable<std::optional<std::string>> local_user(const peer& who, net::any_io_executor blocking);

}  // namespace corral::sockets
