#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "corral/core/error_info.hpp"

namespace corral {

/**
 * Splits a line into words the way a POSIX shell would quote them, and no further: Python's
 * `shlex.split()`, which the runner seed uses for its commands and aioconsole for its command lines.
 * Blanks separate words; `'…'` is literal; inside `"…"` a backslash escapes only `"` and `\`;
 * elsewhere a backslash escapes the next character. `''` is an empty word. Nothing is expanded
 * (no variables, globs or `~`) and `#` is an ordinary character.
 *
 * Errors (errc::invalid_argument): "no closing quotation" for an unbalanced quote, "no escaped
 * character" for a trailing backslash.
 */
result_info<std::vector<std::string>> split_shell_words(std::string_view line);

/// Quotes `word` so that split_shell_words() reads it back unchanged (for messages and logs).
std::string quote_shell_word(std::string_view word);

}  // namespace corral
