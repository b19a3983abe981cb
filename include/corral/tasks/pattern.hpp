#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/core/error_info.hpp"

namespace corral::tasks {

/**
 * A regular expression from a config or a user (task argument patterns, `result = "regex"`), in RE2's
 * syntax: matched in time linear in the text, with no recursion and bounded memory, so no pattern
 * over any output can stall or crash corrald (std::regex recursed per character and overflowed the
 * stack on `(.|\n)*` over a megabyte). RE2 has no backreferences or lookaround.
 *
 * @par Thread safety
 * Immutable once compiled; safe to share between threads.
 */
class pattern {
  public:
    /// The longest pattern text accepted, and the memory RE2 may use for one compiled pattern.
    static constexpr std::size_t max_length = 4096;
    static constexpr std::size_t max_memory = 8 << 20;

    /// Errors: errc::invalid_argument saying what is wrong (too long, RE2's own message, too big).
    static result_info<std::shared_ptr<const pattern>> compile(std::string_view text);
    ~pattern();
    pattern(const pattern&) = delete;
    pattern& operator=(const pattern&) = delete;

    /// True when the whole of `text` matches.
    bool full_match(std::string_view text) const;
    /// The groups of the first match in `text` (group 1 first); nullopt when there is none. A group
    /// that took no part in the match is nullopt.
    std::optional<std::vector<std::optional<std::string>>> search(std::string_view text) const;
    /// The pattern as written.
    const std::string& text() const;

  private:
    struct impl;
    explicit pattern(std::unique_ptr<impl> i);
    std::unique_ptr<impl> impl_;
};

}  // namespace corral::tasks
