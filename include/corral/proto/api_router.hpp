#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "corral/auth/authority.hpp"
#include "corral/net/http_types.hpp"
#include "corral/proto/http_front.hpp"
#include "corral/proto/http_replies.hpp"
#include "corral/proto/request_guard.hpp"
#include "corral/proto/watch_session.hpp"
#include "corral/services/job_request.hpp"
#include "corral/services/job_service.hpp"
#include "corral/services/schedules.hpp"
#include "corral/services/supervisor.hpp"
#include "corral/tasks/task_catalog.hpp"

namespace corral::proto {

class acons_rpc;

struct api_options {
    watch_options watch;
    /// Which Host names and web origins may reach the API (docs/security.md).
    guard_options guard;
    /// Serve acons's JSON-RPC at POST /rpc-run.
    bool acons = true;
    /// How much of a job's output one acons reply carries (run/sync_run, flush_lines).
    std::size_t acons_max_output = 16 << 20;
    std::size_t acons_max_flush = 1 << 20;
    /// The longest `wait=` a long-poll may ask for.
    std::chrono::seconds max_wait{300};
    /// How long a stdin write waits for the job to read it before it fails.
    std::chrono::milliseconds stdin_timeout{30'000};
    services::request_limits limits;
    /// Defaults every submitted job starts from (stop plan, output cap).
    jobs::job_spec job_defaults;
    std::size_t max_batch = 10000;
    /// A directory whose files are served at / (the web page); empty serves none.
    std::string web_root;
};

/**
 * The native API under /api/v1 (jobs, output by cursor, SSE and WebSocket streams), /healthz and
 * /metrics, with acons's /rpc-run beside them. Every route is in docs/protocol.md. It registers its
 * paths on the listeners' http_front, which has already guarded and authenticated each request.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class api_router final : public http_route {
  public:
    /// `auth` and `catalog` must outlive the router.
    api_router(services::job_service& service,
               api_options options,
               const auth::authority& auth,
               const tasks::task_catalog& catalog);
    ~api_router() override;

    /// Registers /api/v1/, /metrics, /healthz and (when enabled) /rpc-run on `front`, whose request
    /// counts /metrics then shows.
    void add_routes(http_front& front);
    net::awaitable<http::reply> serve(http::request& req,
                                      const http::peer& who,
                                      const auth::identity& me,
                                      const target& t) override;
    std::string metrics_text() const;
    /// Serves /api/v1/services from `s` (without it, that path lists no services).
    void set_supervisor(services::supervisor& s) { supervisor_ = &s; }
    /// Serves /api/v1/schedules from `s` (without it, that path lists no schedules).
    void set_schedules(services::schedule_runner& s) { schedules_ = &s; }
    /// A schedule's job read as POST /api/v1/jobs reads a job (for schedule_runner's job_maker).
    result_info<services::submit_request> read_job(const boost::json::object& job) { return parse_submission(job); }
    /// How `POST /api/v1/services` reads a service (the daemon's [[service]] reader, so that both
    /// check the same things); without it services cannot be added over the API.
    using service_parser = std::function<result_info<services::service_def>(const boost::json::object&)>;
    void set_service_parser(service_parser p) { parse_service_ = std::move(p); }
    /// The pod's components for /api/v1/components: their list (id, label, description), and how a
    /// signal reaches those of one label (what they did, or an error for an unknown label).
    struct component_access {
        std::function<boost::json::array()> list;
        std::function<result_info<std::string>(const std::string& label, int sig)> signal;
    };
    void set_components(component_access c) { components_ = std::move(c); }

  private:
    using identity = auth::identity;
    net::awaitable<http::reply> route(http::request& req,
                                      const http::peer& who,
                                      const identity& me,
                                      const target& t);
    net::awaitable<http::reply> route_api(http::request& req,
                                          const http::peer& who,
                                          const identity& me,
                                          const target& t);
    /// The read-only routes of one segment (tasks, audit, idle, events, stream): GET only. Empty for
    /// any other path.
    net::awaitable<std::optional<http::reply>> route_view(http::request& req,
                                                          const http::peer& who,
                                                          const identity& me,
                                                          const target& t);
    net::awaitable<http::reply> route_job(http::request& req,
                                          const http::peer& who,
                                          const identity& me,
                                          const target& t,
                                          jobs::job_id id);
    /// /api/v1/components[/LABEL/signal] (api_services.cpp).
    net::awaitable<http::reply> route_components(http::request& req, const identity& me, const target& t);
    /// /api/v1/services[/NAME[/start|stop|restart|stdin|output]] (api_services.cpp).
    /// POST /api/v1/services: a service added at run time (admin).
    http::reply add_service(const http::request& req, const identity& me);
    /// /api/v1/schedules[/NAME] (api_schedules.cpp): list (see_all), add and remove (admin).
    http::reply route_schedules(const http::request& req, const identity& me, const target& t);
    net::awaitable<http::reply> route_services(http::request& req,
                                               const http::peer& who,
                                               const identity& me,
                                               const target& t);
    result_info<services::submit_request> parse_submission(const boost::json::value& body);
    /// Both reply once the jobs are committed (job_service::submit_as).
    net::awaitable<http::reply> submit(const http::request& req, const identity& me);
    net::awaitable<http::reply> submit_batch(const http::request& req, const identity& me);
    http::reply list(const target& t, const identity& me);
    http::reply queue(const http::request& req, const identity& me, std::string_view action);
    http::reply tasks() const;
    /// GET /api/v1/me: the caller's user and what their role may do (a page shows only that).
    http::reply who_am_i(const identity& me) const;
    http::reply kill(const http::request& req, jobs::job& j, const identity& me);
    /// The subscription a stream reads: the one named by `session=ID` (resumed), or a new one.
    result_info<std::shared_ptr<services::subscription>> subscription_for(const target& t, const identity& me);
    static http::reply subscription_error(const error_info& e);
    net::awaitable<http::reply> audit(const target& t, const identity& me);
    // The long-polls: each gives up its wait when its client goes away (http::connection).
    net::awaitable<http::reply> write_stdin(http::request& req, const http::peer& who, const target& t, jobs::job_id id);
    net::awaitable<http::reply> read_output(const http::peer& who, const target& t, jobs::job_id id);
    net::awaitable<http::reply> wait(const http::peer& who, const target& t, jobs::job_id id);
    net::awaitable<http::reply> idle(const http::peer& who, const target& t);
    http::reply events(const http::request& req, const target& t, const identity& me);
    http::reply websocket(const http::request& req, const target& t, const identity& me);

    services::job_service& service_;
    api_options options_;
    const auth::authority& auth_;
    const tasks::task_catalog& catalog_;
    watch_stats watch_stats_;
    output_frames output_frames_;
    std::unique_ptr<acons_rpc> acons_;
    const http_front* front_ = nullptr;
    services::supervisor* supervisor_ = nullptr;
    services::schedule_runner* schedules_ = nullptr;
    service_parser parse_service_;
    component_access components_;
};

}  // namespace corral::proto
