#include "corral/core/parse.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include <fmt/format.h>

namespace corral {
namespace {

struct number_and_unit {
    double value;
    std::string unit;
};

result_info<number_and_unit> split_number(std::string_view text, std::string_view what) {
    auto fail = [&](std::string_view why) {
        return error_info{make_error_code(errc::invalid_argument),
                          fmt::format("{} '{}': {}", what, text, why)};
    };
    if (text.empty()) {
        return fail("empty");
    }
    std::size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
        ++i;
    }
    if (i == 0) {
        return fail("expected a non-negative number");
    }
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + i, value);
    if (ec != std::errc{} || end != text.data() + i || !std::isfinite(value)) {
        return fail("not a number");
    }
    std::string unit;
    for (char c : text.substr(i)) {
        unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return number_and_unit{value, unit};
}

}  // namespace

result_info<std::chrono::milliseconds> parse_duration(std::string_view text) {
    auto parsed = split_number(text, "duration");
    if (!parsed) {
        return parsed.error();
    }
    double scale = 0;
    const auto& unit = parsed->unit;
    if (unit.empty() || unit == "s") {
        scale = 1000;
    } else if (unit == "ms") {
        scale = 1;
    } else if (unit == "m" || unit == "min") {
        scale = 60'000;
    } else if (unit == "h") {
        scale = 3'600'000;
    } else {
        return error_info{make_error_code(errc::invalid_argument),
                          fmt::format("duration '{}': unknown unit '{}' (use ms, s, m or h)", text, unit)};
    }
    double ms = parsed->value * scale;
    if (ms > 1e15) {
        return error_info{make_error_code(errc::invalid_argument),
                          fmt::format("duration '{}': too large", text)};
    }
    return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(ms))};
}

result_info<std::uint64_t> parse_size(std::string_view text) {
    auto parsed = split_number(text, "size");
    if (!parsed) {
        return parsed.error();
    }
    std::string unit = parsed->unit;
    if (unit.size() > 1 && unit.ends_with("ib")) {
        unit.resize(unit.size() - 2);
    } else if (unit.size() > 1 && unit.ends_with('b')) {
        unit.pop_back();
    }
    double scale = 0;
    if (unit.empty() || unit == "b") {
        scale = 1;
    } else if (unit == "k") {
        scale = 1024.0;
    } else if (unit == "m") {
        scale = 1024.0 * 1024;
    } else if (unit == "g") {
        scale = 1024.0 * 1024 * 1024;
    } else if (unit == "t") {
        scale = 1024.0 * 1024 * 1024 * 1024;
    } else {
        return error_info{make_error_code(errc::invalid_argument),
                          fmt::format("size '{}': unknown unit '{}' (use k, M, G or T)", text, parsed->unit)};
    }
    double bytes = parsed->value * scale;
    if (bytes > 9.0e18) {
        return error_info{make_error_code(errc::invalid_argument), fmt::format("size '{}': too large", text)};
    }
    return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string format_duration(std::chrono::milliseconds d) {
    auto ms = d.count();
    if (ms < 1000) {
        return fmt::format("{}ms", ms);
    }
    if (ms < 60'000) {
        return ms % 1000 == 0 ? fmt::format("{}s", ms / 1000) : fmt::format("{:.3g}s", ms / 1000.0);
    }
    if (ms % 60'000 == 0) {
        return fmt::format("{}m", ms / 60'000);
    }
    return fmt::format("{:.1f}m", ms / 60'000.0);
}

}  // namespace corral
