#include "corral/pod/components.hpp"

#include <unistd.h>

#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/this_coro.hpp>

#include "corral/proc/launcher.hpp"
#include "corral/proc/signals.hpp"
#include "corral/console/stream_io.hpp"
#include "corral/net/peer_user.hpp"

namespace corral::pod {

net::awaitable<void> store_component::start() {
    service_.set_journal(&store_);
    auto loaded = store_.take_loaded();
    report_ = service_.restore(std::move(loaded.jobs), loaded.next_id, [this](std::string_view name) {
        return catalog_.find_shared(name);
    });
    if (schedules_) {
        schedules_->restore(std::move(loaded.schedules));
    }
    co_return;
}

net::awaitable<void> store_component::stop(std::chrono::steady_clock::time_point) {
    // The jobs have stopped (this component stops last): their final records are queued; commit them.
    auto flushed = co_await store_.flush();
    if (!flushed) {
        spdlog::error("{}", flushed.error().what());
    }
}

std::string store_component::describe() const {
    return fmt::format("{}: {} queued job(s) resume, {} lost{}, {} kept",
                       store_.describe(),
                       report_.resumed,
                       report_.lost,
                       report_.killed ? fmt::format(" ({} leftover process(es) killed)", report_.killed) : "",
                       report_.kept);
}

net::awaitable<void> jobs_component::start() {
    if (schedules_) {
        schedules_->start();
    }
    co_return;
}

void jobs_component::stop_accepting() {
    if (service_.durable()) {
        service_.set_draining(true, "corrald");
    }
}

net::awaitable<void> jobs_component::stop(std::chrono::steady_clock::time_point deadline) {
    if (schedules_) {
        co_await schedules_->stop();
    }
    co_await service_.drain(deadline);
}

std::string jobs_component::describe() const {
    const auto schedules = schedules_ ? schedules_->all().size() : 0;
    return fmt::format("up to {} jobs at once, process trees by {}{}",
                       service_.concurrency(),
                       proc::to_string(service_.launcher().mechanism()),
                       schedules > 0 ? fmt::format("; {} schedule(s)", schedules) : "");
}

net::awaitable<void> services_component::start() {
    supervisor_.start();
    co_return;
}

net::awaitable<void> services_component::stop(std::chrono::steady_clock::time_point deadline) {
    co_await supervisor_.stop(deadline);
}

std::string services_component::signal(int sig) {
    const auto sent = supervisor_.signal_running(sig);
    return fmt::format("sent {} to {} running service(s)", proc::signal_name(sig), sent);
}

std::string services_component::describe() const {
    const auto all = supervisor_.list();
    std::size_t autostart = 0;
    for (const auto* s : all) {
        autostart += s->def.autostart ? 1 : 0;
    }
    return fmt::format("{} service(s), {} started with corrald", all.size(), autostart);
}

net::awaitable<void> stdin_console_component::start() {
    session_ = std::make_unique<task_group>(co_await net::this_coro::executor);
    session_->spawn(run(), "the console on stdin");
}

net::awaitable<void> stdin_console_component::run() {
    sockets::peer self;
    self.local_socket = true;
    self.uid = ::geteuid();
    const auto user = co_await sockets::local_user(self, blocking_);
    auto me = auth_.identify(std::nullopt, user);
    if (!me) {
        spdlog::error("the console on stdin: {}", me.error().what());
        co_return;
    }
    auto stream = console::stdio_stream(co_await net::this_coro::executor, STDIN_FILENO, STDOUT_FILENO);
    console::stream_io io(*stream, 64 * 1024);
    console::session s{*me, io, {}};
    co_await commands_.interact(s);
    on_end_();
}

net::awaitable<void> stdin_console_component::stop(std::chrono::steady_clock::time_point) {
    if (session_) {
        session_->cancel_all();
        co_await session_->wait();
    }
}

net::awaitable<void> http_component::start() {
    auto listener =
        http::listen_http(co_await net::this_coro::executor, options_, routes_, &counter_);
    if (!listener) {
        throw std::runtime_error(listener.error().what());
    }
    listener_ = std::move(*listener);
    listener_->start([this](std::string why) { failed(std::move(why)); });
}

void http_component::stop_accepting() {
    if (listener_) {
        listener_->stop_accepting();
    }
}

net::awaitable<void> http_component::stop(std::chrono::steady_clock::time_point deadline) {
    if (!listener_) {
        co_return;
    }
    if (!forced_) {
        // Watchers see the running jobs end; queued ones wait for the next start when there is a store.
        co_await service_.wait_idle(deadline, !service_.durable());
    }
    co_await listener_->close_connections();
}

void http_component::force_stop() {
    forced_ = true;
}

std::string http_component::describe() const {
    if (!listener_) {
        return options_.endpoint;
    }
    if (options_.endpoint.starts_with("unix:")) {
        return fmt::format("{} (CLI socket)", options_.endpoint.substr(5));
    }
    return fmt::format(
        "{}://{}",
        listener_->describe().ends_with("(TLS)") ? "https" : "http",
        fmt::format("{}:{}", options_.endpoint.substr(0, options_.endpoint.rfind(':')), listener_->port()));
}

net::awaitable<void> stream_component::start() {
    auto listener = sockets::stream_listener::create(co_await net::this_coro::executor, options_, *handler_);
    if (!listener) {
        throw std::runtime_error(listener.error().what());
    }
    listener_ = std::move(*listener);
    listener_->start([this](std::string why) { failed(std::move(why)); });
}

void stream_component::stop_accepting() {
    if (listener_) {
        listener_->stop_accepting();
    }
}

net::awaitable<void> stream_component::stop(std::chrono::steady_clock::time_point deadline) {
    if (!listener_) {
        co_return;
    }
    if (!forced_) {
        co_await service_.wait_idle(deadline, !service_.durable());
    }
    co_await listener_->close_connections();
}

std::string stream_component::describe() const {
    if (!listener_) {
        return options_.endpoint;
    }
    if (options_.endpoint.starts_with("unix:")) {
        return options_.endpoint.substr(5);
    }
    return fmt::format("{}:{}{}",
                       options_.endpoint.substr(0, options_.endpoint.rfind(':')),
                       listener_->port(),
                       listener_->describe().ends_with("(TLS)") ? " (TLS)" : "");
}

}  // namespace corral::pod
