#pragma once

#include "corral/net/http_types.hpp"
#include "net/any_stream.hpp"

namespace corral::http {

/**
 * Notices that the client of a waiting request has closed its end: its socket turns readable and
 * POLLRDHUP (or an error) says the peer will send nothing more. A client that sent more instead (a
 * pipelined request, a TLS alert) is checked once a second until the work ends.
 *
 * Watches the socket only while the session does not read it (between a request and its reply).
 */
class client_watch final : public connection {
  public:
    explicit client_watch(any_stream& stream) : stream_(stream) {}
    net::awaitable<bool> unless_gone(net::awaitable<void> work) override;

  private:
    net::awaitable<void> gone();
    any_stream& stream_;
};

}  // namespace corral::http
