// ASEXOR's raw-socket frames: a 4-byte header (type in the low 3 bits of the first byte, a 24-bit
// big-endian length in the other three), then the payload.
#include "corral/proto/asexor_frame.hpp"

#include <fmt/format.h>

namespace corral::proto::asexor {

std::string encode_frame(frame_type type, std::string_view payload) {
    const auto n = payload.size();
    std::string out;
    out.reserve(4 + n);
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(type) & 0x07));
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    out.push_back(static_cast<char>((n >> 8) & 0xff));
    out.push_back(static_cast<char>(n & 0xff));
    out.append(payload);
    return out;
}

void frame_decoder::feed(std::string_view bytes) {
    if (!error_.empty()) {
        return;
    }
    // Drop what was read before appending, so the buffer holds one partial frame at most.
    if (start_ > 0) {
        buffer_.erase(0, start_);
        start_ = 0;
    }
    buffer_.append(bytes);
}

std::optional<frame> frame_decoder::next() {
    if (!error_.empty() || buffered() < 4) {
        return std::nullopt;
    }
    const auto* h = reinterpret_cast<const unsigned char*>(buffer_.data() + start_);
    const unsigned type = h[0] & 0x07;
    const std::size_t length = (std::size_t{h[1]} << 16) | (std::size_t{h[2]} << 8) | std::size_t{h[3]};
    if (type > static_cast<unsigned>(frame_type::pong)) {
        error_ = fmt::format("Invalid frame type {}", type);
        return std::nullopt;
    }
    if (length > limit_) {
        error_ = fmt::format("Frame too big: {} bytes, the limit is {}", length, limit_);
        return std::nullopt;
    }
    if (buffered() - 4 < length) {
        return std::nullopt;
    }
    frame f{static_cast<frame_type>(type), buffer_.substr(start_ + 4, length)};
    start_ += 4 + length;
    return f;
}

}  // namespace corral::proto::asexor
