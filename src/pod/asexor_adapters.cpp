#include "corral/pod/asexor_adapters.hpp"

#include "corral/pod/components.hpp"
#include "corral/proto/asexor_raw.hpp"

namespace corral::pod {
namespace {

/// Stops before the HTTP listeners (it is added after them): once the running jobs have ended (their
/// last updates sent), ASEXOR's WebSocket sessions close with 1012, which a listener's cancellation
/// could not send.
class websocket_shutdown final : public component {
  public:
    websocket_shutdown(proto::asexor::websocket_route& route, services::job_service& service)
        : route_(route), service_(service) {}
    net::awaitable<void> start() override { co_return; }
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override {
        if (!forced_) {
            co_await service_.wait_idle(deadline, !service_.durable());
        }
        route_.shut_down();
        co_await route_.wait_closed(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(5)));
    }
    void force_stop() override { forced_ = true; }
    std::string describe() const override { return "ASEXOR's WebSocket sessions"; }

  private:
    proto::asexor::websocket_route& route_;
    services::job_service& service_;
    bool forced_ = false;
};

}  // namespace

asexor_adapters::asexor_adapters(const daemon_config& c, services::job_service& service)
    : config_(c), service_(service), backend_{service, c.catalog, c.api.job_defaults, c.authority} {}

void asexor_adapters::add_to(pod& p, proto::http_front& front) {
    const auto& a = config_.asexor;
    if (a.websocket) {
        websocket_ = std::make_unique<proto::asexor::websocket_route>(backend_, a.ws);
        websocket_->add_to(front);
        p.add("asexor-websocket", std::make_unique<websocket_shutdown>(*websocket_, service_));
    }
    for (const auto& r : a.raw) {
        auto handler = std::make_unique<proto::asexor::raw_handler>(
            backend_, config_.authority, service_.blocking_executor(), r.listener, r.raw);
        p.add(r.label, std::make_unique<stream_component>(r.listener, std::move(handler), service_));
    }
    for (const auto& l : a.long_poll) {
        proto::guard_options guard{.server_names = config_.api.guard.server_names,
                                   .cors_origins = l.cors_origins,
                                   .cors_credentials = true};
        auto& lp_front = *long_poll_fronts_.emplace_back(
            std::make_unique<proto::http_front>(std::move(guard), config_.authority, service_.blocking_executor()));
        auto& route = *long_poll_routes_.emplace_back(std::make_unique<proto::asexor::long_poll_route>(
            backend_, config_.authority, service_.blocking_executor(), l.poll));
        route.add_to(lp_front);
        p.add(l.label, std::make_unique<http_component>(l.listener, lp_front, lp_front, service_));
    }
    if (!config_.wamp.enabled) {
        return;
    }
    wamp_ = std::make_unique<proto::wamp::router>(config_.wamp.router);
    wamp_services_ = std::make_unique<proto::wamp::services_for_wamp>(
        proto::wamp::services_for_wamp{*wamp_, backend_, config_.authority});
    for (const auto& w : config_.wamp.websocket) {
        proto::guard_options guard{.server_names = config_.api.guard.server_names, .cors_origins = w.cors_origins};
        auto& wamp_front = *wamp_fronts_.emplace_back(
            std::make_unique<proto::http_front>(std::move(guard), config_.authority, service_.blocking_executor()));
        auto& route = *wamp_routes_.emplace_back(std::make_unique<proto::wamp::websocket_route>(*wamp_services_, w.path));
        route.add_to(wamp_front);
        p.add(w.label, std::make_unique<http_component>(w.listener, wamp_front, wamp_front, service_));
    }
    for (const auto& r : config_.wamp.rawsocket) {
        auto handler = std::make_unique<proto::wamp::rawsocket_handler>(*wamp_services_, r.listener, r.max_message);
        p.add(r.label, std::make_unique<stream_component>(r.listener, std::move(handler), service_));
    }
}

}  // namespace corral::pod
