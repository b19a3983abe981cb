// A plain connection, TCP or Unix, behind any_stream: its reads, writes and timeouts, instantiated once.
#include "net/any_stream.hpp"

#include <boost/asio/bind_executor.hpp>

#include <boost/asio/post.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace corral::http {
namespace {

namespace beast = boost::beast;

class plain_impl final : public any_stream::impl {
  public:
    explicit plain_impl(net::generic::stream_protocol::socket socket) : stream_(std::move(socket)) {}

    any_stream::executor_type executor() override { return stream_.get_executor(); }
    void read_some(net::mutable_buffer into, io_handler done) override {
        stream_.async_read_some(into, bound(std::move(done)));
    }
    void write_some(const write_buffers& from, io_handler done) override {
        stream_.async_write_some(from, bound(std::move(done)));
    }
    void wait_readable(wait_handler done) override {
        stream_.socket().async_wait(net::socket_base::wait_read, bound(std::move(done)));
    }
    void wait_writable(wait_handler done) override {
        stream_.socket().async_wait(net::socket_base::wait_write, bound(std::move(done)));
    }
    void expires_after(std::chrono::steady_clock::duration limit) override { stream_.expires_after(limit); }
    void expires_never() override { stream_.expires_never(); }
    void teardown(beast::role_type role, wait_handler done) override {
        beast::websocket::async_teardown(role, stream_.socket(), bound(std::move(done)));
    }
    void tls_shutdown(wait_handler done) override {
        net::post(stream_.get_executor(), [done = std::move(done)]() mutable { std::move(done)(boost::system::error_code()); });
    }
    void shutdown_send() override {
        boost::system::error_code ignored;
        stream_.socket().shutdown(net::socket_base::shutdown_send, ignored);
    }
    void close() override { stream_.close(); }
    bool tls() const override { return false; }
    int native_handle() override { return stream_.socket().native_handle(); }

  private:
    /// The handler with the stream's executor: Asio 1.26's type-erased handler executor cannot be
    /// asked for blocking.never, which Beast's operations post with.
    template <class Handler>
    net::executor_binder<Handler, any_stream::executor_type> bound(Handler h) {
        return net::bind_executor(stream_.get_executor(), std::move(h));
    }

    beast::basic_stream<net::generic::stream_protocol> stream_;
};

}  // namespace

any_stream plain_stream(net::generic::stream_protocol::socket socket) {
    return any_stream(std::make_unique<plain_impl>(std::move(socket)));
}

}  // namespace corral::http
