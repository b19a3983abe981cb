#include "corral/proto/request_guard.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "corral/proto/http_replies.hpp"

namespace corral::proto {
namespace {

namespace field = boost::beast::http;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

bool same_text(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

unsigned default_port(std::string_view scheme) {
    return scheme == "https" || scheme == "wss" ? 443 : 80;
}

bool host_char(unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
}

/// `host[:port]` or `[v6][:port]`, for `scheme`.
std::optional<web_origin> parse_authority(std::string_view text, std::string_view scheme) {
    web_origin o{std::string(scheme), {}, default_port(scheme)};
    std::string_view port;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close < 3) {
            return std::nullopt;
        }
        const auto v6 = text.substr(1, close - 1);
        if (!std::all_of(v6.begin(), v6.end(), [](unsigned char c) {
                return std::isxdigit(c) || c == ':' || c == '.';
            })) {
            return std::nullopt;
        }
        o.host = lower(v6);
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return std::nullopt;
            }
            port = rest.substr(1);
        }
    } else {
        const auto colon = text.find(':');
        auto host = text.substr(0, colon);
        if (colon != std::string_view::npos) {
            port = text.substr(colon + 1);
            if (port.empty()) {
                return std::nullopt;
            }
        }
        if (host.ends_with('.')) {
            host.remove_suffix(1);  // "localhost." is "localhost"
        }
        if (host.empty() || !std::all_of(host.begin(), host.end(), host_char)) {
            return std::nullopt;
        }
        o.host = lower(host);
    }
    if (!port.empty()) {
        unsigned n = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
        if (ec != std::errc{} || end != port.data() + port.size() || n == 0 || n > 65535) {
            return std::nullopt;
        }
        o.port = n;
    }
    return o;
}

std::string_view header(const http::request& req, field::field name) {
    auto it = req.find(name);
    return it == req.end() ? std::string_view() : std::string_view(it->value());
}

bool listed(const std::vector<std::string>& list, std::string_view value) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return same_text(s, value); });
}

}  // namespace

std::optional<web_origin> parse_origin(std::string_view text) {
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) {
        return std::nullopt;
    }
    const auto scheme = lower(text.substr(0, sep));
    if (scheme != "http" && scheme != "https") {
        return std::nullopt;
    }
    const auto rest = text.substr(sep + 3);
    if (rest.find_first_of("/?#@") != std::string_view::npos) {
        return std::nullopt;
    }
    return parse_authority(rest, scheme);
}

std::optional<web_origin> parse_host(std::string_view text, std::string_view scheme) {
    if (text.find_first_of("/?#@") != std::string_view::npos) {
        return std::nullopt;
    }
    return parse_authority(text, scheme);
}

std::string check_cors_origin(std::string_view origin) {
    if (origin == "*") {
        return "\"*\" would let every web page call corrald: list the origins of the pages you trust";
    }
    if (!parse_origin(origin) || origin.ends_with('/')) {
        return fmt::format(
            "'{}' is not a web origin: expected SCHEME://HOST[:PORT] such as "
            "\"https://ops.example.com\", with no path",
            origin);
    }
    return {};
}

std::optional<http::reply> guard_request(const http::request& req,
                                         const http::peer& who,
                                         const guard_options& options) {
    const std::string_view scheme = who.tls ? "https" : "http";
    const auto host_text = header(req, field::field::host);
    const auto host = parse_host(host_text, scheme);
    if (!who.local_socket) {
        if (host_text.empty() && req.version() >= 11) {
            return error_reply(
                http::status::bad_request, "missing_host", "HTTP/1.1 requests need a Host header");
        }
        if (!host_text.empty() && !host) {
            return error_reply(
                http::status::bad_request, "bad_host", fmt::format("malformed Host header '{}'", host_text));
        }
        if (host && host->host != "localhost" && host->host != who.local_ip &&
            !listed(options.server_names, host->host)) {
            return error_reply(
                http::status::misdirected_request,
                "misdirected_request",
                fmt::format("this server does not answer to the name '{}': Host must be its address ({}), "
                            "localhost, or one of api.server_names",
                            host->host,
                            who.local_ip));
        }
    }
    const auto origin_text = header(req, field::field::origin);
    if (req.find(field::field::origin) == req.end()) {
        return std::nullopt;  // not sent by a web page's script or form (browsers always send it there)
    }
    const auto origin = parse_origin(origin_text);
    if (origin && host && *origin == *host) {
        return std::nullopt;  // a page that corrald itself served
    }
    if (listed(options.cors_origins, origin_text)) {
        return std::nullopt;
    }
    return error_reply(
        http::status::forbidden,
        "forbidden_origin",
        fmt::format("requests from web pages of '{}' are refused: only corrald's own pages and "
                    "the origins in api.cors_origins may call it",
                    origin_text));
}

bool allowed_cross_origin(const http::request& req, const guard_options& options) {
    auto it = req.find(field::field::origin);
    return it != req.end() && listed(options.cors_origins, it->value());
}

bool accepts_gzip(std::string_view accept) {
    while (!accept.empty()) {
        auto comma = accept.find(',');
        auto item = accept.substr(0, comma);
        accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
        auto semi = item.find(';');
        auto coding = item.substr(0, semi);
        auto params = semi == std::string_view::npos ? std::string_view() : item.substr(semi + 1);
        while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t'))
            coding.remove_prefix(1);
        while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t'))
            coding.remove_suffix(1);
        if (coding != "gzip" && coding != "*") {
            continue;
        }
        // q=0, q=0.0, q=0.000 refuse it; any weight with a non-zero digit takes it.
        auto q = params.find("q=");
        if (q == std::string_view::npos) {
            return true;
        }
        auto weight = params.substr(q + 2);
        weight = weight.substr(0, weight.find(';'));
        return weight.find_first_of("123456789") != std::string_view::npos;
    }
    return false;
}

bool has_content_type(const http::request& req, std::string_view type) {
    auto value = header(req, field::field::content_type);
    value = value.substr(0, value.find(';'));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
    }
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    return same_text(value, type);
}

}  // namespace corral::proto
