#pragma once
// Blocking HTTP and WebSocket clients for integration tests (Beast, over TCP or a Unix socket).

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

namespace corral::test {

/// Where the server is: a TCP port on 127.0.0.1, or a Unix socket path; and the token to show
/// (sent as `Authorization: Bearer` unless a request sets its own).
struct address {
    unsigned short port = 0;
    std::string unix_path;
    std::string token;
};

struct http_reply {
    unsigned status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  ///< lower-case names
    boost::json::value json() const;
};

/// One request on a fresh connection. `headers` are added as given; a body goes as JSON unless they
/// say otherwise (as raw bytes to a job's stdin).
http_reply http(const address& where,
                const std::string& method,
                const std::string& target,
                const std::string& body = {},
                const std::map<std::string, std::string>& headers = {});

/// The pid of job `id` once it has started (a submit's reply comes before the spawn), or -1 after 10 s.
long long started_pid(const address& where, long long id);

/// Sends `raw` bytes as they are and returns whatever the server answers until it closes or is
/// quiet for `quiet` (streams stay open).
std::string raw_exchange(const address& where,
                         const std::string& raw,
                         std::chrono::milliseconds quiet = std::chrono::seconds(10));

/// A WebSocket client for the stream endpoint.
class ws_client {
  public:
    /// Connects and upgrades; throws when the server refuses. `headers` go with the upgrade request.
    ws_client(const address& where,
              const std::string& target,
              const std::map<std::string, std::string>& headers = {});
    ~ws_client();
    void send(const std::string& text);
    void send_binary(const std::string& bytes);
    /// Whether the message receive() returned last came as a binary frame.
    bool last_was_binary() const;
    /// The Sec-WebSocket-Protocol the server agreed to (empty: none).
    const std::string& subprotocol() const;
    /// Pings the server sent that receive() has seen (and answered) so far.
    int pings() const;
    /// The next message, or nullopt when the connection closed or `limit` passed.
    std::optional<std::string> receive(std::chrono::milliseconds limit = std::chrono::seconds(10));
    /// The close reason the server sent, once receive() returned nullopt.
    std::string close_reason() const;
    /// The close code the server sent (1000 normal, 1008 policy), once receive() returned nullopt.
    int close_code() const;
    void close();

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace corral::test
