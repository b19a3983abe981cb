#pragma once
// What keeps web pages away from corrald: a request is served only when its Host names this listener
// (no DNS rebinding) and its Origin, when it has one, is the listener's own or an allowed one (no
// commands from pages on other sites). docs/security.md explains the threat model.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/net/http_types.hpp"

namespace corral::proto {

struct guard_options {
    /// Host names, besides the listener's IP and `localhost`, that a request may be addressed to
    /// (`api.server_names`: the names a proxy or DNS gives corrald).
    std::vector<std::string> server_names;
    /// Web origins other than corrald's own whose pages may call it (`api.cors_origins`):
    /// "https://ops.example.com", "http://127.0.0.1:5200". Exactly as a browser sends them.
    std::vector<std::string> cors_origins;
    /// Those origins' pages may send credentials (cookies): `Access-Control-Allow-Credentials`.
    /// Only ASEXOR's long-poll listener, whose session is a cookie, says so.
    bool cors_credentials = false;
};

/// A parsed `scheme://host[:port]` (or a Host header with the scheme it came in on). Hosts are
/// lower-case, IPv6 without brackets; the port is the scheme's default when none is given.
struct web_origin {
    std::string scheme;
    std::string host;
    unsigned port = 0;
    bool operator==(const web_origin&) const = default;
};

/// `http://127.0.0.1:8470` → {http, 127.0.0.1, 8470}; nullopt for "null", paths, user info or junk.
std::optional<web_origin> parse_origin(std::string_view text);
/// A Host header's value for `scheme` ("localhost:8470", "[::1]", "corral.example") ; nullopt when
/// malformed.
std::optional<web_origin> parse_host(std::string_view text, std::string_view scheme);

/// Why an `api.cors_origins` entry is unusable (empty when it is fine): not an origin, or "*".
std::string check_cors_origin(std::string_view origin);

/**
 * Checks `req` from `who` before anything else sees it. nullopt: go on. Otherwise the answer:
 * 400 for a missing or malformed Host on HTTP/1.1, 421 `misdirected_request` for a Host that names
 * another server (a DNS-rebinding page), 403 `forbidden_origin` for an Origin that is neither ours
 * nor allowed. Requests over a Unix socket skip the Host check (no browser reaches one).
 */
std::optional<http::reply> guard_request(const http::request& req,
                                         const http::peer& who,
                                         const guard_options& options);

/// True when `req` carries an Origin listed in `options.cors_origins` (so replies get CORS headers).
bool allowed_cross_origin(const http::request& req, const guard_options& options);

/// True when the request's Content-Type is `type` (parameters such as `; charset=utf-8` ignored).
bool has_content_type(const http::request& req, std::string_view type);

/// Whether an Accept-Encoding value takes gzip: a `gzip` (or `*`) coding whose weight is not 0.
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace corral::proto
