#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace corral::output {

/// Which of the child's streams a record came from. With merged output or a PTY everything is `out`.
enum class stream : std::uint8_t { out = 1, err = 2 };

std::string_view stream_name(stream s);

/// One chunk of output as the child wrote it: where it sits in the job's byte stream, when it arrived,
/// and the bytes.
struct record {
    std::uint64_t offset;
    stream source;
    std::int64_t time_ns;  ///< arrival time, nanoseconds since the Unix epoch
    std::string bytes;

    std::uint64_t end() const { return offset + bytes.size(); }
};

}  // namespace corral::output
