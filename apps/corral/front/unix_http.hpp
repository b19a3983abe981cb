#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace corral::cli::front {

/// A reply from corrald: its status and its whole body.
struct http_reply {
    unsigned status = 0;
    std::string body;
    bool ok() const { return status >= 200 && status < 300; }
};

/// What the bytes received so far make of one HTTP/1.1 reply.
struct reply_parse {
    enum class outcome { incomplete, complete, malformed };
    outcome state = outcome::incomplete;
    http_reply reply;   ///< complete: the reply
    std::string error;  ///< malformed: what is wrong, for the user
};

/// The largest reply head (status line and headers) the front accepts.
constexpr std::size_t max_reply_head = 64 * 1024;

/**
 * Parses one reply: the status line, the headers, and a body framed by Content-Length, by chunked
 * transfer coding, or (with neither) by the end of the connection (`at_eof`). A head over
 * max_reply_head, a body over `max_body`, or anything that is not HTTP/1.x is malformed, with a
 * message saying which.
 */
reply_parse parse_http_reply(std::string_view bytes, bool at_eof, std::size_t max_body);

/// How a request went: either corrald's reply, or an error and whether any of the request left.
struct request_outcome {
    bool connected = false;  ///< false: nothing reached corrald (no such socket, refused, ...)
    std::string error;       ///< empty when `reply` is corrald's answer
    http_reply reply;
};

/// One request, as the full client would send it, on a connection of its own to a Unix socket;
/// blocks until the whole reply is in. `token`, when not empty, goes as a bearer token; a non-empty
/// body is JSON.
request_outcome unix_request(const std::string& socket_path,
                             std::string_view method,
                             std::string_view target,
                             std::string_view body,
                             std::string_view token,
                             std::size_t max_body);

}  // namespace corral::cli::front
