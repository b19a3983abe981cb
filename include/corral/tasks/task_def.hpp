#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "corral/jobs/job.hpp"
#include "corral/proc/stop_plan.hpp"
#include "corral/tasks/pattern.hpp"

namespace corral::tasks {

/// What an argument's value must be.
enum class arg_type {
    string,
    integer,
    number,  ///< a float
    boolean,
    choice,   ///< one of `choices` (an enum)
    pattern,  ///< a string that matches `pattern` whole
    path,     ///< a file system path, optionally confined to `within`
};

/// How an argument's value becomes argv words.
enum class arg_style {
    positional,     ///< `VALUE`
    option,         ///< `--flag VALUE` (two words)
    option_equals,  ///< `--flag=VALUE`
    flag_switch,    ///< booleans: `--flag` when true, nothing when false
};

/// One typed argument of a task (ASEXOR's `Arg`/`BoolArg`, without dropping falsy values).
struct arg_def {
    std::string name;
    std::string description;
    arg_type type = arg_type::string;
    arg_style style = arg_style::positional;
    std::string flag;    ///< for option, option_equals and flag_switch
    std::string prefix;  ///< put before the value: date's `+FORMAT` is prefix "+"
    bool required = false;
    std::optional<boost::json::value> default_value;
    std::vector<std::string> choices;  ///< arg_type::choice
    std::string pattern;               ///< arg_type::pattern, as written
    std::shared_ptr<const tasks::pattern> compiled;
    std::optional<double> min, max;  ///< integer and number
    std::size_t max_length = 4096;   ///< strings, patterns and paths
    std::string within;              ///< arg_type::path: must resolve (lexically) inside this directory
    /// A value beginning with '-' could be taken for an option by the program; refused unless allowed.
    bool allow_leading_dash = false;
};

/// How a successful job's stdout becomes its `result`.
enum class result_kind {
    none,   ///< result is null
    text,   ///< stdout, stripped of surrounding white space
    json,   ///< stdout parsed as JSON
    regex,  ///< the first match of `pattern`: an object of `fields` (or an array of the captures)
    table,  ///< a column table (acons's parse_output_table): an array of row objects
};

struct result_parser {
    result_kind kind = result_kind::none;
    std::string pattern;
    std::shared_ptr<const tasks::pattern> compiled;
    std::vector<std::string> fields;  ///< names for the regex captures, in order
};

/// One step of a multi-step task: another task and the arguments it gets.
struct step_def {
    std::string task;
    boost::json::object args;
};

/// What a multi-step task does when a step fails.
enum class failure_policy {
    stop,       ///< the parent fails with the step's reason (the default)
    continue_,  ///< record null for the step and go on (ASEXOR's behaviour)
};

/// A predefined job template from `[[task]]` in the config.
struct task_def {
    std::string name;
    std::string description;
    /// The argv template. `{name}` as a whole word expands to the argument's words (none when it is
    /// absent); `{name}` inside a word is replaced by its value (the word is dropped when it is
    /// absent). With no placeholders at all, the arguments follow the command in the order declared.
    std::vector<std::string> command;
    std::vector<arg_def> args;
    result_parser result;
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<proc::stop_plan> stop;
    std::string group;
    /// Non-empty: a multi-step task (and `command` is empty).
    std::vector<step_def> steps;
    failure_policy on_failure = failure_policy::stop;
    /// Its jobs' retry policy and finish hook unless a request gives its own (`retry`, `on_finish`).
    std::optional<jobs::retry_policy> retry;
    std::shared_ptr<const jobs::finish_hook> on_finish;

    bool multi_step() const { return !steps.empty(); }
    const arg_def* find_arg(std::string_view name) const;
};

std::string_view to_string(arg_type t);
std::string_view to_string(arg_style s);
std::string_view to_string(result_kind k);

/// The task and its argument schema as JSON, for `GET /api/v1/tasks` and forms in the web UI.
boost::json::object to_json(const task_def& t);

}  // namespace corral::tasks
