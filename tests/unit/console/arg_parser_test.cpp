// The console's argument parser against what Python 3.11's argparse prints for the same parsers and
// words (the expectations below were produced by argparse itself): usage lines, `-h` help, errors.
#include "corral/console/arg_parser.hpp"

#include <gtest/gtest.h>

namespace corral::console {
namespace {

arg_parser hello() {
    arg_parser p("hello", "Say hello.");
    p.option({"--name", "-n"}, "");
    return p;
}

arg_parser jobs() {
    arg_parser p("jobs", "List jobs, newest first.");
    p.option({"--state"}, "only jobs in this state", {}, {"queued", "running", "succeeded"});
    p.option({"--last", "-n"}, "the newest N (20)", "20", {}, true);
    p.flag({"--json"}, "print JSON");
    return p;
}

arg_parser kill() {
    arg_parser p("kill", "Stop jobs, each with its whole process tree, by its stop plan unless a signal is given.");
    p.positional("ids", "job ids", nargs::at_least_one, true);
    p.option({"--signal", "-s"}, "send this signal to the tree instead");
    return p;
}

arg_parser run() {
    arg_parser p("run", "Submit a command as a job, with options as the CLI has them, and print its id.");
    p.option({"--priority"}, "0 (first) to 9", {}, {}, true);
    p.option({"--group"}, "");
    p.option({"--timeout"}, "a duration such as 30s");
    p.option({"--cwd"}, "the working directory");
    p.option({"--label"}, "a label (repeat for more)", {}, {}, false, "KEY=VALUE");
    p.flag({"--stdin-pipe"}, "keep its stdin open for writes");
    p.flag({"--merge"}, "stderr into stdout");
    p.positional("command", "the program and its arguments", nargs::at_least_one);
    return p;
}

arg_parser by_name(const std::string& name) {
    if (name == "hello") return hello();
    if (name == "jobs") return jobs();
    if (name == "kill") return kill();
    return run();
}

struct expectation {
    const char* parser;
    std::vector<std::string> words;
    const char* output;  // what argparse printed, or "" when the parse succeeded
};

TEST(ArgParser, PrintsWhatArgparsePrints) {
    const expectation cases[] = {
        {"hello", {}, R"~()~"},
        {"hello", {"-n", "Neil"}, R"~()~"},
        {"hello", {"-h"}, R"~(usage: hello [-h] [--name NAME]

Say hello.

options:
  -h, --help            show this help message and exit
  --name NAME, -n NAME
)~"},
        {"hello", {"x"}, R"~(usage: hello [-h] [--name NAME]
hello: error: unrecognized arguments: x
)~"},
        {"hello", {"--name"}, R"~(usage: hello [-h] [--name NAME]
hello: error: argument --name/-n: expected one argument
)~"},
        {"hello", {"--na=Bob"}, R"~()~"},
        {"jobs", {"-h"}, R"~(usage: jobs [-h] [--state {queued,running,succeeded}] [--last LAST] [--json]

List jobs, newest first.

options:
  -h, --help            show this help message and exit
  --state {queued,running,succeeded}
                        only jobs in this state
  --last LAST, -n LAST  the newest N (20)
  --json                print JSON
)~"},
        {"jobs", {"--state", "x"}, R"~(usage: jobs [-h] [--state {queued,running,succeeded}] [--last LAST] [--json]
jobs: error: argument --state: invalid choice: 'x' (choose from 'queued', 'running', 'succeeded')
)~"},
        {"jobs", {"--last", "abc"}, R"~(usage: jobs [-h] [--state {queued,running,succeeded}] [--last LAST] [--json]
jobs: error: argument --last/-n: invalid int value: 'abc'
)~"},
        {"jobs", {"--json", "--st", "running"}, R"~()~"},
        {"jobs", {"--json=1"}, R"~(usage: jobs [-h] [--state {queued,running,succeeded}] [--last LAST] [--json]
jobs: error: argument --json: ignored explicit argument '1'
)~"},
        {"kill", {}, R"~(usage: kill [-h] [--signal SIGNAL] ids [ids ...]
kill: error: the following arguments are required: ids
)~"},
        {"kill", {"-h"}, R"~(usage: kill [-h] [--signal SIGNAL] ids [ids ...]

Stop jobs, each with its whole process tree, by its stop plan unless a signal
is given.

positional arguments:
  ids                   job ids

options:
  -h, --help            show this help message and exit
  --signal SIGNAL, -s SIGNAL
                        send this signal to the tree instead
)~"},
        {"kill", {"1", "2", "-s", "KILL"}, R"~()~"},
        {"kill", {"1", "x"}, R"~(usage: kill [-h] [--signal SIGNAL] ids [ids ...]
kill: error: argument ids: invalid int value: 'x'
)~"},
        {"run", {"-h"}, R"~(usage: run [-h] [--priority PRIORITY] [--group GROUP] [--timeout TIMEOUT]
           [--cwd CWD] [--label KEY=VALUE] [--stdin-pipe] [--merge]
           command [command ...]

Submit a command as a job, with options as the CLI has them, and print its id.

positional arguments:
  command              the program and its arguments

options:
  -h, --help           show this help message and exit
  --priority PRIORITY  0 (first) to 9
  --group GROUP
  --timeout TIMEOUT    a duration such as 30s
  --cwd CWD            the working directory
  --label KEY=VALUE    a label (repeat for more)
  --stdin-pipe         keep its stdin open for writes
  --merge              stderr into stdout
)~"},
        {"run", {}, R"~(usage: run [-h] [--priority PRIORITY] [--group GROUP] [--timeout TIMEOUT]
           [--cwd CWD] [--label KEY=VALUE] [--stdin-pipe] [--merge]
           command [command ...]
run: error: the following arguments are required: command
)~"},
        {"run", {"--merge", "--", "ls", "-l"}, R"~()~"},
    };
    for (const auto& c : cases) {
        const auto parser = by_name(c.parser);
        const auto got = parser.parse(c.words);
        EXPECT_EQ(got.output, c.output) << c.parser << " " << ::testing::PrintToString(c.words);
        EXPECT_EQ(got.args.has_value(), std::string(c.output).empty());
    }
}

TEST(ArgParser, ValuesDefaultsAndPositionalsAsArgparseGivesThem) {
    auto hello_neil = hello().parse({"--na=Bob"});
    ASSERT_TRUE(hello_neil.args);
    EXPECT_EQ(hello_neil.args->value("name"), "Bob");
    auto listed = jobs().parse({"--json", "--st", "running"});
    ASSERT_TRUE(listed.args);
    EXPECT_TRUE(listed.args->flag("json"));
    EXPECT_EQ(listed.args->value("state"), "running");
    EXPECT_EQ(listed.args->integer("last"), 20);
    auto killed = kill().parse({"1", "2", "-s", "KILL"});
    ASSERT_TRUE(killed.args);
    EXPECT_EQ(killed.args->words("ids"), (std::vector<std::string>{"1", "2"}));
    EXPECT_EQ(killed.args->value("signal"), "KILL");
    auto command = run().parse({"--merge", "--", "ls", "-l"});
    ASSERT_TRUE(command.args);
    EXPECT_TRUE(command.args->flag("merge"));
    EXPECT_FALSE(command.args->flag("stdin_pipe"));
    EXPECT_EQ(command.args->words("command"), (std::vector<std::string>{"ls", "-l"}));
}

TEST(ArgParser, UsageWithoutThePrefixIsWhatListShows) {
    arg_parser exit_parser("exit", "Exit the interface.");
    EXPECT_EQ(exit_parser.format_usage(), "usage: exit [-h]\n");
}

}  // namespace
}  // namespace corral::console
