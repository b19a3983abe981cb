#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/value.hpp>

#include "corral/core/asio.hpp"
#include "corral/core/error_info.hpp"

namespace corral::cli {

/// Where corrald is: its Unix socket (the default) or an http:// or https:// URL, plus a bearer token.
struct endpoint_options {
    std::string socket;  ///< Unix socket path; used when url is empty
    std::string url;     ///< "http://127.0.0.1:8470", "https://corral.example:8470"
    std::string token;
    /// https://: trust the certificates in this PEM file (a private CA, or corrald's self-signed
    /// certificate) instead of the system's CAs. The name in the URL is checked either way.
    std::string cacert;
};

struct api_response {
    unsigned status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  ///< lower-case names
    /// read_head(): bytes of the body left on the connection for body_to().
    std::uint64_t body_left = 0;

    /// The body as JSON (null when it is not JSON).
    boost::json::value json() const;
    /// The server's error message from `{"error": {"message"}}`, or the status line.
    std::string error_message() const;
    bool ok() const { return status >= 200 && status < 300; }
};

/// Exit statuses of the client commands.
constexpr int usage_error = 2;
constexpr int corral_failed = 125;

/// A request failed, or corrald said no: the message for the user and the exit status.
struct command_error {
    std::string message;
    int status = corral_failed;
};

class api_client;

/**
 * A request sent now and answered later: the caller works meanwhile (builds the next batch, writes
 * the last page of output) while corrald works on this one. One at a time per client: the client
 * has one connection, and this request is on it until get() returns.
 */
class pending_request {
  public:
    /// Sends the request (it is on its way when this returns).
    static net::awaitable<pending_request> send(api_client& c,
                                                std::string method,
                                                std::string target,
                                                std::string body);
    /// The reply (or the error), once it has come.
    net::awaitable<result_info<api_response>> get();
    struct state;  // opaque: the reply, shared with the coroutine that makes the request

  private:
    explicit pending_request(std::shared_ptr<state> s) : state_(std::move(s)) {}
    std::shared_ptr<state> state_;
};

/// One request whose reply must be a success; its body as JSON. Throws command_error (status 1 for
/// a 404, so `corral show 99` can be told from a daemon that is down).
net::awaitable<boost::json::value> call(api_client& c,
                                        std::string_view method,
                                        std::string target,
                                        std::string body = {});

/**
 * A small HTTP/1.1 client for corrald's API over its Unix socket, TCP or TLS, keeping one connection
 * alive across requests and reconnecting once when the server closed it.
 */
class api_client {
  public:
    api_client(net::any_io_executor executor, endpoint_options where);
    ~api_client();

    /// Errors: errc::unsupported for a URL it cannot use, or the connection failure with a hint.
    net::awaitable<result_info<api_response>> request(std::string_view method,
                                                      std::string target,
                                                      std::string body = {});

    // --- replies whose bodies go straight to a file descriptor (raw output pages) ---
    /// Sends a GET and returns once it is written; its reply is read with read_head(). Another may be
    /// sent before that reply's body is taken (pipelined): corrald reads it once it has written this one.
    net::awaitable<result_info<void>> send(std::string target);
    /// The head of the oldest reply not read yet. A success with a Content-Length leaves its body on
    /// the connection (`body_left` bytes) for body_to(); any other reply comes whole, in `body`.
    net::awaitable<result_info<api_response>> read_head();
    /// Writes the body read_head() left to `fd`: spliced from a plain connection into a pipe, so the
    /// bytes are never copied through this process (`corral run … | wc`); else read and written.
    /// Errors: the connection failed, or `fd` could not be written (errno's error code).
    net::awaitable<result_info<void>> body_to(int fd);

    /// "the socket /path" or "http://host:port", for messages.
    std::string describe() const;
    /// Where it connects: for a second client beside this one (its connection is busy with a
    /// long-poll while the other asks something else).
    const endpoint_options& where() const { return where_; }

  private:
    struct connection;
    struct tls_settings;
    net::awaitable<result_info<void>> connect();
    net::awaitable<result_info<void>> write_request(const std::string& target);
    error_info failed(const boost::system::error_code& ec) const;
    net::awaitable<result_info<void>> handshake(net::ip::tcp::socket socket);
    result_info<void> parse_url();
    net::any_io_executor executor_;
    endpoint_options where_;
    std::string host_;
    std::string port_;
    bool https_ = false;
    std::optional<error_info> url_error_;
    std::unique_ptr<tls_settings> tls_;  // made on the first https:// connection
    std::unique_ptr<connection> connection_;
    /// send()'s requests whose heads read_head() has not read yet, oldest first.
    std::deque<std::string> sent_;
    /// The oldest of sent_ went out on a connection that had been idle: the server may have closed
    /// it meanwhile, so a failure to read its head is worth one new connection.
    bool sent_on_idle_connection_ = false;
};

}  // namespace corral::cli
