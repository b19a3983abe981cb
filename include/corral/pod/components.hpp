#pragma once

#include <memory>

#include "corral/net/http_listener.hpp"
#include "corral/pod/pod.hpp"
#include "corral/services/job_service.hpp"
#include "corral/jobs/job_journal.hpp"
#include "corral/tasks/task_catalog.hpp"

namespace corral::pod {

/// The durable store as a component. It starts first, giving the service the jobs it kept (queued
/// ones resume, running ones are lost), and stops last, once every record is committed.
class store_component final : public component {
  public:
    store_component(jobs::job_journal& store,
                    services::job_service& service,
                    const tasks::task_catalog& catalog)
        : store_(store), service_(service), catalog_(catalog) {}
    net::awaitable<void> start() override;
    void stop_accepting() override {}
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override;
    void force_stop() override {}
    std::string describe() const override;

  private:
    jobs::job_journal& store_;
    services::job_service& service_;
    const tasks::task_catalog& catalog_;
    services::job_service::restore_report report_;
};

/// The job service as a component: it stops last, draining running jobs until the deadline.
class jobs_component final : public component {
  public:
    explicit jobs_component(services::job_service& service) : service_(service) {}
    net::awaitable<void> start() override;
    /// With a store, queued jobs start no more: they wait for the next start instead of being
    /// started now and stopped at the deadline.
    void stop_accepting() override;
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override;
    void force_stop() override { service_.force_stop(); }
    std::string describe() const override;

  private:
    services::job_service& service_;
};

/// One HTTP listener. While stopping it keeps open connections (watchers) until the jobs have
/// finished or the deadline has come, so watchers see the end of the jobs they follow.
class http_component final : public component {
  public:
    http_component(http::listener_options options,
                   http::handler& routes,
                   http::request_counter& counter,
                   services::job_service& service)
        : options_(std::move(options)), routes_(routes), counter_(counter), service_(service) {}
    net::awaitable<void> start() override;
    void stop_accepting() override;
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override;
    void force_stop() override;
    std::string describe() const override;
    unsigned short port() const { return listener_ ? listener_->port() : 0; }
    const http::listener_options& options() const { return options_; }

  private:
    http::listener_options options_;
    http::handler& routes_;
    http::request_counter& counter_;
    services::job_service& service_;
    std::unique_ptr<sockets::stream_listener> listener_;
    bool forced_ = false;
};

/// A listener of a protocol that frames its own bytes (ASEXOR's raw socket). Like http_component, it
/// keeps open connections while stopping until the jobs have finished or the deadline has come.
class stream_component final : public component {
  public:
    stream_component(sockets::stream_options options,
                     std::unique_ptr<sockets::connection_handler> handler,
                     services::job_service& service)
        : options_(std::move(options)), handler_(std::move(handler)), service_(service) {}
    net::awaitable<void> start() override;
    void stop_accepting() override;
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override;
    void force_stop() override { forced_ = true; }
    std::string describe() const override;
    unsigned short port() const { return listener_ ? listener_->port() : 0; }

  private:
    sockets::stream_options options_;
    std::unique_ptr<sockets::connection_handler> handler_;
    services::job_service& service_;
    std::unique_ptr<sockets::stream_listener> listener_;
    bool forced_ = false;
};

}  // namespace corral::pod
