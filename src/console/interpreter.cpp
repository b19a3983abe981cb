#include "corral/console/interpreter.hpp"

#include <exception>

#include <fmt/format.h>

#include "corral/core/shell_words.hpp"

namespace corral::console {
namespace {

std::string trimmed(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n\f\v");
    if (first == std::string::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(" \t\r\n\f\v") - first + 1);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
        s.replace(at, from.size(), to);
    }
    return s;
}

}  // namespace

interpreter::interpreter(interpreter_options options) : options_(std::move(options)) {
    add({arg_parser("help", "Display the help message."), [](const parsed_args&, session&) -> net::awaitable<std::optional<std::string>> {
             co_return std::string("Type 'help' to display this message.\n"
                                   "Type 'list' to display the command list.\n"
                                   "Type '<command> -h' to display the help message of <command>.");
         }});
    add({arg_parser("list", "Display the command list."),
         [this](const parsed_args&, session&) -> net::awaitable<std::optional<std::string>> {
             std::string out = "List of commands:";
             for (const auto& [name, c] : commands_) {
                 auto usage = replace_all(c.parser.format_usage(), "usage: ", "");
                 usage.pop_back();
                 out += "\n * " + usage;
             }
             co_return out;
         }});
    add({arg_parser("exit", "Exit the interface."), nullptr});  // run_source ends the session
}

void interpreter::add(command c) {
    auto name = c.parser.prog();
    commands_.insert_or_assign(std::move(name), std::move(c));
}

std::string interpreter::banner() const {
    if (options_.banner) {
        return *options_.banner;
    }
    return fmt::format("Welcome to the CLI interface of {}!\n"
                       "Try:\n"
                       " * 'help' to display the help message\n"
                       " * 'list' to display the command list.",
                       options_.prog);
}

net::awaitable<void> interpreter::interact(session& s) const {
    // (Arguments named before co_await: g++ 12 mishandles temporaries inside it.)
    std::string greeting = banner() + "\n";
    if (!co_await s.io.write(std::move(greeting))) {
        co_return;
    }
    std::string buffer;
    bool more = false;
    for (bool first = true;; first = false) {
        std::string prompt = s.prompt_control + (more ? options_.ps2 : options_.ps1) + s.prompt_control;
        if (!co_await s.io.write(std::move(prompt))) {
            co_return;
        }
        auto line = co_await s.io.read_line();
        if (!line) {
            std::string end = "\n";
            co_await s.io.write(std::move(end));
            co_return;
        }
        if (first && *line == editing_client_hello) {
            s.prompt_control = prompt_marker;
            continue;
        }
        buffer = more ? buffer + "\n" + *line : *line;
        bool exit = false;
        more = co_await run_source(buffer, s, exit);
        if (exit) {
            co_return;
        }
    }
}

net::awaitable<bool> interpreter::run_source(const std::string& source, session& s, bool& exit) const {
    if (trimmed(source).ends_with('\\')) {
        co_return true;
    }
    auto words = split_shell_words(replace_all(source, "\\\n", ""));
    if (!words || words->empty()) {
        co_return false;  // aioconsole: unbalanced quotes and empty lines do nothing
    }
    const auto name = words->front();
    const auto found = commands_.find(name);
    if (found == commands_.end()) {
        std::string unknown = fmt::format("Command '{}' does not exist.\n", name);
        co_await s.io.write(std::move(unknown));
        co_return false;
    }
    const std::vector<std::string> args(words->begin() + 1, words->end());
    auto parsed = found->second.parser.parse(args);
    if (!parsed.args) {
        co_await s.io.write(std::move(parsed.output));
        co_return false;
    }
    if (name == "exit") {
        exit = true;
        co_return false;
    }
    std::optional<std::string> result;
    std::string failure;
    try {
        result = co_await found->second.run(*parsed.args, s);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    std::string answer = !failure.empty() ? fmt::format("error: {}\n", failure) : result ? *result + "\n" : "";
    if (!answer.empty()) {
        co_await s.io.write(std::move(answer));
    }
    co_return false;
}

}  // namespace corral::console
