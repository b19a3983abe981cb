// The CLI front's reply parser (apps/corral/front/unix_http.cpp) on arbitrary bytes, whole and in two
// pieces as a socket may deliver them: it never crashes; a malformed reply says why; a complete one
// keeps to the body limit; and a reply complete in a prefix is the same reply in the whole.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "front/unix_http.hpp"

namespace {

using corral::cli::front::parse_http_reply;
using corral::cli::front::reply_parse;

constexpr std::size_t max_body = 4096;

void check(const reply_parse& p) {
    if (p.state == reply_parse::outcome::malformed && p.error.empty()) {
        std::abort();
    }
    if (p.state == reply_parse::outcome::complete && p.reply.body.size() > max_body) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto whole = parse_http_reply(bytes, false, max_body);
    check(whole);
    const auto at_end = parse_http_reply(bytes, true, max_body);
    check(at_end);
    if (at_end.state == reply_parse::outcome::incomplete) {
        std::abort();  // at the end of the connection every reply is complete or malformed
    }
    const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
    const auto prefix = parse_http_reply(bytes.substr(0, cut), false, max_body);
    check(prefix);
    if (prefix.state == reply_parse::outcome::complete &&
        (whole.state != reply_parse::outcome::complete || whole.reply.status != prefix.reply.status ||
         whole.reply.body != prefix.reply.body)) {
        std::abort();
    }
    return 0;
}
