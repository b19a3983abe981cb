#include "corral/output/table.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace corral::output {
namespace {

std::vector<std::string> non_blank_lines(std::string_view text) {
    std::vector<std::string> lines;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string line(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.find_first_not_of(" \t") != std::string::npos) {
            lines.push_back(std::move(line));
        }
    }
    return lines;
}

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) {
        return {};
    }
    auto e = s.find_last_not_of(" \t");
    return std::string(s.substr(b, e - b + 1));
}

std::string normalise_name(std::string_view raw) {
    std::string out;
    for (char c : trim(raw)) {
        if (c == ' ' || c == '\t') {
            if (!out.empty() && out.back() != ' ') {
                out += ' ';
            }
        } else {
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    return out;
}

void make_names_unique(std::vector<std::string>& names) {
    std::map<std::string, int> seen;
    for (auto& n : names) {
        if (int count = ++seen[n]; count > 1) {
            n += "_" + std::to_string(count);
        }
    }
}

std::vector<std::string> split_tabs(const std::string& line, std::size_t columns) {
    std::vector<std::string> cells;
    std::size_t start = 0;
    while (cells.size() + 1 < columns) {
        auto tab = line.find('\t', start);
        if (tab == std::string::npos) {
            break;
        }
        cells.push_back(trim(std::string_view(line).substr(start, tab - start)));
        start = tab + 1;
    }
    cells.push_back(start <= line.size() ? trim(std::string_view(line).substr(start)) : std::string{});
    cells.resize(columns);
    return cells;
}

table parse_tsv(const std::vector<std::string>& lines) {
    table t;
    for (auto& cell : split_tabs(lines[0], std::count(lines[0].begin(), lines[0].end(), '\t') + 1)) {
        t.columns.push_back(normalise_name(cell));
    }
    for (std::size_t i = 1; i < lines.size(); ++i) {
        t.rows.push_back(split_tabs(lines[i], t.columns.size()));
    }
    return t;
}

char at(const std::string& s, std::size_t i) {
    return i < s.size() ? s[i] : ' ';
}

std::string cell(const std::string& row, std::size_t start, std::size_t end) {
    return start >= row.size() ? std::string{} : trim(std::string_view(row).substr(start, end - start));
}

table parse_aligned(const std::vector<std::string>& lines) {
    std::size_t width = 0;
    for (const auto& l : lines) {
        width = std::max(width, l.size());
    }
    std::vector<bool> gutter(width, true);
    for (const auto& l : lines) {
        for (std::size_t x = 0; x < l.size(); ++x) {
            gutter[x] = gutter[x] && (l[x] == ' ' || l[x] == '\t');
        }
    }
    // Column starts: the start of every field that has header text under it.
    const std::string& header = lines[0];
    std::vector<std::size_t> starts;
    for (std::size_t x = 0; x < width;) {
        if (gutter[x]) {
            ++x;
            continue;
        }
        std::size_t end = x;
        bool has_header = false;
        for (; end < width && !gutter[end]; ++end) {
            has_header = has_header || at(header, end) != ' ';
        }
        if (has_header || starts.empty()) {
            starts.push_back(x);
        }
        x = end;
    }
    starts.push_back(std::max(width, header.size()));
    table t;
    std::vector<std::vector<std::string>> columns_cells;
    for (std::size_t c = 0; c + 1 < starts.size(); ++c) {
        std::string name = normalise_name(
            std::string_view(header).substr(std::min(starts[c], header.size()), starts[c + 1] - starts[c]));
        std::vector<std::string> cells;
        bool empty = true;
        for (std::size_t r = 1; r < lines.size(); ++r) {
            cells.push_back(cell(lines[r], starts[c], starts[c + 1]));
            empty = empty && cells.back().empty();
        }
        // "IMAGE ID": a header word one space after the previous, with no data of its own, is part of it.
        const bool joins_previous = c > 0 && empty && lines.size() > 1 && starts[c] >= 2 &&
                                    at(header, starts[c] - 1) == ' ' && at(header, starts[c] - 2) != ' ';
        if (joins_previous) {
            t.columns.back() += " " + name;
            continue;
        }
        t.columns.push_back(std::move(name));
        columns_cells.push_back(std::move(cells));
    }
    for (std::size_t r = 0; r + 1 < lines.size(); ++r) {
        std::vector<std::string> row;
        for (auto& col : columns_cells) {
            row.push_back(std::move(col[r]));
        }
        t.rows.push_back(std::move(row));
    }
    return t;
}

}  // namespace

table parse_table(std::string_view text) {
    auto lines = non_blank_lines(text);
    if (lines.empty()) {
        return {};
    }
    table t = lines[0].find('\t') != std::string::npos ? parse_tsv(lines) : parse_aligned(lines);
    make_names_unique(t.columns);
    return t;
}

}  // namespace corral::output
