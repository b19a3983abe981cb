// The CLI front's reply parser: every framing corrald may use, and every way a reply can be cut
// short, malformed or too large.
#include <gtest/gtest.h>

#include <string>

#include "front/unix_http.hpp"

namespace corral::cli::front {
namespace {

using state = reply_parse::outcome;

constexpr std::size_t limit = 1024;

reply_parse parse(const std::string& bytes, bool at_eof = false, std::size_t max_body = limit) {
    return parse_http_reply(bytes, at_eof, max_body);
}

TEST(HttpReply, AContentLengthBodyIsCompleteOnceAllOfItIsIn) {
    const std::string reply =
        "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\ncontent-length: 7\r\n\r\n{\"a\":1}";
    for (std::size_t cut = 0; cut < reply.size(); ++cut) {
        EXPECT_EQ(parse(reply.substr(0, cut)).state, state::incomplete) << cut;
    }
    const auto p = parse(reply);
    ASSERT_EQ(p.state, state::complete) << p.error;
    EXPECT_EQ(p.reply.status, 202u);
    EXPECT_TRUE(p.reply.ok());
    EXPECT_EQ(p.reply.body, "{\"a\":1}");
    // Bytes after the body (there are none from corrald: one request per connection) are not its body.
    EXPECT_EQ(parse(reply + "junk").reply.body, "{\"a\":1}");
}

TEST(HttpReply, AReplyCutShortByTheConnectionSaysWhere) {
    auto p = parse("", true);
    EXPECT_EQ(p.state, state::malformed);
    EXPECT_EQ(p.error, "corrald closed the connection without replying");
    p = parse("HTTP/1.1 200 OK\r\nContent-Le", true);
    EXPECT_EQ(p.state, state::malformed);
    EXPECT_NE(p.error.find("reply's head"), std::string::npos) << p.error;
    p = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true);
    EXPECT_EQ(p.state, state::malformed);
    EXPECT_NE(p.error.find("reply's body"), std::string::npos) << p.error;
}

TEST(HttpReply, WithoutALengthTheBodyEndsWithTheConnection) {
    const std::string reply = "HTTP/1.0 500 Internal Server Error\r\n\r\nno length";
    EXPECT_EQ(parse(reply).state, state::incomplete);
    const auto p = parse(reply, true);
    ASSERT_EQ(p.state, state::complete) << p.error;
    EXPECT_EQ(p.reply.status, 500u);
    EXPECT_FALSE(p.reply.ok());
    EXPECT_EQ(p.reply.body, "no length");
}

TEST(HttpReply, NoContentHasNoBody) {
    const auto p = parse("HTTP/1.1 204 No Content\r\n\r\n");
    ASSERT_EQ(p.state, state::complete);
    EXPECT_EQ(p.reply.status, 204u);
    EXPECT_EQ(p.reply.body, "");
}

TEST(HttpReply, AChunkedBodyIsJoinedWithExtensionsAndTrailersSkipped) {
    const std::string reply =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
        "4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n";
    for (std::size_t cut = 0; cut < reply.size(); ++cut) {
        EXPECT_EQ(parse(reply.substr(0, cut)).state, state::incomplete) << cut;
        EXPECT_EQ(parse(reply.substr(0, cut), true).state, state::malformed) << cut;
    }
    const auto p = parse(reply);
    ASSERT_EQ(p.state, state::complete) << p.error;
    EXPECT_EQ(p.reply.body, "Wikipedia in\r\n\r\nchunks.");
}

TEST(HttpReply, MalformedRepliesAreRefusedWithTheReason) {
    const std::pair<std::string, std::string> cases[] = {
        {"SMTP/1.1 200 OK\r\n\r\n", "HTTP/1.x status line"},
        {"HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.x status line"},
        {"HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.x status line"},
        {"HTTP/1.1 099 Odd\r\n\r\n", "HTTP/1.x status line"},
        {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "header line without a name"},
        {"HTTP/1.1 200 OK\r\n: value\r\n\r\n", "header line without a name"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", "bad Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", "bad Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "bad Content-Length"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
         "not followed by CRLF"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(2000, '1'), "over 1 KiB"},
    };
    for (const auto& [bytes, reason] : cases) {
        const auto p = parse(bytes);
        EXPECT_EQ(p.state, state::malformed) << bytes;
        EXPECT_NE(p.error.find(reason), std::string::npos) << bytes << " -> " << p.error;
    }
}

TEST(HttpReply, OversizedHeadsAndBodiesAreRefusedBeforeTheyAreRead) {
    auto p = parse("HTTP/1.1 200 OK\r\nX: " + std::string(max_reply_head, 'a'));
    EXPECT_EQ(p.state, state::malformed);
    EXPECT_NE(p.error.find("head is over 64 KiB"), std::string::npos) << p.error;
    // Told the length, it refuses at once rather than wait for bytes it would not keep.
    p = parse("HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n\r\n");
    EXPECT_EQ(p.state, state::malformed);
    EXPECT_NE(p.error.find("over the limit of 1024 bytes"), std::string::npos) << p.error;
    p = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n" + std::string(512, 'a') +
              "\r\n201\r\n");
    EXPECT_EQ(p.state, state::malformed);
    EXPECT_NE(p.error.find("over the limit"), std::string::npos) << p.error;
    p = parse("HTTP/1.1 200 OK\r\n\r\n" + std::string(1025, 'a'));
    EXPECT_EQ(p.state, state::malformed);
    ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n" + std::string(1024, 'a')).state,
              state::complete);
}

}  // namespace
}  // namespace corral::cli::front
