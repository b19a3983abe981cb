// WAMP's WebSocket and RawSocket transports: whole messages in and out of a wamp::link.
#include "corral/proto/wamp_transports.hpp"

#include <array>
#include <bit>
#include <deque>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/beast/websocket/rfc6455.hpp>

#include "corral/core/async_event.hpp"
#include "corral/proto/asexor_frame.hpp"
#include "corral/proto/http_replies.hpp"

namespace corral::proto::wamp {
namespace {

class websocket_link final : public link {
  public:
    websocket_link(http::message_channel& channel, bool cbor, std::string where)
        : channel_(channel), cbor_(cbor), where_(std::move(where)) {}
    net::awaitable<std::optional<std::string>> receive() override {
        auto m = co_await channel_.receive();
        if (!m) {
            co_return std::nullopt;
        }
        co_return std::move(m->data);
    }
    net::awaitable<bool> send(std::string_view bytes) override { return channel_.send(bytes, cbor_); }
    net::awaitable<void> close() override { return channel_.close(http::close_code::normal, ""); }
    bool cbor() const override { return cbor_; }
    const std::string& where() const override { return where_; }

  private:
    http::message_channel& channel_;
    bool cbor_;
    std::string where_;
};

/// RawSocket after its handshake. One write at a time: the session's writer and the pongs take turns.
class rawsocket_link final : public link {
  public:
    rawsocket_link(sockets::byte_stream& stream, bool cbor, std::size_t max_in, std::size_t max_out, std::string where, net::any_io_executor ex)
        : stream_(stream), cbor_(cbor), frames_(max_in), max_out_(max_out), where_(std::move(where)), turn_(std::move(ex)) {}

    net::awaitable<std::optional<std::string>> receive() override {
        std::array<char, 16 * 1024> buffer;
        for (;;) {
            if (auto f = frames_.next()) {
                if (f->type == asexor::frame_type::data) {
                    co_return std::move(f->payload);
                }
                if (f->type == asexor::frame_type::ping) {
                    const auto pong = asexor::encode_frame(asexor::frame_type::pong, f->payload);
                    co_await write(pong);
                }
                continue;
            }
            if (!frames_.error().empty()) {
                spdlog::info("wamp rawsocket {}: closing: {}", where_, frames_.error());
                co_return std::nullopt;
            }
            const auto n = co_await stream_.read_some(buffer);
            if (n == 0) {
                co_return std::nullopt;
            }
            frames_.feed({buffer.data(), n});
        }
    }
    net::awaitable<bool> send(std::string_view bytes) override {
        if (bytes.size() > max_out_) {
            spdlog::warn("wamp rawsocket {}: a message of {} bytes is longer than the client takes ({}); not sent",
                         where_, bytes.size(), max_out_);
            co_return true;
        }
        const auto frame = asexor::encode_frame(asexor::frame_type::data, bytes);
        co_return co_await write(frame);
    }
    net::awaitable<void> close() override { co_await stream_.shutdown(); }
    bool cbor() const override { return cbor_; }
    const std::string& where() const override { return where_; }

  private:
    net::awaitable<bool> write(std::string_view bytes) {
        while (writing_) {
            co_await turn_.wait();
        }
        writing_ = true;
        const bool ok = co_await stream_.write(bytes);
        writing_ = false;
        turn_.notify_all();
        co_return ok;
    }

    sockets::byte_stream& stream_;
    bool cbor_;
    asexor::frame_decoder frames_;
    std::size_t max_out_;
    std::string where_;
    bool writing_ = false;
    async_event turn_;
};

/// The length exponent that says `bytes`: 2^(9 + exponent), the largest not above it.
std::uint8_t length_exponent(std::size_t bytes) {
    std::uint8_t e = 0;
    while (e < 15 && (std::size_t{1} << (10 + e)) <= bytes) {
        ++e;
    }
    return e;
}

}  // namespace

net::awaitable<http::reply> websocket_route::serve(http::request& req,
                                                   const http::peer& who,
                                                   const auth::identity&,
                                                   const target&) {
    if (!boost::beast::websocket::is_upgrade(req)) {
        co_return error_reply(http::status::upgrade_required,
                              "upgrade_required",
                              "WAMP over WebSocket: connect with a WAMP client (subprotocol wamp.2.json or wamp.2.cbor)");
    }
    auto protocol = http::pick_subprotocol(req, {"wamp.2.json", "wamp.2.cbor"});
    if (!protocol) {
        co_return error_reply(http::status::bad_request,
                              "unsupported_subprotocol",
                              "offer the WebSocket subprotocol wamp.2.json or wamp.2.cbor");
    }
    http::reply r;
    r.websocket_protocol = *protocol;
    r.websocket = [this, cbor = *protocol == "wamp.2.cbor", where = who.address](http::message_channel& channel) -> net::awaitable<void> {
        websocket_link l(channel, cbor, where);
        co_await wamp::serve(l, s_);
    };
    co_return r;
}

net::awaitable<void> rawsocket_handler::serve(sockets::byte_stream& stream, const sockets::peer& who) {
    std::array<char, 4> hello{};
    std::size_t got = 0;
    while (got < hello.size()) {
        const auto n = co_await stream.read_some(std::span<char>(hello.data() + got, hello.size() - got));
        if (n == 0) {
            co_return;
        }
        got += n;
    }
    auto refuse = [&](rawsocket_error e) -> net::awaitable<void> {
        spdlog::info("wamp rawsocket {}: handshake refused (error {})", who.address, static_cast<int>(e));
        const std::array<char, 4> answer{'\x7f', static_cast<char>(static_cast<std::uint8_t>(e) << 4), 0, 0};
        co_await stream.write({answer.data(), answer.size()});
    };
    const auto byte1 = static_cast<std::uint8_t>(hello[1]);
    const auto serializer = byte1 & 0x0f;
    if (static_cast<std::uint8_t>(hello[0]) != 0x7f) {
        spdlog::info("wamp rawsocket {}: not a RawSocket handshake; closing", who.address);
        co_return;
    }
    if (hello[2] != 0 || hello[3] != 0) {
        co_await refuse(rawsocket_error::reserved_bits_used);
        co_return;
    }
    if (serializer != 1 && serializer != 3) {
        co_await refuse(rawsocket_error::serializer_unsupported);
        co_return;
    }
    const std::size_t client_max = std::size_t{1} << (9 + (byte1 >> 4));
    const auto exponent = length_exponent(max_message_);
    const std::array<char, 4> answer{'\x7f', static_cast<char>((exponent << 4) | serializer), 0, 0};
    if (!co_await stream.write({answer.data(), answer.size()})) {
        co_return;
    }
    rawsocket_link l(stream,
                     serializer == 3,
                     std::min(max_message_, asexor::max_frame_payload),
                     std::min(client_max, asexor::max_frame_payload),
                     who.address,
                     co_await net::this_coro::executor);
    co_await wamp::serve(l, s_);
}

}  // namespace corral::proto::wamp
