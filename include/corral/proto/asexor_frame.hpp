#pragma once
// ASEXOR's raw-socket framing (research/seeds-inventory.md §4.3): each frame is a 4-byte header,
// then its payload. The header's first byte carries the frame type in its low 3 bits (0 data,
// 1 ping, 2 pong); its other three bytes are the payload length, big-endian (24 bits). The high 5
// bits of the first byte are ignored, as ASEXOR ignores them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corral::proto::asexor {

enum class frame_type : std::uint8_t { data = 0, ping = 1, pong = 2 };

struct frame {
    frame_type type = frame_type::data;
    std::string payload;
};

/// The largest payload a 24-bit length can say: 16 MiB less one byte.
inline constexpr std::size_t max_frame_payload = (std::size_t{1} << 24) - 1;

/// The frame's bytes: header and payload. `payload` must be at most max_frame_payload.
std::string encode_frame(frame_type type, std::string_view payload);

/**
 * Cuts a byte stream into frames, whatever pieces the bytes arrive in. A frame type above 2, or a
 * length over the limit, is a protocol error: the decoder says why (error()) and takes no more
 * bytes, and the connection is to be closed with that reason.
 *
 * @par Thread safety
 * Not thread-safe.
 */
class frame_decoder {
  public:
    /// `limit`: the largest payload accepted (ASEXOR's default, 16 MiB, is max_frame_payload).
    explicit frame_decoder(std::size_t limit = max_frame_payload) : limit_(limit) {}

    /// Adds bytes read from the connection. Ignored after an error.
    void feed(std::string_view bytes);
    /// The next whole frame, if one has arrived.
    std::optional<frame> next();
    /// Why the stream is unusable ("" while it is fine).
    const std::string& error() const { return error_; }
    /// Bytes held for a frame not yet complete.
    std::size_t buffered() const { return buffer_.size() - start_; }

  private:
    std::size_t limit_;
    std::string buffer_;
    std::size_t start_ = 0;  ///< where the unread bytes begin in buffer_
    std::string error_;
};

}  // namespace corral::proto::asexor
