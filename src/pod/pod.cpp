#include "corral/pod/pod.hpp"

#include <unistd.h>

#include <csignal>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "corral/core/log_exceptions.hpp"
#include "corral/core/parse.hpp"

namespace corral::pod {
namespace {

using namespace boost::asio::experimental::awaitable_operators;
using std::chrono::steady_clock;

}  // namespace

pod::pod(net::io_context& io, std::chrono::milliseconds stop_wait)
    : io_(io), stop_wait_(stop_wait), signals_(io, SIGINT, SIGTERM), hangup_(io, SIGHUP), failed_(io.get_executor()) {}

int pod::add(std::string label, std::unique_ptr<component> c) {
    const int id = static_cast<int>(components_.size()) + 1;
    c->on_failure([this, id, label](std::string why) {
        spdlog::error("component {} ({}) failed: {}", id, label, why);
        fail(fmt::format("component {} ({}) failed: {}", id, label, why));
    });
    components_.push_back({id, std::move(label), std::move(c)});
    return id;
}

void pod::fail(std::string why) {
    if (failure_.empty()) {
        failure_ = std::move(why);
        failed_.notify_all();
    }
}

void pod::request_stop(std::string why) {
    if (stop_reason_.empty()) {
        stop_reason_ = std::move(why);
        failed_.notify_all();
    }
}

std::vector<pod::summary> pod::list() const {
    std::vector<summary> out;
    for (const auto& e : components_) {
        out.push_back({e.id, e.label, e.c->describe()});
    }
    return out;
}

result_info<std::string> pod::signal(std::string_view label, int sig) {
    std::string out;
    for (auto& e : components_) {
        if (e.label != label) {
            continue;
        }
        auto did = e.c->signal(sig);
        out += fmt::format("{}component {} ({}): {}", out.empty() ? "" : "\n", e.id, e.label,
                           did.empty() ? "takes no signals" : did);
    }
    if (out.empty()) {
        return error_info{make_error_code(errc::invalid_argument), fmt::format("no component labelled '{}'", label)};
    }
    return out;
}

int pod::run() {
    net::co_spawn(io_, lifecycle(), [this](std::exception_ptr e) {
        if (e) {
            log_exceptions{"pod"}(e);
            exit_code_ = 1;
        }
    });
    io_.run();
    return exit_code_;
}

net::awaitable<void> pod::lifecycle() {
    std::size_t started = 0;
    for (auto& e : components_) {
        try {
            co_await e.c->start();
        } catch (const std::exception& ex) {
            spdlog::error("component {} ({}) failed to start: {}", e.id, e.label, ex.what());
            failure_ = fmt::format("component {} ({}) failed to start: {}", e.id, e.label, ex.what());
            break;
        }
        spdlog::info("component {} ({}) started: {}", e.id, e.label, e.c->describe());
        ++started;
    }
    if (failure_.empty()) {
        spdlog::info("corrald is ready (pid {})", ::getpid());
        if (on_ready_) {
            on_ready_();
        }
        net::co_spawn(io_, reload_on_hangup(), log_exceptions{"SIGHUP handler"});
        if (stop_reason_.empty()) {
            auto woken = co_await (signals_.async_wait(use_nothrow) || failed_.wait());
            if (woken.index() == 0) {
                spdlog::info("received signal {}", std::get<1>(std::get<0>(woken)));
            }
        }
        if (!stop_reason_.empty() && failure_.empty()) {
            spdlog::info("stop requested: {}", stop_reason_);
        }
    }
    const auto deadline = steady_clock::now() + stop_wait_;
    if (failure_.empty()) {
        spdlog::info("stopping: running jobs get up to {}; a second signal stops everything now",
                     format_duration(stop_wait_));
    } else {
        spdlog::error("stopping: {}", failure_);
    }
    hangup_.cancel();  // no reloads while stopping (a SIGHUP now is ignored, not fatal)
    net::co_spawn(io_, force_on_second_signal(), log_exceptions{"signal handler"});
    for (std::size_t i = started; i-- > 0;) {
        components_[i].c->stop_accepting();
    }
    for (std::size_t i = started; i-- > 0;) {
        co_await components_[i].c->stop(deadline);
        spdlog::info("component {} ({}) stopped", components_[i].id, components_[i].label);
    }
    signals_.cancel();
    exit_code_ = !failure_.empty() ? 1 : forced_ ? 130 : 0;
    if (!failure_.empty()) {
        spdlog::error("corrald exits with status 1: {}", failure_);  // the last line says which one
    }
}

net::awaitable<void> pod::reload_on_hangup() {
    for (;;) {
        auto [ec, signal] = co_await hangup_.async_wait(use_nothrow);
        if (ec) {
            co_return;
        }
        spdlog::info("received signal {} (SIGHUP): reloading", signal);
        if (on_reload_) {
            on_reload_();
        }
    }
}

net::awaitable<void> pod::force_on_second_signal() {
    auto [ec, signal] = co_await signals_.async_wait(use_nothrow);
    if (ec) {
        co_return;
    }
    spdlog::warn("second signal ({}): stopping everything now", signal);
    forced_ = true;
    for (auto& e : components_) {
        e.c->force_stop();
    }
}

}  // namespace corral::pod
