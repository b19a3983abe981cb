#pragma once

#include <string>
#include <string_view>

namespace corral::output {

/**
 * Removes terminal escape sequences: CSI (`ESC [ ... final`), other two-byte ESC sequences, OSC and
 * other string sequences (`ESC ] ... BEL` or `... ESC \`), and their 8-bit C1 forms encoded in UTF-8
 * (U+0080–U+009F). This is acons's `escape_ansi` with two fixes: OSC titles are removed whole (acons
 * leaves their text behind) and UTF-8 continuation bytes are never mistaken for C1 controls.
 */
std::string strip_ansi(std::string_view text);

}  // namespace corral::output
