#pragma once
// A command's arguments the way Python's argparse reads and explains them, so that corral's console
// answers as aioconsole's does (research/seeds-inventory.md §2): the same usage lines (`list` shows
// them), the same `-h` help, the same error messages, in the same format.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace corral::console {

/// What a parse found: option and positional values by destination name ("state" for --state).
class parsed_args {
  public:
    bool flag(const std::string& dest) const;
    /// The value given (or the default); nullopt when neither.
    std::optional<std::string> value(const std::string& dest) const;
    /// A positional with nargs `*`, `+` or `?`: its words (empty when none).
    const std::vector<std::string>& words(const std::string& dest) const;
    std::optional<long long> integer(const std::string& dest) const;

    std::map<std::string, std::vector<std::string>> values;
    std::map<std::string, bool> flags;
};

/// How many words a positional takes: argparse's nargs None, '?', '*' and '+'.
enum class nargs { one, optional, any, at_least_one };

/**
 * An argparse.ArgumentParser with the parts corral's commands use: `-h/--help`, switches, options
 * with one value (an int or text, with choices and a default), and positionals. Option names given
 * in full or as an unambiguous prefix, `--name=value`, and `--` before positionals that start with
 * `-`. Output matches Python 3.11's: `usage: PROG [-h] [--state STATE] id` wrapped at 78 columns,
 * `PROG: error: ...` messages, and the help's `positional arguments:` and `options:` sections.
 */
class arg_parser {
  public:
    explicit arg_parser(std::string prog, std::string description = {});

    /// A switch: `names` as written, the long one first or not (argparse shows the first in the usage).
    arg_parser& flag(std::vector<std::string> names, std::string help);
    /// An option taking one value. `metavar` defaults to the destination in capitals.
    arg_parser& option(std::vector<std::string> names,
                       std::string help,
                       std::optional<std::string> default_value = {},
                       std::vector<std::string> choices = {},
                       bool integer = false,
                       std::string metavar = {});
    arg_parser& positional(std::string name, std::string help, nargs n = nargs::one, bool integer = false);

    const std::string& prog() const { return prog_; }
    /// "usage: prog [-h] ...\n"
    std::string format_usage() const;
    /// The whole `-h` text.
    std::string format_help() const;

    /// The words after the command's name. When `output` is set the parse ended there (argparse's
    /// SystemExit): with the help for `-h`, or the usage and `prog: error: ...` lines.
    struct outcome {
        std::optional<parsed_args> args;
        std::string output;
    };
    outcome parse(const std::vector<std::string>& words) const;

  private:
    struct argument {
        std::vector<std::string> names;  ///< empty for a positional
        std::string dest;
        std::string metavar;
        std::string help;
        bool takes_value = false;
        bool integer = false;
        nargs count = nargs::one;
        std::optional<std::string> default_value;
        std::vector<std::string> choices;
    };
    std::string usage_part(const argument& a) const;
    std::string invocation(const argument& a) const;
    std::string display_name(const argument& a) const;
    std::string error(const std::string& message) const;
    std::optional<std::string> check_value(const argument& a, const std::string& value) const;
    const argument* find_option(const std::string& word, std::string& problem) const;

    std::string prog_;
    std::string description_;
    std::vector<argument> optionals_;
    std::vector<argument> positionals_;
    std::size_t longest_invocation_ = 0;
};

/// Text wrapped to `width` columns like Python's textwrap.wrap (words never split unless longer).
std::vector<std::string> wrap_words(const std::string& text, std::size_t width);

}  // namespace corral::console
