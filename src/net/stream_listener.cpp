#include "corral/net/stream_listener.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "corral/core/task_group.hpp"
#include "net/endpoint.hpp"

namespace corral::sockets {
namespace {

namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using unix_socket = net::local::stream_protocol;

result_info<std::unique_ptr<net::ssl::context>> make_tls(const stream_options& o) {
    auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                     net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(o.tls_cert, ec);
    if (ec) {
        return error_info{errc::invalid_argument,
                          fmt::format("TLS certificate '{}': {}", o.tls_cert, ec.message())};
    }
    ctx->use_private_key_file(o.tls_key, net::ssl::context::pem, ec);
    if (ec) {
        return error_info{errc::invalid_argument, fmt::format("TLS key '{}': {}", o.tls_key, ec.message())};
    }
    return ctx;
}

/// A Unix socket file left by a dead daemon is removed; one that answers belongs to a live one.
result_info<void> clear_stale_socket(const std::string& path, net::any_io_executor executor) {
    boost::system::error_code ec;
    if (!fs::exists(path, ec)) {
        fs::create_directories(fs::path(path).parent_path(), ec);
        return {};
    }
    unix_socket::socket probe(executor);
    probe.connect(unix_socket::endpoint(path), ec);
    if (!ec) {
        return error_info{
            errc::invalid_state,
            fmt::format("another server is already listening on {} (is corrald running?)", path)};
    }
    fs::remove(path, ec);
    return {};
}

peer unix_peer(unix_socket::socket& s) {
    peer p;
    p.local_socket = true;
    p.address = "unix";
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        p.uid = cred.uid;
    }
    return p;
}

peer tcp_peer(tcp::socket& s) {
    peer p;
    boost::system::error_code ec;
    auto remote = s.remote_endpoint(ec);
    p.address = ec ? "?" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
    auto local = s.local_endpoint(ec).address();
    if (!ec && local.is_v6() && local.to_v6().is_v4_mapped()) {
        local = net::ip::make_address_v4(net::ip::v4_mapped, local.to_v6());
    }
    p.local_ip = ec ? std::string() : local.to_string();
    return p;
}

template <class Protocol>
class listener_impl final : public stream_listener {
  public:
    listener_impl(net::any_io_executor executor,
                  stream_options options,
                  connection_handler& handler,
                  std::unique_ptr<connection_handler> owned,
                  typename Protocol::acceptor acceptor,
                  std::unique_ptr<net::ssl::context> tls)
        : owned_(std::move(owned)),
          executor_(executor),
          options_(std::move(options)),
          handler_(handler),
          acceptor_(std::move(acceptor)),
          tls_(std::move(tls)),
          connections_(executor) {}

    void start(std::function<void(std::string)> on_crash) override {
        connections_.spawn(guarded_accept_loop(std::move(on_crash)), fmt::format("listener {}", describe()));
    }

    void stop_accepting() override {
        stopping_ = true;
        boost::system::error_code ec;
        acceptor_.close(ec);
        if constexpr (std::is_same_v<Protocol, unix_socket>) {
            fs::remove(options_.endpoint.substr(5), ec);
        }
    }

    net::awaitable<void> close_connections() override {
        stop_accepting();
        connections_.cancel_all();
        co_await connections_.wait();
    }

    std::string describe() const override { return options_.endpoint + (tls_ ? " (TLS)" : ""); }

    unsigned short port() const override {
        if constexpr (std::is_same_v<Protocol, tcp>) {
            boost::system::error_code ec;
            return acceptor_.local_endpoint(ec).port();
        } else {
            return 0;
        }
    }

    std::size_t connections() const override { return connections_.size() > 0 ? connections_.size() - 1 : 0; }
    std::uint64_t refused() const override { return refused_; }

  private:
    net::awaitable<void> guarded_accept_loop(std::function<void(std::string)> on_crash) {
        std::string why;
        try {
            co_await accept_loop();
        } catch (const std::exception& e) {
            why = e.what();
        }
        if (!stopping_) {
            if (why.empty()) {
                why = "the listening socket was closed";
            }
            spdlog::error("{}: no longer accepting connections: {}", describe(), why);
            if (on_crash) {
                on_crash(fmt::format("{}: {}", describe(), why));
            }
        }
    }

    net::awaitable<void> accept_loop() {
        while (acceptor_.is_open()) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
            if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
                co_return;
            }
            if (ec) {
                // Out of descriptors or similar: say so, back off briefly, keep serving the others.
                spdlog::warn("{}: accept failed: {}", describe(), ec.message());
                net::steady_timer pause(executor_, std::chrono::milliseconds(100));
                co_await pause.async_wait(use_nothrow);
                continue;
            }
            if (connections() >= options_.max_connections) {
                // Said once per burst, not per connection: a flood must not flood the log too.
                if (refused_++ % 1000 == 0) {
                    spdlog::warn("{}: {} connections open (max_connections), refusing more; {} refused so far",
                                 describe(),
                                 connections(),
                                 refused_);
                }
                continue;  // the socket closes as it goes out of scope
            }
            if constexpr (std::is_same_v<Protocol, tcp>) {
                socket.set_option(tcp::no_delay(true), ec);
                auto who = tcp_peer(socket);
                if (tls_) {
                    connections_.spawn(handler_.serve_tls(std::move(socket), *tls_, who), "TLS connection");
                } else {
                    connections_.spawn(handler_.serve_tcp(std::move(socket), who), "TCP connection");
                }
            } else {
                auto who = unix_peer(socket);
                connections_.spawn(handler_.serve_unix(std::move(socket), who), "socket connection");
            }
        }
    }

    std::unique_ptr<connection_handler> owned_;  // first, so that it goes last; null when not owned
    net::any_io_executor executor_;
    stream_options options_;
    connection_handler& handler_;
    typename Protocol::acceptor acceptor_;
    std::unique_ptr<net::ssl::context> tls_;
    task_group connections_;
    bool stopping_ = false;
    std::uint64_t refused_ = 0;
};

template <class Acceptor, class Endpoint>
result_info<void> bind_and_listen(Acceptor& acceptor, const Endpoint& ep, const std::string& text) {
    boost::system::error_code ec;
    acceptor.open(ep.protocol(), ec);
    if constexpr (std::is_same_v<Endpoint, tcp::endpoint>) {
        if (!ec) {
            acceptor.set_option(net::socket_base::reuse_address(true), ec);
        }
    }
    if (!ec) {
        acceptor.bind(ep, ec);
    }
    if (!ec) {
        acceptor.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return error_info{ec, fmt::format("cannot listen on {}: {}", text, ec.message())};
    }
    return {};
}

/// Binds a listener for `handler`, which `owned` holds when the listener is to own it.
result_info<std::unique_ptr<stream_listener>> bind_listener(net::any_io_executor executor,
                                                            stream_options options,
                                                            connection_handler& handler,
                                                            std::unique_ptr<connection_handler> owned) {
    auto ep = parse_endpoint(options.endpoint);
    if (!ep) {
        return ep.error();
    }
    const bool want_tls = !options.tls_cert.empty() || !options.tls_key.empty();
    if (const auto* unix_ep = std::get_if<unix_socket::endpoint>(&*ep)) {
        if (want_tls) {
            return error_info{
                errc::invalid_argument,
                fmt::format("{}: TLS is for TCP listeners; a Unix socket is protected by its file mode",
                            options.endpoint)};
        }
        const std::string path(unix_ep->path());
        if (auto r = clear_stale_socket(path, executor); !r) {
            return r.error();
        }
        unix_socket::acceptor acceptor(executor);
        // Made owner-only from the start (a chmod after bind leaves a moment in which anyone could
        // connect); a wider configured mode is applied after.
        const auto old_mask = ::umask(0177);
        auto bound = bind_and_listen(acceptor, *unix_ep, options.endpoint);
        ::umask(old_mask);
        if (!bound) {
            return bound.error();
        }
        if ((options.socket_mode & 0777) != 0600) {
            ::chmod(path.c_str(), options.socket_mode);
        }
        return std::unique_ptr<stream_listener>(
            new listener_impl<unix_socket>(executor, std::move(options), handler, std::move(owned), std::move(acceptor), nullptr));
    }
    std::unique_ptr<net::ssl::context> tls;
    if (want_tls) {
        if (options.tls_cert.empty() || options.tls_key.empty()) {
            return error_info{errc::invalid_argument, "TLS needs both tls_cert and tls_key"};
        }
        auto ctx = make_tls(options);
        if (!ctx) {
            return ctx.error();
        }
        tls = std::move(*ctx);
    }
    tcp::acceptor acceptor(executor);
    if (auto r = bind_and_listen(acceptor, std::get<tcp::endpoint>(*ep), options.endpoint); !r) {
        return r.error();
    }
    return std::unique_ptr<stream_listener>(
        new listener_impl<tcp>(executor, std::move(options), handler, std::move(owned), std::move(acceptor), std::move(tls)));
}

}  // namespace

result_info<std::unique_ptr<stream_listener>> stream_listener::create(net::any_io_executor executor,
                                                                      stream_options options,
                                                                      connection_handler& handler) {
    return bind_listener(std::move(executor), std::move(options), handler, nullptr);
}

result_info<std::unique_ptr<stream_listener>> stream_listener::create(net::any_io_executor executor,
                                                                      stream_options options,
                                                                      std::unique_ptr<connection_handler> handler) {
    auto& h = *handler;
    return bind_listener(std::move(executor), std::move(options), h, std::move(handler));
}

}  // namespace corral::sockets
