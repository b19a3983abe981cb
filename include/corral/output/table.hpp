#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace corral::output {

/// A parsed column table: column names and rows of cells (every row has one cell per column).
struct table {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
};

/**
 * Parses command output laid out as a table (acons's `parse_output_table`, made robust).
 * The full rule, with examples, is in docs/output.md. In short:
 *
 * - The first non-blank line is the header; blank lines are ignored. '\r' at line ends is dropped.
 * - **Tab-separated** (the header contains a tab): cells are split on tabs. Missing cells are empty;
 *   extra cells join the last column, tab-separated.
 * - **Aligned columns** otherwise: a *gutter* is a character position that is blank in the header and
 *   in every row. Runs of non-gutter positions are fields. A field with header text starts a column;
 *   a field without header text belongs to the column before it (so the last column can hold spaces).
 *   Columns start where their field starts, so right-aligned numbers (ps, df) land in the right column.
 * - **Multi-word headers**: a header word separated from the previous one by a single space, whose
 *   column is empty in every row, is part of the previous name ("IMAGE ID").
 * - Names are lower-cased with inner whitespace collapsed; a repeated name gets "_2", "_3", ...
 * - Empty output gives an empty table (no columns, no rows); a header alone gives columns and no rows.
 */
table parse_table(std::string_view text);

}  // namespace corral::output
