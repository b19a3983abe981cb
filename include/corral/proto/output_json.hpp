#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "corral/output/record.hpp"

namespace corral::proto {

/// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_utf8(std::string_view bytes);
std::string base64_encode(std::string_view bytes);

/// Joins neighbouring records from the same stream, so a reader gets fewer, larger pieces.
std::vector<output::record> coalesce(std::vector<output::record> records);

/**
 * A record as JSON: `{"offset", "stream": "out"|"err", "time": ns, "data"}`; output that is not UTF-8
 * on its own is sent as base64 with `"encoding": "base64"`, so every byte arrives as written.
 */
boost::json::object record_json(const output::record& r);

}  // namespace corral::proto
