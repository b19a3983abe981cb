// ASEXOR's WebSocket transport: JSON call messages in, replies, errors and updates out.
#include "corral/proto/asexor_websocket.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

#include "corral/core/task_group.hpp"
#include "corral/proto/http_replies.hpp"

namespace corral::proto::asexor {
namespace {

namespace json = boost::json;
using namespace boost::asio::experimental::awaitable_operators;

struct ending {
    http::close_code code = http::close_code::normal;
    std::string reason;
    bool send_close = true;  ///< false when the client closed or the connection is gone
};

}  // namespace

websocket_route::websocket_route(const backend& b, websocket_options options)
    : backend_(b), options_(std::move(options)), closed_(b.service.executor()) {}

void websocket_route::shut_down() {
    stopping_ = true;
    for (auto* sub : live_) {
        sub->wake();
    }
}

net::awaitable<void> websocket_route::wait_closed(std::chrono::steady_clock::time_point deadline) {
    net::steady_timer timer(co_await net::this_coro::executor, deadline);
    while (!live_.empty() && std::chrono::steady_clock::now() < deadline) {
        co_await (closed_.wait() || timer.async_wait(use_nothrow));
    }
}

result_info<std::shared_ptr<services::subscription>> websocket_route::subscription_for(
    const auth::identity& me,
    const std::optional<std::string>& name) {
    if (!name) {
        return open_subscription(backend_, me, false);
    }
    const auto key = std::make_pair(me.user, *name);
    if (auto it = named_.find(key); it != named_.end()) {
        if (auto kept = backend_.service.resume_as(me, it->second)) {
            return *kept;
        }
    }
    auto fresh = open_subscription(backend_, me, false);
    if (!fresh) {
        return fresh;
    }
    named_[key] = (*fresh)->id();
    if (named_.size() >= sweep_at_) {
        // Forget the names whose subscriptions expired; amortised over the growth in between.
        std::erase_if(named_, [&](const auto& entry) {
            return !backend_.service.events().find(entry.second, entry.first.first);
        });
        sweep_at_ = std::max<std::size_t>(1024, named_.size() * 2);
    }
    return fresh;
}

net::awaitable<http::reply> websocket_route::serve(http::request& req,
                                                   const http::peer&,
                                                   const auth::identity& me,
                                                   const target& t) {
    if (!boost::beast::websocket::is_upgrade(req)) {
        co_return error_reply(http::status::upgrade_required,
                              "upgrade_required",
                              "ASEXOR's WebSocket: connect with a WebSocket client (ws://HOST:PORT/ws?token=TOKEN)");
    }
    auto name = t.param("session_id");
    if (name && (name->empty() || name->size() > 256)) {
        co_return error_reply(http::status::bad_request, "bad_query", "session_id: 1 to 256 characters");
    }
    auto sub = subscription_for(me, name);
    if (!sub) {
        co_return error_reply(http::status::service_unavailable, "unavailable", sub.error().what());
    }
    http::reply r;
    r.websocket = [this, me, name, sub = *sub](http::message_channel& channel) -> net::awaitable<void> {
        session s(backend_, me, sub);
        auto label = name.value_or(sub->id());
        co_await run(channel, s, std::move(label));
        if (!name) {
            sub->close("its connection closed");  // nobody can resume an unnamed session
        }
    };
    co_return r;
}

net::awaitable<void> websocket_route::run(http::message_channel& channel, session& s, std::string name) {
    auto executor = co_await net::this_coro::executor;
    std::optional<ending> stop;
    const auto replaced_or_timeout = fmt::format("Closing session {} replaced or timeout", name);

    auto writer = [&]() -> net::awaitable<void> {
        net::steady_timer idle(executor);
        auto last_sent = std::chrono::steady_clock::now();
        for (;;) {
            if (!stop && stopping_) {
                stop = ending{http::close_code::service_restart, "Server shutdown"};
            }
            if (!stop && s.replaced()) {
                stop = ending{http::close_code::normal, replaced_or_timeout};
            } else if (!stop && s.ended()) {
                stop = backend_.service.accepting()
                           ? ending{http::close_code::policy_violation, *s.ended()}
                           : ending{http::close_code::service_restart, "Server shutdown"};
            }
            if (stop && (s.replaced() || !stop->send_close)) {
                break;  // another connection reads the session now, or this one is gone
            }
            auto messages = s.take();
            for (std::size_t i = 0; i < messages.size(); ++i) {
                const auto text = json::serialize(messages[i]);
                if (!co_await channel.send(text)) {
                    s.put_back({std::make_move_iterator(messages.begin() + static_cast<std::ptrdiff_t>(i)),
                                std::make_move_iterator(messages.end())});
                    co_return;
                }
                last_sent = std::chrono::steady_clock::now();
            }
            if (!messages.empty()) {
                continue;
            }
            if (stop) {
                break;
            }
            if (std::chrono::steady_clock::now() >= last_sent + options_.inactive_timeout) {
                stop = ending{http::close_code::normal, replaced_or_timeout};
                break;
            }
            idle.expires_at(last_sent + options_.inactive_timeout);
            co_await (s.wait() || idle.async_wait(use_nothrow));
        }
        if (stop->send_close) {
            co_await channel.close(stop->code, stop->reason);
        }
    };
    task_group writers(executor);
    writers.spawn(writer(), "asexor websocket writer");
    live_.insert(&s.subscription());

    auto end = [&](ending e) {
        if (!stop) {
            if (e.send_close) {
                spdlog::info("asexor websocket of {}: closing: {}", s.who().user, e.reason);
            }
            stop = std::move(e);
        }
        s.subscription().wake();
    };
    std::exception_ptr failure;
    try {
        for (;;) {
            auto message = co_await channel.receive();
            if (!message) {
                end({http::close_code::normal, "the client closed", false});
                break;
            }
            if (stop) {
                continue;  // closing: what comes until the client's close frame is not read
            }
            if (message->binary) {
                end({http::close_code::unsupported_data, "ASEXOR's WebSocket takes JSON text messages"});
                continue;
            }
            boost::system::error_code ec;
            auto call = json::parse(message->data, ec);
            if (ec) {
                end({http::close_code::invalid_payload, fmt::format("Invalid message: not JSON ({})", ec.message())});
                continue;
            }
            auto answer = co_await s.call(call);
            if (answer.unusable) {
                end({http::close_code::policy_violation,
                     fmt::format("Invalid message: {}", *answer.unusable)});
            }
        }
    } catch (...) {
        // Cancelled: corrald is stopping and closes its connections.
        failure = std::current_exception();
        end({http::close_code::service_restart, "Server shutdown"});
    }
    // The writer uses this frame's channel and session: wait for it whatever happens.
    co_await net::this_coro::throw_if_cancelled(false);
    co_await net::this_coro::reset_cancellation_state(net::disable_cancellation());
    co_await writers.wait();
    live_.erase(live_.find(&s.subscription()));
    closed_.notify_all();
    if (failure) {
        std::rethrow_exception(failure);
    }
}

}  // namespace corral::proto::asexor
