#include "corral/net/http_listener.hpp"

#include <boost/algorithm/string/classification.hpp>
#include <boost/algorithm/string/split.hpp>
#include <boost/algorithm/string/trim.hpp>
#include <boost/beast/http/field.hpp>

#include "net/http_session.hpp"

namespace corral::http {
namespace {

/// Hands each connection of a stream_listener to the HTTP session (http_session.hpp).
class http_connections final : public sockets::connection_handler {
  public:
    http_connections(listener_options options, handler& routes, request_counter* counter)
        : options_(std::move(options)), routes_(routes), counter_(counter) {}

    net::awaitable<void> serve_tcp(net::ip::tcp::socket socket, sockets::peer who) override {
        return serve_plain(net::generic::stream_protocol::socket(std::move(socket)), std::move(who), config());
    }
    net::awaitable<void> serve_tls(net::ip::tcp::socket socket, net::ssl::context& tls, sockets::peer who) override {
        return http::serve_tls(std::move(socket), tls, std::move(who), config());
    }
    net::awaitable<void> serve_unix(net::local::stream_protocol::socket socket, sockets::peer who) override {
        return serve_plain(net::generic::stream_protocol::socket(std::move(socket)), std::move(who), config());
    }

  private:
    session_config config() const { return {options_, routes_, counter_}; }

    listener_options options_;
    handler& routes_;
    request_counter* counter_;
};

}  // namespace

result_info<std::unique_ptr<sockets::stream_listener>> listen_http(net::any_io_executor executor,
                                                                   listener_options options,
                                                                   handler& h,
                                                                   request_counter* counter) {
    auto sessions = std::make_unique<http_connections>(options, h, counter);
    return sockets::stream_listener::create(std::move(executor), std::move(options), std::move(sessions));
}

std::optional<std::string> pick_subprotocol(const request& req, std::initializer_list<std::string_view> supported) {
    std::vector<std::string> offered;
    const auto header = req[beast::http::field::sec_websocket_protocol];
    boost::algorithm::split(offered, header, boost::algorithm::is_any_of(","));
    for (auto want : supported) {
        for (auto& o : offered) {
            if (boost::algorithm::trim_copy(o) == want) {
                return std::string(want);
            }
        }
    }
    return std::nullopt;
}

}  // namespace corral::http
