#include "corral/console/arg_parser.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace corral::console {
namespace {

constexpr std::size_t width = 78;  // argparse: the terminal's columns less 2 (80 when it has none)
constexpr std::size_t max_help_position = 24;

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

bool looks_negative(const std::string& w) {
    if (w.size() < 2 || w[0] != '-') {
        return false;
    }
    double d = 0;
    auto [end, ec] = std::from_chars(w.data() + 1, w.data() + w.size(), d);
    return ec == std::errc{} && end == w.data() + w.size();
}

bool is_option_word(const std::string& w) {
    return w.size() > 1 && w[0] == '-' && !looks_negative(w);
}

std::string quoted(const std::string& s) {
    // Python's repr() of a str: single quotes unless the text has one and no double quote.
    const bool single = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
    const char q = single ? '"' : '\'';
    std::string out(1, q);
    for (char c : s) {
        if (c == '\\' || c == q) {
            out += '\\';
        }
        out += c;
    }
    return out + q;
}

/// argparse's usage lines: `usage: prog` and the parts, wrapped so that continuation lines start
/// under the first part (HelpFormatter._format_usage).
std::string wrap_usage(const std::string& prog, const std::vector<std::string>& opt_parts,
                       const std::vector<std::string>& pos_parts) {
    const std::string prefix = "usage: ";
    std::string all = prog;
    for (const auto& p : opt_parts) {
        all += " " + p;
    }
    for (const auto& p : pos_parts) {
        all += " " + p;
    }
    if (prefix.size() + all.size() <= width) {
        return prefix + all + "\n";
    }
    auto get_lines = [](const std::vector<std::string>& parts, const std::string& indent,
                        const std::string* first_prefix) {
        std::vector<std::string> lines;
        std::vector<std::string> line;
        std::size_t line_len = first_prefix ? first_prefix->size() - 1 : indent.size() - 1;
        auto flush = [&] {
            std::string text = indent;
            for (std::size_t i = 0; i < line.size(); ++i) {
                text += (i ? " " : "") + line[i];
            }
            lines.push_back(text);
            line.clear();
        };
        for (const auto& part : parts) {
            if (line_len + 1 + part.size() > width && !line.empty()) {
                flush();
                line_len = indent.size() - 1;
            }
            line.push_back(part);
            line_len += part.size() + 1;
        }
        if (!line.empty()) {
            flush();
        }
        if (first_prefix && !lines.empty()) {
            lines[0] = lines[0].substr(indent.size());
        }
        return lines;
    };
    const std::string indent(prefix.size() + prog.size() + 1, ' ');
    std::vector<std::string> first{prog};
    std::vector<std::string> lines;
    if (!opt_parts.empty()) {
        first.insert(first.end(), opt_parts.begin(), opt_parts.end());
        lines = get_lines(first, indent, &prefix);
        auto more = get_lines(pos_parts, indent, nullptr);
        lines.insert(lines.end(), more.begin(), more.end());
    } else {
        first.insert(first.end(), pos_parts.begin(), pos_parts.end());
        lines = get_lines(first, indent, &prefix);
    }
    std::string out = prefix;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        out += (i ? "\n" : "") + lines[i];
    }
    return out + "\n";
}

}  // namespace

std::vector<std::string> wrap_words(const std::string& text, std::size_t columns) {
    std::vector<std::string> lines;
    std::string line;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) {
            ++i;
        }
        const auto start = i;
        while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
            ++i;
        }
        if (start == i) {
            break;
        }
        const auto word = text.substr(start, i - start);
        if (!line.empty() && line.size() + 1 + word.size() > columns) {
            lines.push_back(line);
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) {
        lines.push_back(line);
    }
    return lines;
}

bool parsed_args::flag(const std::string& dest) const {
    auto it = flags.find(dest);
    return it != flags.end() && it->second;
}

std::optional<std::string> parsed_args::value(const std::string& dest) const {
    auto it = values.find(dest);
    if (it == values.end() || it->second.empty()) {
        return std::nullopt;
    }
    return it->second.front();
}

const std::vector<std::string>& parsed_args::words(const std::string& dest) const {
    static const std::vector<std::string> none;
    auto it = values.find(dest);
    return it == values.end() ? none : it->second;
}

std::optional<long long> parsed_args::integer(const std::string& dest) const {
    auto v = value(dest);
    if (!v) {
        return std::nullopt;
    }
    long long n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    return ec == std::errc{} && end == v->data() + v->size() ? std::optional<long long>(n) : std::nullopt;
}

arg_parser::arg_parser(std::string prog, std::string description)
    : prog_(std::move(prog)), description_(std::move(description)) {
    flag({"-h", "--help"}, "show this help message and exit");
}

arg_parser& arg_parser::flag(std::vector<std::string> names, std::string help) {
    argument a;
    a.names = std::move(names);
    const auto& longest = *std::find_if(a.names.begin(), a.names.end(), [&](const std::string& n) {
        return n.starts_with("--") || &n == &a.names.back();
    });
    a.dest = longest.substr(longest.find_first_not_of('-'));
    std::replace(a.dest.begin(), a.dest.end(), '-', '_');
    a.help = std::move(help);
    longest_invocation_ = std::max(longest_invocation_, invocation(a).size() + 2);
    optionals_.push_back(std::move(a));
    return *this;
}

arg_parser& arg_parser::option(std::vector<std::string> names,
                               std::string help,
                               std::optional<std::string> default_value,
                               std::vector<std::string> choices,
                               bool integer,
                               std::string metavar) {
    flag(std::move(names), std::move(help));
    auto& a = optionals_.back();
    a.takes_value = true;
    a.integer = integer;
    a.default_value = std::move(default_value);
    a.choices = std::move(choices);
    if (!metavar.empty()) {
        a.metavar = std::move(metavar);
    } else if (!a.choices.empty()) {
        a.metavar = fmt::format("{{{}}}", fmt::join(a.choices, ","));
    } else {
        a.metavar = upper(a.dest);
    }
    longest_invocation_ = std::max(longest_invocation_, invocation(a).size() + 2);
    return *this;
}

arg_parser& arg_parser::positional(std::string name, std::string help, nargs n, bool integer) {
    argument a;
    a.dest = name;
    a.metavar = std::move(name);
    a.help = std::move(help);
    a.takes_value = true;
    a.integer = integer;
    a.count = n;
    longest_invocation_ = std::max(longest_invocation_, invocation(a).size() + 2);
    positionals_.push_back(std::move(a));
    return *this;
}

std::string arg_parser::invocation(const argument& a) const {
    if (a.names.empty()) {
        return a.metavar;
    }
    std::string out;
    for (const auto& n : a.names) {
        out += (out.empty() ? "" : ", ") + n + (a.takes_value ? " " + a.metavar : "");
    }
    return out;
}

std::string arg_parser::usage_part(const argument& a) const {
    if (!a.names.empty()) {
        return "[" + a.names.front() + (a.takes_value ? " " + a.metavar : "") + "]";
    }
    switch (a.count) {
        case nargs::one:
            return a.metavar;
        case nargs::optional:
            return "[" + a.metavar + "]";
        case nargs::any:
            return "[" + a.metavar + " ...]";
        case nargs::at_least_one:
            return a.metavar + " [" + a.metavar + " ...]";
    }
    return a.metavar;
}

std::string arg_parser::display_name(const argument& a) const {
    if (a.names.empty()) {
        return a.metavar;
    }
    return fmt::format("{}", fmt::join(a.names, "/"));
}

std::string arg_parser::format_usage() const {
    std::vector<std::string> opt_parts;
    std::vector<std::string> pos_parts;
    for (const auto& a : optionals_) {
        opt_parts.push_back(usage_part(a));
    }
    for (const auto& a : positionals_) {
        pos_parts.push_back(usage_part(a));
    }
    return wrap_usage(prog_, opt_parts, pos_parts);
}

std::string arg_parser::format_help() const {
    std::string out = format_usage();
    if (!description_.empty()) {
        out += "\n";
        for (const auto& line : wrap_words(description_, width)) {
            out += line + "\n";
        }
    }
    const std::size_t help_position = std::min(longest_invocation_ + 2, max_help_position);
    const std::size_t help_width = std::max<std::size_t>(width - help_position, 11);
    const std::size_t action_width = help_position - 2 - 2;
    auto section = [&](const char* title, const std::vector<argument>& args) {
        if (args.empty()) {
            return;
        }
        out += fmt::format("\n{}:\n", title);
        for (const auto& a : args) {
            const auto header = invocation(a);
            auto lines = wrap_words(a.help, help_width);
            if (lines.empty()) {
                out += "  " + header + "\n";
                continue;
            }
            if (header.size() <= action_width) {
                out += fmt::format("  {:<{}}  {}\n", header, action_width, lines.front());
            } else {
                out += fmt::format("  {}\n{:{}}{}\n", header, "", help_position, lines.front());
            }
            for (std::size_t i = 1; i < lines.size(); ++i) {
                out += fmt::format("{:{}}{}\n", "", help_position, lines[i]);
            }
        }
    };
    section("positional arguments", positionals_);
    section("options", optionals_);
    return out;
}

std::string arg_parser::error(const std::string& message) const {
    return format_usage() + fmt::format("{}: error: {}\n", prog_, message);
}

std::optional<std::string> arg_parser::check_value(const argument& a, const std::string& value) const {
    if (a.integer) {
        long long n = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc{} || end != value.data() + value.size()) {
            return fmt::format("argument {}: invalid int value: {}", display_name(a), quoted(value));
        }
    }
    if (!a.choices.empty() && std::find(a.choices.begin(), a.choices.end(), value) == a.choices.end()) {
        std::vector<std::string> q;
        for (const auto& c : a.choices) {
            q.push_back(quoted(c));
        }
        return fmt::format("argument {}: invalid choice: {} (choose from {})", display_name(a), quoted(value),
                           fmt::join(q, ", "));
    }
    return std::nullopt;
}

const arg_parser::argument* arg_parser::find_option(const std::string& word, std::string& problem) const {
    for (const auto& a : optionals_) {
        if (std::find(a.names.begin(), a.names.end(), word) != a.names.end()) {
            return &a;
        }
    }
    if (!word.starts_with("--")) {
        return nullptr;
    }
    std::vector<std::pair<const argument*, std::string>> matches;
    for (const auto& a : optionals_) {
        for (const auto& n : a.names) {
            if (n.starts_with("--") && n.starts_with(word)) {
                matches.emplace_back(&a, n);
            }
        }
    }
    if (matches.size() > 1) {
        std::vector<std::string> names;
        for (const auto& m : matches) {
            names.push_back(m.second);
        }
        problem = fmt::format("ambiguous option: {} could match {}", word, fmt::join(names, ", "));
        return nullptr;
    }
    return matches.empty() ? nullptr : matches.front().first;
}

arg_parser::outcome arg_parser::parse(const std::vector<std::string>& words) const {
    parsed_args out;
    for (const auto& a : optionals_) {
        if (a.takes_value && a.default_value) {
            out.values[a.dest] = {*a.default_value};
        } else if (!a.takes_value) {
            out.flags[a.dest] = false;
        }
    }
    std::vector<std::string> loose;
    std::vector<std::string> unknown;
    bool only_positionals = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
        std::string word = words[i];
        if (only_positionals || !is_option_word(word)) {
            loose.push_back(word);
            continue;
        }
        if (word == "--") {
            only_positionals = true;
            continue;
        }
        std::optional<std::string> attached;
        if (auto eq = word.find('='); word.starts_with("--") && eq != std::string::npos) {
            attached = word.substr(eq + 1);
            word.resize(eq);
        }
        std::string problem;
        const auto* a = find_option(word, problem);
        if (!problem.empty()) {
            return {std::nullopt, error(problem)};
        }
        if (!a) {
            unknown.push_back(words[i]);
            continue;
        }
        if (a->dest == "help") {
            return {std::nullopt, format_help()};
        }
        if (!a->takes_value) {
            if (attached) {
                return {std::nullopt, error(fmt::format("argument {}: ignored explicit argument {}", display_name(*a),
                                                        quoted(*attached)))};
            }
            out.flags[a->dest] = true;
            continue;
        }
        if (!attached) {
            if (i + 1 >= words.size() || is_option_word(words[i + 1])) {
                return {std::nullopt, error(fmt::format("argument {}: expected one argument", display_name(*a)))};
            }
            attached = words[++i];
        }
        if (auto bad = check_value(*a, *attached)) {
            return {std::nullopt, error(*bad)};
        }
        out.values[a->dest] = {*attached};
    }
    // Positionals: each takes what it needs, leaving enough for those after it.
    std::size_t next = 0;
    std::vector<std::string> missing;
    for (std::size_t p = 0; p < positionals_.size(); ++p) {
        const auto& a = positionals_[p];
        std::size_t needed_after = 0;
        for (std::size_t q = p + 1; q < positionals_.size(); ++q) {
            needed_after += positionals_[q].count == nargs::one || positionals_[q].count == nargs::at_least_one ? 1 : 0;
        }
        const std::size_t left = loose.size() - next > needed_after ? loose.size() - next - needed_after : 0;
        std::size_t take = 0;
        switch (a.count) {
            case nargs::one:
                take = std::min<std::size_t>(1, loose.size() - next);
                break;
            case nargs::optional:
                take = std::min<std::size_t>(1, left);
                break;
            case nargs::any:
            case nargs::at_least_one:
                take = left;
                break;
        }
        if (take == 0 && (a.count == nargs::one || a.count == nargs::at_least_one)) {
            missing.push_back(a.metavar);
            continue;
        }
        std::vector<std::string> taken(loose.begin() + static_cast<std::ptrdiff_t>(next),
                                       loose.begin() + static_cast<std::ptrdiff_t>(next + take));
        for (const auto& w : taken) {
            if (auto bad = check_value(a, w)) {
                return {std::nullopt, error(*bad)};
            }
        }
        out.values[a.dest] = std::move(taken);
        next += take;
    }
    if (!missing.empty()) {
        return {std::nullopt, error(fmt::format("the following arguments are required: {}", fmt::join(missing, ", ")))};
    }
    unknown.insert(unknown.end(), loose.begin() + static_cast<std::ptrdiff_t>(next), loose.end());
    if (!unknown.empty()) {
        return {std::nullopt, error(fmt::format("unrecognized arguments: {}", fmt::join(unknown, " ")))};
    }
    return {std::move(out), {}};
}

}  // namespace corral::console
