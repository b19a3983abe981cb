#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "corral/auth/identity.hpp"
#include "corral/console/arg_parser.hpp"
#include "corral/core/asio.hpp"

namespace corral::console {

/// One console connection's lines in and text out.
class console_io {
  public:
    virtual ~console_io() = default;
    /// The next line without its '\n'; nullopt at the end of input. A last line without '\n' counts
    /// as the end, as aioconsole's ainput() has it.
    virtual net::awaitable<std::optional<std::string>> read_line() = 0;
    /// False once the other end is gone.
    virtual net::awaitable<bool> write(std::string text) = 0;
};

/// The first line a client with line editing sends (`corral console`): from then on each prompt is
/// written between two `prompt_marker`s, so that it can tell prompts from output.
inline constexpr std::string_view editing_client_hello = "#!corral-console";
inline constexpr std::string_view prompt_marker = "\u200b";  // zero width: invisible if printed

/// Who a command runs for, and where it may write while it runs (progress, long listings).
struct session {
    auth::identity who;
    console_io& io;
    /// Around each prompt (aioconsole's prompt_control): the interpreter's, or prompt_marker once the
    /// client said editing_client_hello.
    std::string prompt_control;
};

/// A command's work: its text answer (printed with a newline), or nothing. An exception's message
/// is printed as `error: ...`, and the session goes on.
using command_fn = std::function<net::awaitable<std::optional<std::string>>(const parsed_args&, session&)>;

struct command {
    arg_parser parser;
    command_fn run;
};

struct interpreter_options {
    /// Named in the banner: "Welcome to the CLI interface of PROG!".
    std::string prog = "corral";
    std::string ps1 = ">>> ";
    std::string ps2 = "... ";
    /// Replaces the banner when set.
    std::optional<std::string> banner;
};

/**
 * aioconsole's AsynchronousCli (research/seeds-inventory.md §2): a banner, then commands read line by
 * line, each split like a shell would and parsed by its own arg_parser, whose usage, help and errors
 * print and keep the session open. Built in: `help`, `list` (every command's usage, sorted) and
 * `exit`. A line ending in `\` continues on the next (prompt ps2); an unknown command prints
 * `Command 'NAME' does not exist.`; an empty line or unbalanced quotes do nothing; the end of input
 * prints a newline and ends the session, `exit` ends it without one. A first line that is
 * editing_client_hello turns prompt markers on and is otherwise ignored.
 */
class interpreter {
  public:
    explicit interpreter(interpreter_options options = {});
    interpreter(const interpreter&) = delete;  // `list` refers to this interpreter's commands
    interpreter& operator=(const interpreter&) = delete;
    /// Adds (or replaces) the command named by its parser's prog.
    void add(command c);
    const std::map<std::string, command>& commands() const { return commands_; }
    const interpreter_options& options() const { return options_; }
    std::string banner() const;

    /// One session, to its end.
    net::awaitable<void> interact(session& s) const;

  private:
    /// Runs one source (lines joined by '\n'); true when it needs more lines. Sets `exit`.
    net::awaitable<bool> run_source(const std::string& source, session& s, bool& exit) const;

    interpreter_options options_;
    std::map<std::string, command> commands_;
};

}  // namespace corral::console
