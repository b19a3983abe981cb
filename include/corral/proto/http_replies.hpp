#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "corral/net/http_types.hpp"

namespace corral::proto {

/// `{"error": {"code": "...", "message": "..."}}` with `status`.
http::reply error_reply(http::status status, std::string_view code, std::string_view message);
http::reply json_reply(http::status status, const boost::json::value& body);
http::reply text_reply(http::status status, std::string body, std::string_view content_type);

/// The body as JSON (nesting at most 32 deep); nullopt with `error` set to a 400 saying why not.
std::optional<boost::json::value> parse_json(std::string_view body, http::reply& error);

/// 415 unless the body is one of `types`. A web page's form or no-cors fetch cannot send
/// application/json, and a JSON body is never taken for text or the other way round.
std::optional<http::reply> require_body_type(const http::request& req,
                                             std::initializer_list<std::string_view> types);

/// A request target split into its path segments (decoded) and query parameters (decoded, in order).
struct target {
    std::vector<std::string> segments;
    std::vector<std::pair<std::string, std::string>> query;

    std::optional<std::string> param(std::string_view key) const;
    std::vector<std::string> params(std::string_view key) const;
};

/// Errors: a message saying why the target is malformed.
std::optional<target> parse_target(std::string_view text, std::string& error);

}  // namespace corral::proto
