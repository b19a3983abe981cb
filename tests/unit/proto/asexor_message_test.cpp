// ASEXOR's messages: calls read as ASEXOR reads them, with its error texts
// (research/seeds-inventory.md §4.2), and their CBOR form, checked against bytes that ASEXOR's
// Python `cbor` package writes for the same values.
#include <gtest/gtest.h>

#include <string>

#include <boost/json.hpp>

#include "corral/proto/asexor_message.hpp"

namespace corral::proto::asexor {
namespace {

namespace json = boost::json;
using namespace std::string_literals;

json::value j(std::string_view text) { return json::parse(text); }

TEST(AsexorMessage, ACallCarriesItsIdTaskArgumentsAndKeywords) {
    auto call = parse_call(j(R"([7, "date", {"args": [1, "x"], "kwargs": {"utc": true}}])"));
    ASSERT_TRUE(call) << call.error().message;
    EXPECT_EQ(call->call_id, 7);
    EXPECT_EQ(call->task, "date");
    EXPECT_EQ(call->args, (json::array{1, "x"}));
    EXPECT_EQ(call->kwargs, (json::object{{"utc", true}}));
    EXPECT_FALSE(call->user);

    // Keys left out when empty, as ASEXOR's clients send them; null and empty read the same.
    for (auto text : {R"([1, "x", {}])", R"([1, "x", {"args": null, "kwargs": []}])", R"([1, "x", {"args": 0}])"}) {
        auto c = parse_call(j(text));
        ASSERT_TRUE(c) << text << ": " << c.error().message;
        EXPECT_TRUE(c->args.empty());
        EXPECT_TRUE(c->kwargs.empty());
    }
}

TEST(AsexorMessage, ADelegatedCallNamesItsUserAndRole) {
    const auto message = j(R"(["a", "date", {"user": "bob", "role": "user"}])");
    auto call = parse_call(message, true);
    ASSERT_TRUE(call);
    EXPECT_EQ(call->user, "bob");
    EXPECT_EQ(call->role, "user");
    EXPECT_FALSE(parse_call(message, false)->user) << "only a delegated listener reads them";
}

TEST(AsexorMessage, MalformedCallsGetAsexorsErrorsWithTheirCallIdWhenThereIsOne) {
    struct case_ {
        const char* text;
        const char* message;
        std::optional<json::value> call_id;
    };
    const case_ cases[] = {
        {"[3]", "not enough values to unpack (expected 3, got 1)", json::value(3)},
        {"{}", "not enough values to unpack (expected 3, got 0)", std::nullopt},
        {"[]", "not enough values to unpack (expected 3, got 0)", std::nullopt},
        {R"([1, "x", {}, 4])", "too many values to unpack (expected 3)", json::value(1)},
        {R"([5, "x", {"args": "notalist"}])", "Invalid message", json::value(5)},
        {R"([5, "x", {"kwargs": [1]}])", "Invalid message", json::value(5)},
        {R"([6, "x", [1, 2]])", "'list' object has no attribute 'get'", json::value(6)},
        {R"([6, "x", null])", "'NoneType' object has no attribute 'get'", json::value(6)},
        {"42", "cannot unpack non-iterable int object", std::nullopt},
        {"null", "cannot unpack non-iterable NoneType object", std::nullopt},
    };
    for (const auto& c : cases) {
        auto r = parse_call(j(c.text));
        ASSERT_FALSE(r) << c.text;
        EXPECT_EQ(r.error().message, c.message) << c.text;
        EXPECT_EQ(r.error().call_id, c.call_id) << c.text;
    }
}

TEST(AsexorMessage, RepliesErrorsAndUpdatesHaveAsexorsShapes) {
    EXPECT_EQ(json::serialize(reply_message(1, 42)), R"(["r",1,42])");
    EXPECT_EQ(json::serialize(error_message(3, "not enough values to unpack (expected 3, got 1)")),
              R"x(["e",3,"not enough values to unpack (expected 3, got 1)",null])x");
    EXPECT_EQ(json::serialize(update_message("c", {{"status", "started"}, {"task_id", 42}})),
              R"(["m","c",{"status":"started","task_id":42}])");
}

TEST(AsexorMessage, CborMatchesWhatAsexorsPythonClientsWrite) {
    // cbor.dumps([1, "date", {"args": [1, "x"]}]) in ASEXOR's Python client.
    const auto python = "\x83\x01\x64" "date" "\xa1\x64" "args" "\x82\x01\x61x"s;
    auto v = from_cbor(python);
    ASSERT_TRUE(v) << v.error().what();
    EXPECT_EQ(*v, j(R"([1, "date", {"args": [1, "x"]}])"));
    EXPECT_EQ(to_cbor(*v), python);
    // Replies as the raw socket sends them: ["r", 1, 42] and ["e", 3, "bad", None].
    EXPECT_EQ(to_cbor(reply_message(1, 42)), "\x83\x61r\x01\x18\x2a"s);
    EXPECT_EQ(to_cbor(error_message(3, "bad")), "\x84\x61" "e" "\x03\x63" "bad" "\xf6"s);
    // Negative integers, floats, booleans, bytes read as text.
    auto mixed = from_cbor("\x85\x20\x38\x63\xfb\x3f\xf8\x00\x00\x00\x00\x00\x00\xf4\x42hi"s);
    ASSERT_TRUE(mixed) << mixed.error().what();
    EXPECT_EQ(*mixed, j(R"([-1, -100, 1.5, false, "hi"])"));
    // Bytes that are not UTF-8 go back out as bytes: a text string must be UTF-8.
    auto raw = from_cbor("\x82\x45\xf6\x83\x00\x00\x00\x0d"s);
    ASSERT_TRUE(raw) << raw.error().what();
    EXPECT_EQ(to_cbor(*raw), "\x82\x45\xf6\x83\x00\x00\x00\x0d"s);
}

TEST(AsexorMessage, BadCborIsRefusedWithAReasonAndAllocatesNothingItDoesNotHold) {
    const std::pair<std::string, std::string> cases[] = {
        {"", "CBOR: no data at byte 0"},
        {"\x62" "a"s, "CBOR: not enough data"},
        {"\x83\x01"s, "CBOR: an array or map declares more items than the message holds"},
        {"\x01\x02"s, "CBOR: 1 bytes after the message"},
        {"\xc1\x01"s, "CBOR: tagged items are not used by this protocol"},
        {"\xa1\x01\x02"s, "CBOR: a map key that is not text"},
        {"\xf7"s, "CBOR: the simple value 23"},
        {"\x3b\xff\xff\xff\xff\xff\xff\xff\xff"s, "CBOR: a negative integer below the 64-bit range"},
        // An array that says it holds 2^64-1 items, in nine bytes: refused before any allocation.
        {"\x9b\xff\xff\xff\xff\xff\xff\xff\xff"s, "CBOR: an array or map declares more items than the message holds"},
        {"\xbb\x00\x00\x00\x01\x00\x00\x00\x00"s, "CBOR: an array or map declares more items than the message holds"},
    };
    for (const auto& [bytes, why] : cases) {
        auto r = from_cbor(bytes);
        ASSERT_FALSE(r) << why;
        EXPECT_EQ(r.error().what().substr(0, why.size()), why);
    }
    // Depth and item limits.
    std::string deep(70, '\x81');
    deep += '\x01';
    auto too_deep = from_cbor(deep);
    ASSERT_FALSE(too_deep);
    EXPECT_EQ(too_deep.error().what(), "CBOR: nested deeper than 64 levels");
    auto too_many = from_cbor("\x83\x01\x02\x03"s, cbor_limits{.max_items = 2});
    ASSERT_FALSE(too_many);
    EXPECT_EQ(too_many.error().what(), "CBOR: more than 2 items");
}

}  // namespace
}  // namespace corral::proto::asexor
