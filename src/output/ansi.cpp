#include "corral/output/ansi.hpp"

namespace corral::output {
namespace {

bool in_range(unsigned char c, unsigned char lo, unsigned char hi) {
    return c >= lo && c <= hi;
}

// Skips a control sequence whose introducer ends at `i`: parameters 0x30-0x3F, intermediates 0x20-0x2F,
// one final byte 0x40-0x7E. Returns the index after it.
std::size_t skip_csi(std::string_view s, std::size_t i) {
    while (i < s.size() && in_range(static_cast<unsigned char>(s[i]), 0x30, 0x3F)) {
        ++i;
    }
    while (i < s.size() && in_range(static_cast<unsigned char>(s[i]), 0x20, 0x2F)) {
        ++i;
    }
    if (i < s.size() && in_range(static_cast<unsigned char>(s[i]), 0x40, 0x7E)) {
        ++i;
    }
    return i;
}

// Skips a string sequence (OSC, DCS, SOS, PM, APC) up to BEL or ST (ESC \ or U+009C).
std::size_t skip_string(std::string_view s, std::size_t i) {
    while (i < s.size()) {
        if (s[i] == '\a') {
            return i + 1;
        }
        if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '\\') {
            return i + 2;
        }
        if (s[i] == '\xc2' && i + 1 < s.size() && s[i + 1] == '\x9c') {
            return i + 2;
        }
        ++i;
    }
    return i;
}

bool is_string_introducer(unsigned char c) {
    return c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_';
}

}  // namespace

std::string strip_ansi(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const bool esc =
            c == 0x1b && i + 1 < s.size() && in_range(static_cast<unsigned char>(s[i + 1]), 0x40, 0x5F);
        const bool c1 =
            c == 0xc2 && i + 1 < s.size() && in_range(static_cast<unsigned char>(s[i + 1]), 0x80, 0x9F);
        if (!esc && !c1) {
            out += s[i++];
            continue;
        }
        // The 7-bit introducer ESC X corresponds to the C1 control X + 0x40.
        const unsigned char kind =
            esc ? static_cast<unsigned char>(s[i + 1]) : static_cast<unsigned char>(s[i + 1] - 0x40);
        i += 2;
        if (kind == '[') {
            i = skip_csi(s, i);
        } else if (is_string_introducer(kind)) {
            i = skip_string(s, i);
        }
    }
    return out;
}

}  // namespace corral::output
