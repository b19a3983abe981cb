// ASEXOR's raw-socket frames, as its own test (test/test_raw_socket.py) and wire probes saw them.
#include <gtest/gtest.h>

#include <string>

#include "corral/proto/asexor_frame.hpp"

namespace corral::proto::asexor {
namespace {

using namespace std::string_literals;

TEST(AsexorFrame, EncodesAsAsexorDoes) {
    EXPECT_EQ(encode_frame(frame_type::data, "abcd"), "\x00\x00\x00\x04" "abcd"s);
    EXPECT_EQ(encode_frame(frame_type::ping, ""), "\x01\x00\x00\x00"s);
    EXPECT_EQ(encode_frame(frame_type::pong, "x"), "\x02\x00\x00\x01x"s);
    EXPECT_EQ(encode_frame(frame_type::data, std::string(0x010203, 'z')).substr(0, 4), "\x00\x01\x02\x03"s);
}

TEST(AsexorFrame, DecodesFramesWhateverPiecesTheyArriveIn) {
    frame_decoder d;
    d.feed("\x00\x00\x00\x04" "abcd"s);
    auto f = d.next();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->type, frame_type::data);
    EXPECT_EQ(f->payload, "abcd");
    EXPECT_FALSE(d.next());
    EXPECT_EQ(d.buffered(), 0u);

    const auto big = "\x00\x00\x00\x0c" "0123456789AB"s;
    d.feed(big.substr(0, 2));
    EXPECT_FALSE(d.next());
    d.feed(big.substr(2, 4));
    EXPECT_FALSE(d.next());
    d.feed(big.substr(6, 5));
    EXPECT_FALSE(d.next());
    d.feed(big.substr(11));
    f = d.next();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->payload, "0123456789AB");

    d.feed("\x00\x00\x00\x04" "abcd" "\x01\x00\x00\x05" "12345" "\x00"s);
    EXPECT_EQ(d.next()->payload, "abcd");
    f = d.next();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->type, frame_type::ping);
    EXPECT_EQ(f->payload, "12345");
    EXPECT_FALSE(d.next());
    EXPECT_EQ(d.buffered(), 1u) << "the next frame's first byte waits";
    EXPECT_EQ(d.error(), "");
}

TEST(AsexorFrame, TheHighBitsOfTheFirstByteAreIgnoredAsAsexorIgnoresThem) {
    frame_decoder d;
    d.feed("\xf8\x00\x00\x02ok"s);
    auto f = d.next();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->type, frame_type::data);
    EXPECT_EQ(f->payload, "ok");
}

TEST(AsexorFrame, AnUnknownTypeOrAnOversizedFrameIsAnErrorWithAReason) {
    frame_decoder bad_type;
    bad_type.feed("\x03\x00\x00\x00"s);
    EXPECT_FALSE(bad_type.next());
    EXPECT_EQ(bad_type.error(), "Invalid frame type 3");
    bad_type.feed("\x00\x00\x00\x00"s);
    EXPECT_FALSE(bad_type.next()) << "nothing is read after an error";

    frame_decoder small(8);
    small.feed("\x00\x00\x00\x09"s);  // the header is enough: the payload is never waited for
    EXPECT_FALSE(small.next());
    EXPECT_EQ(small.error(), "Frame too big: 9 bytes, the limit is 8");

    frame_decoder fine(8);
    fine.feed("\x00\x00\x00\x08" "12345678"s);
    EXPECT_EQ(fine.next()->payload, "12345678");
}

}  // namespace
}  // namespace corral::proto::asexor
