#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "corral/pod/daemon_config.hpp"
#include "corral/pod/pod.hpp"
#include "corral/proto/asexor_long_poll.hpp"
#include "corral/proto/asexor_websocket.hpp"
#include "corral/proto/wamp_transports.hpp"

namespace corral::pod {

/**
 * ASEXOR's protocols as `[asexor]` and `[wamp]` configure them (docs/asexor.md): the WebSocket
 * route on the HTTP listeners' front, a component for each raw-socket and long-poll listener, and
 * the WAMP router with a component for each of its listeners. Owns the adapters; must outlive the
 * pod's run.
 */
class asexor_adapters {
  public:
    /// `c` and `service` must outlive it.
    asexor_adapters(const daemon_config& c, services::job_service& service);
    /// Registers the WebSocket route on `front` (every [[http]] listener) and adds the listeners'
    /// components to `p`.
    void add_to(pod& p, proto::http_front& front);

  private:
    const daemon_config& config_;
    services::job_service& service_;
    proto::asexor::backend backend_;
    std::unique_ptr<proto::asexor::websocket_route> websocket_;
    /// Each long-poll listener has a front of its own: its route is `/`, and its pages may send
    /// the session cookie.
    std::vector<std::unique_ptr<proto::http_front>> long_poll_fronts_;
    std::vector<std::unique_ptr<proto::asexor::long_poll_route>> long_poll_routes_;
    std::unique_ptr<proto::wamp::router> wamp_;
    std::unique_ptr<proto::wamp::services_for_wamp> wamp_services_;
    /// Each WAMP WebSocket listener has a front of its own: WAMP authenticates inside its session.
    std::vector<std::unique_ptr<proto::http_front>> wamp_fronts_;
    std::vector<std::unique_ptr<proto::wamp::websocket_route>> wamp_routes_;
};

}  // namespace corral::pod
