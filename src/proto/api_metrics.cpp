// api_router's /metrics: the Prometheus text of the job service, the watchers and the requests.
#include "corral/core/prometheus.hpp"
#include "corral/jobs/job_state.hpp"
#include "corral/proto/api_router.hpp"

namespace corral::proto {
namespace {

/// The job table, the queue and the spawn latency.
void job_metrics(prometheus_text& out, services::job_service& service) {
    std::map<jobs::job_state, int> by_state;
    for (auto* j : service.all()) {
        ++by_state[j->state];
    }
    out.family("corral_jobs", "gauge", "Jobs in the table by state.");
    for (auto s : jobs::all_job_states()) {
        out.sample("corral_jobs", {{"state", std::string(jobs::to_string(s))}}, by_state[s]);
    }
    out.family("corral_jobs_submitted_total", "counter", "Jobs submitted since start.");
    out.sample("corral_jobs_submitted_total", static_cast<double>(service.stats().submitted));
    out.family("corral_jobs_finished_total", "counter", "Jobs finished since start, by outcome.");
    for (const auto& [state, n] : service.stats().finished) {
        out.sample("corral_jobs_finished_total",
                   {{"state", std::string(jobs::to_string(state))}},
                   static_cast<double>(n));
    }
    out.family("corral_jobs_running", "gauge", "Jobs running now.");
    out.sample("corral_jobs_running", static_cast<double>(service.running()));
    out.family("corral_jobs_queued", "gauge", "Jobs waiting for a slot.");
    out.sample("corral_jobs_queued", static_cast<double>(service.queued()));
    out.family("corral_concurrency", "gauge", "Jobs allowed to run at once.");
    out.sample("corral_concurrency", service.concurrency());
    out.family("corral_spawn_latency_seconds", "histogram", "Time from a free slot to the running process.");
    out.histogram_samples("corral_spawn_latency_seconds", service.stats().spawn_latency);
}

/// Subscriptions and their events.
void subscription_metrics(prometheus_text& out, const services::event_hub& hub) {
    out.family("corral_subscriptions", "gauge", "Subscriptions kept, read or waiting for their reader to come back.");
    out.sample("corral_subscriptions", static_cast<double>(hub.size()));
    out.family("corral_job_events_total", "counter", "Job events numbered since start.");
    out.sample("corral_job_events_total", static_cast<double>(hub.stats().events));
    out.family("corral_subscription_events_dropped_total",
               "counter",
               "Events dropped for subscriptions that fell behind (api.subscription_events).");
    out.sample("corral_subscription_events_dropped_total", static_cast<double>(hub.stats().dropped));
    out.family("corral_subscriptions_expired_total",
               "counter",
               "Subscriptions let go after nobody read them for api.subscription_linger.");
    out.sample("corral_subscriptions_expired_total", static_cast<double>(hub.stats().expired));
}

}  // namespace

std::string api_router::metrics_text() const {
    prometheus_text out;
    auto& service = const_cast<services::job_service&>(service_);
    job_metrics(out, service);
    subscription_metrics(out, service.events());
    out.family("corral_stream_bytes_total", "counter", "Output bytes sent to watchers.");
    out.sample("corral_stream_bytes_total", static_cast<double>(watch_stats_.bytes_streamed));
    out.family("corral_watcher_deferrals_total",
               "counter",
               "Times a watcher's next message waited while a job poured out output (api.watcher_defer).");
    out.sample("corral_watcher_deferrals_total", static_cast<double>(watch_stats_.deferrals));
    out.family("corral_output_pouring_blocks_total",
               "counter",
               "Big blocks taken from a job's pipe: the job wrote faster than it was read (watchers defer).");
    out.sample("corral_output_pouring_blocks_total", static_cast<double>(service_.pressure().pouring_blocks()));
    out.family("corral_idempotency_keys", "gauge", "Idempotency keys remembered (they go with their jobs).");
    out.sample("corral_idempotency_keys", static_cast<double>(service_.idempotency_keys()));
    out.family("corral_watchers", "gauge", "Open WebSocket and SSE watchers.");
    out.sample("corral_watchers", static_cast<double>(watch_stats_.watchers));
    out.family("corral_http_requests_total", "counter", "HTTP requests answered, by status.");
    for (const auto& [status, n] : front_ ? front_->requests() : std::map<unsigned, std::uint64_t>{}) {
        out.sample(
            "corral_http_requests_total", {{"status", std::to_string(status)}}, static_cast<double>(n));
    }
    return out.str();
}

}  // namespace corral::proto
