#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "corral/net/http_types.hpp"
#include "corral/proto/http_replies.hpp"
#include "corral/proto/watch_session.hpp"
#include "corral/services/job_request.hpp"
#include "corral/services/job_service.hpp"

namespace corral::proto {

class acons_rpc;

struct api_options {
    watch_options watch;
    /// Sent as Access-Control-Allow-Origin on every reply when set ("*" is what acons allowed).
    std::string cors_origin;
    /// Serve acons's JSON-RPC at POST /rpc-run.
    bool acons = true;
    /// The longest `wait=` a long-poll may ask for.
    std::chrono::seconds max_wait{300};
    services::request_limits limits;
    /// Defaults every submitted job starts from (stop plan, output cap).
    jobs::job_spec job_defaults;
    std::size_t max_batch = 10000;
};

/**
 * The daemon's HTTP surface: the native API under /api/v1 (jobs, output by cursor, SSE and WebSocket
 * streams), /healthz, /metrics and acons's /rpc-run. Every route is in docs/protocol.md. One router
 * serves every listener, so its request counts cover them all.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class api_router final : public http::handler, public http::request_counter {
  public:
    api_router(services::job_service& service, api_options options);
    ~api_router() override;

    net::awaitable<http::reply> handle(http::request& req, const http::peer& who) override;
    void count(unsigned status) override { ++requests_[status]; }
    std::string metrics_text() const;

  private:
    net::awaitable<http::reply> route(http::request& req, const http::peer& who, const target& t);
    net::awaitable<http::reply> route_job(http::request& req, const target& t, jobs::job_id id);
    http::reply submit(const http::request& req, const http::peer& who);
    http::reply submit_batch(const http::request& req, const http::peer& who);
    http::reply list(const target& t);
    http::reply kill(const http::request& req, jobs::job& j);
    net::awaitable<http::reply> write_stdin(http::request& req, const target& t, jobs::job_id id);
    net::awaitable<http::reply> read_output(const target& t, jobs::job_id id);
    net::awaitable<http::reply> wait(const target& t, jobs::job_id id);
    net::awaitable<http::reply> idle(const target& t);
    http::reply events(const http::request& req, const target& t);
    http::reply websocket(const http::request& req, const target& t);
    net::awaitable<http::reply> rpc(const http::request& req, const http::peer& who);

    services::job_service& service_;
    api_options options_;
    watch_stats watch_stats_;
    output_frames output_frames_;
    std::map<unsigned, std::uint64_t> requests_;
    std::unique_ptr<acons_rpc> acons_;
};

/// The job owner for a connection: the Unix peer's user name, or "anonymous" (auth comes later).
std::string owner_of(const http::peer& who);

}  // namespace corral::proto
