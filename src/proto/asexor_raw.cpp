// ASEXOR's raw socket: framed CBOR after a token handshake.
#include "corral/proto/asexor_raw.hpp"

#include <array>
#include <deque>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/this_coro.hpp>

#include "corral/core/task_group.hpp"
#include "corral/net/peer_user.hpp"
#include "corral/proto/http_front.hpp"

namespace corral::proto::asexor {
namespace {

/// The next whole frame; nullopt when the peer closed, the connection failed or the stream broke
/// the framing (frames.error() then says how).
net::awaitable<std::optional<frame>> read_frame(sockets::byte_stream& stream, frame_decoder& frames) {
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        if (auto f = frames.next()) {
            co_return f;
        }
        if (!frames.error().empty()) {
            co_return std::nullopt;
        }
        const auto n = co_await stream.read_some(buffer);
        if (n == 0) {
            co_return std::nullopt;
        }
        frames.feed({buffer.data(), n});
    }
}

std::string handshake_frame(handshake answer) {
    const char byte = static_cast<char>(answer);
    return encode_frame(frame_type::data, {&byte, 1});
}

}  // namespace

raw_handler::raw_handler(const backend& b,
                         const auth::authority& auth,
                         net::any_io_executor blocking,
                         const sockets::stream_options& stream,
                         raw_options options)
    : byte_stream_handler(stream),
      backend_(b),
      auth_(auth),
      blocking_(std::move(blocking)),
      options_(options) {}

net::awaitable<std::optional<auth::identity>> raw_handler::accept(sockets::byte_stream& stream,
                                                                  const sockets::peer& who,
                                                                  frame_decoder& frames) {
    for (;;) {
        auto f = co_await read_frame(stream, frames);
        if (!f) {
            if (!frames.error().empty()) {
                spdlog::info("asexor raw {}: closed before the handshake: {}", who.address, frames.error());
            }
            co_return std::nullopt;
        }
        if (f->type == frame_type::ping) {
            const auto pong = encode_frame(frame_type::pong, f->payload);
            co_await stream.write(pong);
            continue;
        }
        if (f->type == frame_type::pong) {
            continue;
        }
        // The token; on a Unix socket an empty one stands for the peer's own user.
        http::peer link;
        static_cast<sockets::peer&>(link) = who;
        std::optional<std::string> local;
        if (f->payload.empty()) {
            local = co_await sockets::local_user(link, blocking_);
        }
        auto id = auth_.identify(f->payload.empty() ? std::nullopt : std::optional<std::string_view>(f->payload),
                                 local);
        std::string refusal;
        if (!id || (f->payload.empty() && !local)) {
            refusal = "an unknown or missing token";
        } else if (auto allowed = backend_.service.may_delegate(*id); options_.delegated && !allowed) {
            refusal = allowed.error().what();
        }
        if (!refusal.empty()) {
            ++stats_.refused;
            spdlog::info("asexor raw {}: authentication failed: {}", who.address, refusal);
            const auto failed = handshake_frame(handshake::authentication_failed);
            co_await stream.write(failed);
            co_return std::nullopt;
        }
        co_return *id;
    }
}

net::awaitable<void> raw_handler::serve(sockets::byte_stream& stream, const sockets::peer& who) {
    ++stats_.connections;
    frame_decoder frames(options_.max_frame);
    auto me = co_await accept(stream, who, frames);
    if (!me) {
        co_return;
    }
    auto sub = open_subscription(backend_, *me, options_.delegated);
    if (!sub) {
        ++stats_.refused;
        spdlog::warn("asexor raw {}: no session for {}: {}", who.address, me->user, sub.error().what());
        const auto refused = handshake_frame(handshake::configuration_error);
        co_await stream.write(refused);
        co_return;
    }
    const auto ok = handshake_frame(handshake::ok);
    if (!co_await stream.write(ok)) {
        (*sub)->close("its connection closed");
        co_return;
    }
    session s(backend_, *me, *sub, {.delegated = options_.delegated, .updates = !options_.no_update});
    auto executor = co_await net::this_coro::executor;
    bool stop = false;
    std::deque<std::string> control;  // pongs, written by the writer between messages

    auto writer = [&]() -> net::awaitable<void> {
        for (;;) {
            while (!control.empty()) {
                auto bytes = std::move(control.front());
                control.pop_front();
                if (!co_await stream.write(bytes)) {
                    co_return;
                }
            }
            if (stop) {
                co_return;
            }
            if (s.ended()) {  // closed under it (corrald stopping): the reader sees the end too
                co_await stream.shutdown();
                co_return;
            }
            for (const auto& message : s.take()) {
                auto cbor = to_cbor(message);
                if (cbor.size() > max_frame_payload) {
                    spdlog::warn("asexor raw {}: a message of {} bytes is too big for a frame; not sent",
                                 who.address,
                                 cbor.size());
                    continue;
                }
                const auto bytes = encode_frame(frame_type::data, cbor);
                if (!co_await stream.write(bytes)) {
                    co_return;  // gone: nothing resumes a raw session
                }
            }
            if (!control.empty() || s.has_pending()) {
                continue;
            }
            co_await s.wait();
        }
    };
    task_group writers(executor);
    writers.spawn(writer(), "asexor raw writer");

    auto close_for = [&](std::string reason) {
        ++stats_.protocol_errors;
        spdlog::info("asexor raw {} ({}): closing: {}", who.address, me->user, reason);
    };
    std::exception_ptr failure;
    try {
        for (;;) {
            auto f = co_await read_frame(stream, frames);
            if (!f) {
                if (!frames.error().empty()) {
                    close_for(frames.error());
                }
                break;
            }
            if (f->type == frame_type::ping) {
                control.push_back(encode_frame(frame_type::pong, f->payload));
                s.subscription().wake();
                continue;
            }
            if (f->type == frame_type::pong) {
                continue;
            }
            auto message = from_cbor(f->payload, options_.cbor);
            if (!message) {
                close_for(fmt::format("Invalid message: {}", message.error().what()));
                break;
            }
            auto answer = co_await s.call(*message);
            if (answer.unusable) {
                close_for(fmt::format("Invalid message: {}", *answer.unusable));
                break;
            }
        }
    } catch (...) {
        failure = std::current_exception();  // cancelled: corrald is stopping
    }
    stop = true;
    s.subscription().wake();
    co_await net::this_coro::throw_if_cancelled(false);
    co_await net::this_coro::reset_cancellation_state(net::disable_cancellation());
    co_await writers.wait();
    (*sub)->close("its connection closed");
    if (failure) {
        std::rethrow_exception(failure);
    }
}

}  // namespace corral::proto::asexor
