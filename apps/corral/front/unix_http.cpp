#include "front/unix_http.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace corral::cli::front {
namespace {

reply_parse malformed(std::string why) {
    reply_parse p;
    p.state = reply_parse::outcome::malformed;
    p.error = std::move(why);
    return p;
}

reply_parse complete(unsigned status, std::string body) {
    reply_parse p;
    p.state = reply_parse::outcome::complete;
    p.reply = {status, std::move(body)};
    return p;
}

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

template <typename Number>
bool parse_number(std::string_view text, Number& out, int base = 10) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
    return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

reply_parse cut_short(bool at_eof, std::string_view where) {
    if (at_eof) {
        return malformed("corrald closed the connection in the middle of its reply's " + std::string(where));
    }
    return {};
}

std::string over_limit(std::size_t max_body) {
    return "corrald's reply is over the limit of " + std::to_string(max_body) + " bytes";
}

/// A chunked body (RFC 9112 §7.1), extensions and trailers skipped.
reply_parse parse_chunked(unsigned status, std::string_view rest, bool at_eof, std::size_t max_body) {
    std::string body;
    std::size_t pos = 0;
    for (;;) {
        const auto eol = rest.find("\r\n", pos);
        if (eol == std::string_view::npos) {
            if (rest.size() - pos > 1024) {
                return malformed("corrald's reply has a chunk size line over 1 KiB");
            }
            return cut_short(at_eof, "body");
        }
        auto size_text = trim(rest.substr(pos, eol - pos));
        size_text = trim(size_text.substr(0, size_text.find(';')));
        std::uint64_t size = 0;
        if (!parse_number(size_text, size, 16)) {
            return malformed("corrald's reply has a bad chunk size '" + std::string(size_text.substr(0, 40)) +
                             "'");
        }
        pos = eol + 2;
        if (size == 0) {
            for (;;) {  // trailer fields, up to an empty line
                const auto end = rest.find("\r\n", pos);
                if (end == std::string_view::npos) {
                    return cut_short(at_eof, "body");
                }
                if (end == pos) {
                    return complete(status, std::move(body));
                }
                pos = end + 2;
            }
        }
        if (size > max_body - body.size()) {
            return malformed(over_limit(max_body));
        }
        if (rest.size() - pos < size + 2) {
            return cut_short(at_eof, "body");
        }
        body.append(rest.substr(pos, size));
        if (rest.substr(pos + size, 2) != "\r\n") {
            return malformed("corrald's reply has a chunk not followed by CRLF");
        }
        pos += size + 2;
    }
}

}  // namespace

reply_parse parse_http_reply(std::string_view bytes, bool at_eof, std::size_t max_body) {
    const auto head_end = bytes.find("\r\n\r\n");
    if (head_end == std::string_view::npos || head_end > max_reply_head) {
        if (bytes.size() > max_reply_head) {
            return malformed("corrald's reply head is over 64 KiB");
        }
        if (at_eof && bytes.empty()) {
            return malformed("corrald closed the connection without replying");
        }
        return cut_short(at_eof, "head");
    }
    const auto head = bytes.substr(0, head_end + 2);  // every line ends with CRLF
    auto line_end = head.find("\r\n");
    const auto status_line = head.substr(0, line_end);
    unsigned status = 0;
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ' ||
        !parse_number(status_line.substr(9, 3), status) || status < 100 ||
        (status_line.size() > 12 && status_line[12] != ' ')) {
        return malformed("corrald's reply does not start with an HTTP/1.x status line: '" +
                         std::string(status_line.substr(0, 80)) + "'");
    }
    std::optional<std::uint64_t> length;
    bool chunked = false;
    for (auto pos = line_end + 2; pos < head.size(); pos = line_end + 2) {
        line_end = head.find("\r\n", pos);
        const auto line = head.substr(pos, line_end - pos);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            return malformed("corrald's reply has a header line without a name: '" +
                             std::string(line.substr(0, 80)) + "'");
        }
        const auto name = line.substr(0, colon);
        const auto value = trim(line.substr(colon + 1));
        if (iequals(name, "content-length")) {
            std::uint64_t n = 0;
            if (!parse_number(value, n) || (length && *length != n)) {
                return malformed("corrald's reply has a bad Content-Length '" +
                                 std::string(value.substr(0, 40)) + "'");
            }
            length = n;
        } else if (iequals(name, "transfer-encoding")) {
            chunked = value.size() >= 7 && iequals(value.substr(value.size() - 7), "chunked");
        }
    }
    const auto rest = bytes.substr(head_end + 4);
    if (status == 204 || status == 304 || status < 200) {
        return complete(status, {});
    }
    if (chunked) {
        return parse_chunked(status, rest, at_eof, max_body);
    }
    if (length) {
        if (*length > max_body) {
            return malformed(over_limit(max_body));
        }
        if (rest.size() < *length) {
            return cut_short(at_eof, "body");
        }
        return complete(status, std::string(rest.substr(0, *length)));
    }
    if (rest.size() > max_body) {
        return malformed(over_limit(max_body));
    }
    return at_eof ? complete(status, std::string(rest)) : reply_parse{};
}

request_outcome unix_request(const std::string& socket_path,
                             std::string_view method,
                             std::string_view target,
                             std::string_view body,
                             std::string_view token,
                             std::size_t max_body) {
    request_outcome out;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
        out.error = "the socket path is empty or too long";
        return out;
    }
    std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        out.error = std::strerror(errno);
        return out;
    }
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } guard{fd};
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        out.error = std::strerror(errno);
        return out;
    }
    out.connected = true;
    const auto failed = [&](std::string why) {
        out.error = "request to corrald at the socket " + socket_path + " failed: " + why;
        return out;
    };

    std::string request;
    request.reserve(160 + target.size() + token.size() + body.size());
    request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    request.append("Host: localhost\r\nUser-Agent: corral-cli\r\nConnection: close\r\n");
    if (!token.empty()) {
        request.append("Authorization: Bearer ").append(token).append("\r\n");
    }
    if (!body.empty()) {
        request.append("Content-Type: application/json\r\n");
    }
    request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n").append(body);
    for (std::size_t sent = 0; sent < request.size();) {
        const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return failed(std::strerror(errno));
        }
        sent += static_cast<std::size_t>(n);
    }

    std::string received;
    char block[64 * 1024];
    for (;;) {
        const auto n = ::recv(fd, block, sizeof block, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return failed(std::strerror(errno));
        }
        received.append(block, static_cast<std::size_t>(n));
        auto parsed = parse_http_reply(received, n == 0, max_body);
        if (parsed.state == reply_parse::outcome::complete) {
            out.reply = std::move(parsed.reply);
            return out;
        }
        if (parsed.state == reply_parse::outcome::malformed) {
            return failed(parsed.error);
        }
    }
}

}  // namespace corral::cli::front
