// ASEXOR's messages from a client on arbitrary input: the bytes as CBOR (the raw socket) and as JSON
// (the other transports), read as a call. Nothing crashes; a value that decodes re-encodes to CBOR
// that decodes to the same value; every call either parses or says why.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "corral/proto/asexor_message.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace corral::proto::asexor;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (auto v = from_cbor(bytes)) {
        const auto encoded = to_cbor(*v);
        auto again = from_cbor(encoded);
        if (!again || to_cbor(*again) != encoded) {  // bytes, not values: NaN != NaN
            __builtin_trap();
        }
        auto call = parse_call(*v, size % 2 == 0);
        if (!call && call.error().message.empty()) {
            __builtin_trap();
        }
    }
    if (auto v = corral::fuzz::parse_json(data, size)) {
        auto call = parse_call(*v, true);
        if (!call && call.error().message.empty()) {
            __builtin_trap();
        }
        (void)to_cbor(*v);
    }
    return 0;
}
