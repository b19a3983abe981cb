#include "corral/console/console_handler.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "corral/net/peer_user.hpp"

namespace corral::console {

console_handler::console_handler(const interpreter& commands,
                                 const auth::authority& auth,
                                 net::any_io_executor blocking,
                                 const sockets::stream_options& stream,
                                 std::size_t max_line)
    : byte_stream_handler(stream), commands_(commands), auth_(auth), blocking_(std::move(blocking)), max_line_(max_line) {}

net::awaitable<void> console_handler::serve(sockets::byte_stream& stream, const sockets::peer& who) {
    ++stats_.sessions;
    stream_io io(stream, max_line_);
    std::string markers;
    result_info<auth::identity> me = error_info{make_error_code(errc::unauthenticated), "no token"};
    if (who.local_socket) {
        const auto user = co_await sockets::local_user(who, blocking_);
        me = auth_.identify(std::nullopt, user);
    } else if (!auth_.options().anonymous_role.empty()) {
        me = auth_.identify(std::nullopt, std::nullopt);
    } else {
        // The token comes first, before anything is written (a client with line editing may say
        // hello before it).
        auto line = co_await io.read_line();
        if (line && *line == editing_client_hello) {
            markers = prompt_marker;
            line = co_await io.read_line();
        }
        if (line) {
            const std::string token = line->ends_with('\r') ? line->substr(0, line->size() - 1) : *line;
            me = auth_.identify(token, std::nullopt);
        }
    }
    if (!me) {
        ++stats_.refused;
        spdlog::info("console {}: authentication failed: {}", who.address, me.error().what());
        std::string refusal = "Authentication failed.\n";
        co_await stream.write(refusal);
        co_await stream.shutdown();
        co_return;
    }
    spdlog::info("console {}: {} ({}) connected", who.address, me->user, me->role_name());
    session s{*me, io, markers};
    co_await commands_.interact(s);
    co_await stream.shutdown();
}

}  // namespace corral::console
