#pragma once

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
    /// "the socket /path" or "http://host:port", for messages.
    std::string describe() const;
    /// Where it connects: for a second client beside this one (its connection is busy with a
    /// long-poll while the other asks something else).
    const endpoint_options& where() const { return where_; }

  private:
    struct connection;
    struct tls_settings;
    net::awaitable<result_info<void>> connect();
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
};

}  // namespace corral::cli
