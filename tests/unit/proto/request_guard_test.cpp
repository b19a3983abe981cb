#include "corral/proto/request_guard.hpp"

#include <gtest/gtest.h>

namespace corral::proto {
namespace {

http::request request(std::initializer_list<std::pair<std::string, std::string>> headers) {
    http::request req{http::verb::post, "/api/v1/jobs", 11};
    for (const auto& [k, v] : headers) {
        req.set(k, v);
    }
    return req;
}

http::peer tcp_peer(std::string local_ip = "127.0.0.1") {
    http::peer p;
    p.address = "127.0.0.1:40000";
    p.local_ip = std::move(local_ip);
    return p;
}

unsigned status_of(const std::optional<http::reply>& r) {
    return r ? r->head.result_int() : 0;
}

TEST(RequestGuard, ParsesOriginsAndHostsStrictly) {
    EXPECT_EQ(parse_origin("http://127.0.0.1:8470"), (web_origin{"http", "127.0.0.1", 8470}));
    EXPECT_EQ(parse_origin("HTTPS://Ops.Example.com"), (web_origin{"https", "ops.example.com", 443}));
    EXPECT_EQ(parse_origin("http://[::1]:80"), (web_origin{"http", "::1", 80}));
    for (const char* bad : {"null",
                            "",
                            "file://",
                            "http://a/b",
                            "http://u@a",
                            "ftp://a",
                            "http://a:0",
                            "http://a:99999",
                            "http://a b",
                            "http://[zz]",
                            "http://a:"}) {
        EXPECT_FALSE(parse_origin(bad)) << bad;
    }
    EXPECT_EQ(parse_host("LocalHost.:8470", "http"), (web_origin{"http", "localhost", 8470}));
    EXPECT_EQ(parse_host("[::1]", "https"), (web_origin{"https", "::1", 443}));
    EXPECT_FALSE(parse_host("a/b", "http"));
    EXPECT_FALSE(parse_host("[::1]x", "http"));
}

TEST(RequestGuard, HostMustNameTheListener) {
    guard_options o{.server_names = {"corral.example"}, .cors_origins = {}};
    EXPECT_FALSE(guard_request(request({{"Host", "127.0.0.1:8470"}}), tcp_peer(), o));
    EXPECT_FALSE(guard_request(request({{"Host", "localhost"}}), tcp_peer(), o));
    EXPECT_FALSE(guard_request(request({{"Host", "Corral.Example:1"}}), tcp_peer(), o));
    EXPECT_FALSE(guard_request(request({{"Host", "10.0.0.5"}}), tcp_peer("10.0.0.5"), o));
    EXPECT_EQ(status_of(guard_request(request({{"Host", "rebind.attacker.example:8470"}}), tcp_peer(), o)),
              421u);
    EXPECT_EQ(status_of(guard_request(request({{"Host", "127.0.0.2"}}), tcp_peer(), o)), 421u)
        << "another address than the one the connection came in on";
    EXPECT_EQ(status_of(guard_request(request({}), tcp_peer(), o)), 400u) << "HTTP/1.1 without Host";
    EXPECT_EQ(status_of(guard_request(request({{"Host", "a b"}}), tcp_peer(), o)), 400u);
    http::peer unix_peer;
    unix_peer.local_socket = true;
    EXPECT_FALSE(guard_request(request({{"Host", "anything"}}), unix_peer, o))
        << "no browser reaches a socket";
}

TEST(RequestGuard, OriginMustBeOursOrAllowed) {
    guard_options o{.server_names = {}, .cors_origins = {"https://ops.example.com"}};
    const auto host = std::pair<std::string, std::string>{"Host", "127.0.0.1:8470"};
    EXPECT_FALSE(guard_request(request({host, {"Origin", "http://127.0.0.1:8470"}}), tcp_peer(), o));
    EXPECT_FALSE(guard_request(request({host, {"Origin", "https://OPS.example.com"}}), tcp_peer(), o));
    EXPECT_TRUE(allowed_cross_origin(request({host, {"Origin", "https://ops.example.com"}}), o));
    for (const char* foreign : {"http://127.0.0.1:8471",
                                "https://127.0.0.1:8470",
                                "http://localhost:8470",
                                "null",
                                "http://ops.example.com",
                                "garbage"}) {
        auto r = guard_request(request({host, {"Origin", foreign}}), tcp_peer(), o);
        EXPECT_EQ(status_of(r), 403u) << foreign;
        EXPECT_FALSE(allowed_cross_origin(request({host, {"Origin", foreign}}), o)) << foreign;
    }
    http::peer tls = tcp_peer();
    tls.tls = true;
    EXPECT_FALSE(guard_request(request({host, {"Origin", "https://127.0.0.1:8470"}}), tls, o));
    EXPECT_EQ(check_cors_origin("*").empty(), false);
    EXPECT_EQ(check_cors_origin("https://a.example/").empty(), false);
    EXPECT_TRUE(check_cors_origin("https://a.example:8443").empty());
}

TEST(RequestGuard, ContentTypeIgnoresParametersAndCase) {
    EXPECT_TRUE(
        has_content_type(request({{"Content-Type", "Application/JSON; charset=utf-8"}}), "application/json"));
    EXPECT_FALSE(has_content_type(request({{"Content-Type", "text/plain"}}), "application/json"));
    EXPECT_FALSE(has_content_type(request({}), "application/json"));
    EXPECT_FALSE(has_content_type(request({{"Content-Type", "application/jsonx"}}), "application/json"));
}

}  // namespace
}  // namespace corral::proto
