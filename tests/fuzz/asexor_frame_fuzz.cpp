// ASEXOR's raw-socket frame decoder on arbitrary bytes, fed in pieces of every size: it never
// crashes, holds at most one frame's bytes, and each frame it decodes re-encodes to the bytes it came
// from (but for the header's ignored high bits).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "corral/proto/asexor_frame.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace corral::proto::asexor;
    if (size == 0) {
        return 0;
    }
    // The first byte picks the piece size and the limit; the rest is the stream.
    const std::size_t piece = 1 + data[0] % 17;
    const std::size_t limit = data[0] & 0x80 ? 64 : max_frame_payload;
    const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
    frame_decoder decoder(limit);
    std::size_t pos = 0;
    for (std::size_t at = 0; at < stream.size(); at += piece) {
        decoder.feed(stream.substr(at, piece));
        while (auto f = decoder.next()) {
            const auto bytes = encode_frame(f->type, f->payload);
            const auto original = stream.substr(pos, bytes.size());
            if (original.size() != bytes.size() || original.substr(1) != std::string_view(bytes).substr(1) ||
                (original[0] & 0x07) != (bytes[0] & 0x07) || f->payload.size() > limit) {
                __builtin_trap();
            }
            pos += bytes.size();
        }
        if (decoder.buffered() > 4 + limit + piece) {
            __builtin_trap();
        }
    }
    return 0;
}
