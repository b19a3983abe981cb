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
    const listener_options& options() const { return options_; }

  private:
    session_config config() const { return {options_, routes_, counter_}; }

    listener_options options_;
    handler& routes_;
    request_counter* counter_;
};

class http_listener_impl final : public http_listener {
  public:
    explicit http_listener_impl(std::unique_ptr<http_connections> sessions) : sessions_(std::move(sessions)) {}

    result_info<void> bind(net::any_io_executor executor) {
        auto bound = sockets::stream_listener::create(std::move(executor), sessions_->options(), *sessions_);
        if (!bound) {
            return bound.error();
        }
        listener_ = std::move(*bound);
        return {};
    }

    void start(std::function<void(std::string)> on_crash) override { listener_->start(std::move(on_crash)); }
    void stop_accepting() override { listener_->stop_accepting(); }
    net::awaitable<void> close_connections() override { return listener_->close_connections(); }
    std::string describe() const override { return listener_->describe(); }
    unsigned short port() const override { return listener_->port(); }
    std::size_t connections() const override { return listener_->connections(); }
    std::uint64_t refused() const override { return listener_->refused(); }

  private:
    std::unique_ptr<http_connections> sessions_;  // before listener_: its connections use it
    std::unique_ptr<sockets::stream_listener> listener_;
};

}  // namespace

result_info<std::unique_ptr<http_listener>> http_listener::create(net::any_io_executor executor,
                                                                  listener_options options,
                                                                  handler& h,
                                                                  request_counter* counter) {
    auto listener =
        std::make_unique<http_listener_impl>(std::make_unique<http_connections>(std::move(options), h, counter));
    if (auto bound = listener->bind(std::move(executor)); !bound) {
        return bound.error();
    }
    return std::unique_ptr<http_listener>(std::move(listener));
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
