// A TLS connection behind any_stream: the handshake, reads, writes and close_notify, instantiated once.
#include "net/any_stream.hpp"

#include <boost/asio/bind_executor.hpp>

#include <openssl/ssl.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl.hpp>

namespace corral::http {
namespace {

namespace beast = boost::beast;

class tls_impl final : public any_stream::impl {
  public:
    explicit tls_impl(beast::ssl_stream<beast::tcp_stream> stream) : stream_(std::move(stream)) {}

    any_stream::executor_type executor() override { return stream_.get_executor(); }
    void read_some(net::mutable_buffer into, io_handler done) override {
        stream_.async_read_some(into, bound(std::move(done)));
    }
    void write_some(const write_buffers& from, io_handler done) override {
        stream_.async_write_some(from, bound(std::move(done)));
    }
    void wait_readable(wait_handler done) override {
        lowest().socket().async_wait(net::socket_base::wait_read, bound(std::move(done)));
    }
    void wait_writable(wait_handler done) override {
        lowest().socket().async_wait(net::socket_base::wait_write, bound(std::move(done)));
    }
    void expires_after(std::chrono::steady_clock::duration limit) override { lowest().expires_after(limit); }
    void expires_never() override { lowest().expires_never(); }
    void teardown(beast::role_type role, wait_handler done) override {
        using beast::websocket::async_teardown;  // and beast::async_teardown for ssl_stream, by ADL
        async_teardown(role, stream_, bound(std::move(done)));
    }
    void tls_shutdown(wait_handler done) override { stream_.async_shutdown(bound(std::move(done))); }
    void shutdown_send() override {
        boost::system::error_code ignored;
        lowest().socket().shutdown(net::socket_base::shutdown_send, ignored);
    }
    void close() override { lowest().close(); }
    bool tls() const override { return true; }
    int native_handle() override { return lowest().socket().native_handle(); }

  private:
    /// The handler with the stream's executor: Asio 1.26's type-erased handler executor cannot be
    /// asked for blocking.never, which Beast's operations post with.
    template <class Handler>
    net::executor_binder<Handler, any_stream::executor_type> bound(Handler h) {
        return net::bind_executor(stream_.get_executor(), std::move(h));
    }

    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

    beast::ssl_stream<beast::tcp_stream> stream_;
};

}  // namespace

net::awaitable<std::optional<any_stream>> tls_stream(net::ip::tcp::socket socket, net::ssl::context& tls) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), tls);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::server, use_nothrow);
    if (ec) {
        co_return std::nullopt;  // not TLS, or a failed handshake: nothing to answer
    }
    beast::get_lowest_layer(stream).expires_never();
    co_return any_stream(std::make_unique<tls_impl>(std::move(stream)));
}

net::awaitable<std::optional<any_stream>> tls_client_stream(net::ip::tcp::socket socket,
                                                            net::ssl::context& tls,
                                                            std::string host,
                                                            boost::system::error_code& failed) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), tls);
    boost::system::error_code not_an_address;
    (void)net::ip::make_address(host, not_an_address);
    if (not_an_address) {  // SNI carries names only
        // SSL_set_tlsext_host_name() spelled out: the macro's C cast trips -Wold-style-cast.
        SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, host.data());
    }
    stream.set_verify_callback(net::ssl::host_name_verification(host));
    auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::client, use_nothrow);
    if (ec) {
        failed = ec;
        co_return std::nullopt;
    }
    co_return any_stream(std::make_unique<tls_impl>(std::move(stream)));
}

}  // namespace corral::http
