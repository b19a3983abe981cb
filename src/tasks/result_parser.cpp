#include "corral/tasks/result_parser.hpp"

#include <fmt/format.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "corral/output/table.hpp"

namespace corral::tasks {
namespace {

namespace json = boost::json;

std::string_view strip(std::string_view s) {
    constexpr std::string_view space = " \t\r\n\f\v";
    const auto first = s.find_first_not_of(space);
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

result_info<json::value> regex_result(const result_parser& parser, std::string_view text) {
    auto m = parser.compiled->search(text);
    if (!m) {
        return error_info{errc::invalid_argument,
                          fmt::format("result: the pattern '{}' did not match the output", parser.pattern)};
    }
    auto value = [](const std::optional<std::string>& group) {
        return group ? json::value(*group) : json::value(nullptr);
    };
    if (parser.fields.empty()) {
        json::array captures;
        for (const auto& group : *m) {
            captures.emplace_back(value(group));
        }
        return json::value(std::move(captures));
    }
    json::object named;
    for (std::size_t i = 0; i < parser.fields.size(); ++i) {
        named[parser.fields[i]] = i < m->size() ? value((*m)[i]) : json::value(nullptr);
    }
    return json::value(std::move(named));
}

json::value table_result(std::string_view text) {
    const auto t = output::parse_table(text);
    json::array rows;
    for (const auto& row : t.rows) {
        json::object o;
        for (std::size_t i = 0; i < t.columns.size(); ++i) {
            o[t.columns[i]] = row[i];
        }
        rows.emplace_back(std::move(o));
    }
    return rows;
}

}  // namespace

result_info<json::value> parse_result(const result_parser& parser, std::string_view stdout_text) {
    switch (parser.kind) {
        case result_kind::none:
            return json::value(nullptr);
        case result_kind::text:
            return json::value(json::string(strip(stdout_text)));
        case result_kind::json: {
            boost::system::error_code ec;
            auto v = json::parse(stdout_text, ec);
            if (ec) {
                return error_info{errc::invalid_argument,
                                  fmt::format("result: the output is not valid JSON: {}", ec.message())};
            }
            return v;
        }
        case result_kind::regex:
            return regex_result(parser, stdout_text);
        case result_kind::table:
            return table_result(stdout_text);
    }
    return json::value(nullptr);
}

}  // namespace corral::tasks
