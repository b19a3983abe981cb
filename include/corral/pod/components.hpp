#pragma once

#include <memory>

#include "corral/auth/authority.hpp"
#include "corral/console/interpreter.hpp"
#include "corral/core/task_group.hpp"
#include "corral/net/http_listener.hpp"
#include "corral/pod/pod.hpp"
#include "corral/services/job_service.hpp"
#include "corral/services/schedules.hpp"
#include "corral/services/supervisor.hpp"
#include "corral/jobs/job_journal.hpp"
#include "corral/tasks/task_catalog.hpp"

namespace corral::pod {

/// The durable store as a component. It starts first, giving the service the jobs it kept (queued
/// ones resume, running ones are lost), and stops last, once every record is committed.
class store_component final : public component {
  public:
    store_component(jobs::job_journal& store,
                    services::job_service& service,
                    const tasks::task_catalog& catalog,
                    services::schedule_runner* schedules = nullptr)
        : store_(store), service_(service), catalog_(catalog), schedules_(schedules) {}
    net::awaitable<void> start() override;
    void stop_accepting() override {}
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override;
    void force_stop() override {}
    std::string describe() const override;

  private:
    jobs::job_journal& store_;
    services::job_service& service_;
    const tasks::task_catalog& catalog_;
    services::schedule_runner* schedules_;
    services::job_service::restore_report report_;
};

/// The job service as a component: it stops last, draining running jobs until the deadline. Its
/// schedules fire while it runs: they start with it and stop first.
class jobs_component final : public component {
  public:
    explicit jobs_component(services::job_service& service, services::schedule_runner* schedules = nullptr)
        : service_(service), schedules_(schedules) {}
    net::awaitable<void> start() override;
    /// With a store, queued jobs start no more: they wait for the next start instead of being
    /// started now and stopped at the deadline.
    void stop_accepting() override;
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override;
    void force_stop() override { service_.force_stop(); }
    std::string describe() const override;

  private:
    services::job_service& service_;
    services::schedule_runner* schedules_;
};

/// The services ([[service]]) as a component: started after the job service (each service then
/// waits for what it comes after), stopped before it, in reverse dependency order.
class services_component final : public component {
  public:
    explicit services_component(services::supervisor& supervisor) : supervisor_(supervisor) {}
    net::awaitable<void> start() override;
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override;
    void force_stop() override { supervisor_.force_stop(); }
    /// To every service's running process tree (SIGHUP: reload, for most daemons).
    std::string signal(int sig) override;
    std::string describe() const override;

  private:
    services::supervisor& supervisor_;
};

/// The console on corrald's own stdin and stdout (`corrald run --console`), as the user who started
/// corrald (the local role). Its end (`exit`, or end of input) stops corrald, as Ctrl-D ends a REPL.
class stdin_console_component final : public component {
  public:
    stdin_console_component(const console::interpreter& commands,
                            const auth::authority& auth,
                            net::any_io_executor blocking,
                            std::function<void()> on_end)
        : commands_(commands), auth_(auth), blocking_(std::move(blocking)), on_end_(std::move(on_end)) {}
    net::awaitable<void> start() override;
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override;
    std::string describe() const override { return "the console on stdin and stdout"; }

  private:
    net::awaitable<void> run();

    const console::interpreter& commands_;
    const auth::authority& auth_;
    net::any_io_executor blocking_;
    std::function<void()> on_end_;
    std::unique_ptr<task_group> session_;
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
