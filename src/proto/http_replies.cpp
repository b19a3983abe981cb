#include "corral/proto/http_replies.hpp"

#include "corral/proto/request_guard.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

namespace corral::proto {

http::reply json_reply(http::status status, const boost::json::value& body) {
    http::reply r;
    r.head.result(status);
    r.head.set(boost::beast::http::field::content_type, "application/json");
    r.head.body() = boost::json::serialize(body);
    r.head.body() += '\n';
    return r;
}

http::reply error_reply(http::status status, std::string_view code, std::string_view message) {
    return json_reply(status, {{"error", {{"code", code}, {"message", message}}}});
}

http::reply text_reply(http::status status, std::string body, std::string_view content_type) {
    http::reply r;
    r.head.result(status);
    r.head.set(boost::beast::http::field::content_type, content_type);
    r.head.body() = std::move(body);
    return r;
}

std::optional<std::string> target::param(std::string_view key) const {
    for (const auto& [k, v] : query) {
        if (k == key) {
            return v;
        }
    }
    return std::nullopt;
}

std::vector<std::string> target::params(std::string_view key) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : query) {
        if (k == key) {
            out.push_back(v);
        }
    }
    return out;
}

std::optional<target> parse_target(std::string_view text, std::string& error) {
    auto url = boost::urls::parse_origin_form(text);
    if (!url) {
        error = "malformed request target: " + url.error().message();
        return std::nullopt;
    }
    target t;
    for (auto segment : url->segments()) {
        if (!segment.empty()) {
            t.segments.push_back(segment);
        }
    }
    for (auto p : url->params()) {
        t.query.emplace_back(p.key, p.has_value ? p.value : std::string());
    }
    return t;
}

std::optional<boost::json::value> parse_json(std::string_view body, http::reply& error) {
    boost::system::error_code ec;
    boost::json::parse_options opts;
    opts.max_depth = 32;
    auto v = boost::json::parse(body, ec, {}, opts);
    if (ec) {
        error = error_reply(http::status::bad_request,
                            "malformed_json",
                            fmt::format("the body is not valid JSON: {}", ec.message()));
        return std::nullopt;
    }
    return v;
}

std::optional<http::reply> require_body_type(const http::request& req,
                                             std::initializer_list<std::string_view> types) {
    for (auto type : types) {
        if (has_content_type(req, type)) {
            return std::nullopt;
        }
    }
    const auto given = req[boost::beast::http::field::content_type];
    return error_reply(http::status::unsupported_media_type,
                       "unsupported_media_type",
                       fmt::format("{} {} takes a body of type {}, not '{}': send Content-Type: {}",
                                   std::string_view(req.method_string()),
                                   std::string_view(req.target()),
                                   fmt::join(types, " or "),
                                   std::string_view(given.empty() ? "none" : given),
                                   *types.begin()));
}

}  // namespace corral::proto
