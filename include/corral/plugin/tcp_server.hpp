#pragma once
// os-aio-pod's TCP server, as a plugin base class: a listener and one coroutine per connection.

#include <charconv>
#include <exception>
#include <list>
#include <stdexcept>
#include <string>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "corral/core/async_event.hpp"
#include "corral/plugin/plugin.hpp"

namespace corral::plugin {

/**
 * Listens on a TCP endpoint and serves each connection in a coroutine of its own (serve()). At
 * most `max_connections` are served at once; more wait in the kernel's backlog. On stop the listener
 * closes at once; open connections get until the deadline, then their coroutines are cancelled and
 * their sockets closed. A connection whose serve() throws is logged and closed; the server goes on.
 *
 * Bind to loopback unless the operator asked otherwise: nothing here checks who connects.
 */
class tcp_server : public component_base {
  public:
    /// `endpoint` is "HOST:PORT" with an IP address (component_options::tcp_endpoint checks it).
    tcp_server(component_context context, std::string endpoint, std::size_t max_connections = 1000)
        : component_base(std::move(context)),
          endpoint_(std::move(endpoint)),
          max_connections_(max_connections),
          acceptor_(this->context().executor),
          changed_(this->context().executor) {}

    net::awaitable<void> start() override {
        const auto colon = endpoint_.rfind(':');
        if (colon == std::string::npos) {
            throw std::runtime_error("'" + endpoint_ + "' is not HOST:PORT");
        }
        auto host = endpoint_.substr(0, colon);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
        }
        unsigned short port = 0;
        const auto* digits = endpoint_.data() + colon + 1;
        auto [end, ec] = std::from_chars(digits, endpoint_.data() + endpoint_.size(), port);
        if (ec != std::errc() || end != endpoint_.data() + endpoint_.size()) {
            throw std::runtime_error("'" + endpoint_ + "': the port is not a number from 0 to 65535");
        }
        const net::ip::tcp::endpoint where(net::ip::make_address(host), port);
        acceptor_.open(where.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        boost::system::error_code bound;
        acceptor_.bind(where, bound);
        if (bound) {
            throw std::runtime_error("cannot listen on " + endpoint_ + ": " + bound.message());
        }
        acceptor_.listen();
        accepting_ = true;
        net::co_spawn(context().executor, accept_loop(), [this](std::exception_ptr e) {
            accepting_ = false;
            changed_.notify_all();
            if (auto why = failure_of(e, stopping_, "the listener"); !why.empty() && !stopping_) {
                failed(std::move(why));
            }
        });
        co_return;
    }
    void stop_accepting() override {
        stopping_ = true;
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        changed_.notify_all();
    }
    net::awaitable<void> stop(std::chrono::steady_clock::time_point deadline) override {
        using namespace net::experimental::awaitable_operators;
        stop_accepting();
        net::steady_timer timer(context().executor, deadline);
        while ((accepting_ || !connections_.empty()) && std::chrono::steady_clock::now() < deadline) {
            co_await (changed_.wait() || timer.async_wait(use_nothrow));
        }
        force_stop();
        while (accepting_ || !connections_.empty()) {
            co_await changed_.wait();
        }
    }
    void force_stop() override {
        stop_accepting();
        for (auto& c : connections_) {
            c.cancel.emit(net::cancellation_type::terminal);
        }
    }
    std::string describe() const override { return "TCP server on " + address(); }

  protected:
    /// One connection, until it ends; cancelled (operation_aborted) when corrald stops.
    virtual net::awaitable<void> serve(net::ip::tcp::socket socket) = 0;

    /// Where it listens ("127.0.0.1:7007"), with the port chosen when it asked for 0.
    std::string address() const {
        boost::system::error_code ec;
        auto local = acceptor_.local_endpoint(ec);
        if (ec) {
            return endpoint_;
        }
        const auto a = local.address();
        return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(local.port());
    }
    bool stopping() const { return stopping_; }
    std::size_t connections() const { return connections_.size(); }

  private:
    struct connection {
        net::cancellation_signal cancel;
    };

    net::awaitable<void> accept_loop() {
        while (!stopping_) {
            while (connections_.size() >= max_connections_ && !stopping_) {
                co_await changed_.wait();
            }
            auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
            if (ec) {
                if (stopping_ || ec == net::error::operation_aborted) {
                    co_return;
                }
                log(log_level::warn, "accept failed: " + ec.message());
                continue;  // EMFILE and the like: the next connection may fare better
            }
            auto it = connections_.emplace(connections_.end());
            net::co_spawn(
                context().executor,
                serve(std::move(socket)),
                net::bind_cancellation_slot(it->cancel.slot(), [this, it](std::exception_ptr e) {
                    connections_.erase(it);
                    changed_.notify_all();
                    if (!e) {
                        return;
                    }
                    try {
                        std::rethrow_exception(e);
                    } catch (const boost::system::system_error& error) {
                        if (error.code() != net::error::operation_aborted &&
                            error.code() != net::error::eof && error.code() != net::error::connection_reset &&
                            error.code() != net::error::broken_pipe) {
                            log(log_level::warn, std::string("a connection failed: ") + error.what());
                        }
                    } catch (const std::exception& error) {
                        log(log_level::warn, std::string("a connection failed: ") + error.what());
                    }
                }));
        }
    }

    std::string endpoint_;
    std::size_t max_connections_;
    net::ip::tcp::acceptor acceptor_;
    async_event changed_;
    std::list<connection> connections_;
    bool accepting_ = false;
    bool stopping_ = false;
};

}  // namespace corral::plugin
