#include "corral/core/shell_words.hpp"

#include <optional>

namespace corral {
namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

error_info split_error(std::string message) {
    return {make_error_code(errc::invalid_argument), std::move(message)};
}

}  // namespace

result_info<std::vector<std::string>> split_shell_words(std::string_view line) {
    std::vector<std::string> words;
    std::optional<std::string> word;  // set once a word has started, even an empty quoted one
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (is_blank(c)) {
            if (word) {
                words.push_back(std::move(*word));
                word.reset();
            }
            continue;
        }
        if (!word) {
            word.emplace();
        }
        if (c == '\\') {
            if (++i == line.size()) {
                return split_error("no escaped character after the final backslash");
            }
            word->push_back(line[i]);
        } else if (c == '\'') {
            const auto end = line.find('\'', i + 1);
            if (end == std::string_view::npos) {
                return split_error("no closing quotation");
            }
            word->append(line.substr(i + 1, end - i - 1));
            i = end;
        } else if (c == '"') {
            for (++i;; ++i) {
                if (i == line.size()) {
                    return split_error("no closing quotation");
                }
                if (line[i] == '"') {
                    break;
                }
                if (line[i] == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) {
                    ++i;
                }
                word->push_back(line[i]);
            }
        } else {
            word->push_back(c);
        }
    }
    if (word) {
        words.push_back(std::move(*word));
    }
    return words;
}

std::string quote_shell_word(std::string_view word) {
    const bool plain = !word.empty() && word.find_first_of(" \t\n\r'\"\\$`*?[]{}()<>|&;#~!") == std::string_view::npos;
    if (plain) {
        return std::string(word);
    }
    std::string out = "'";
    for (char c : word) {
        if (c == '\'') {
            out += "'\"'\"'";
        } else {
            out.push_back(c);
        }
    }
    out += "'";
    return out;
}

}  // namespace corral
