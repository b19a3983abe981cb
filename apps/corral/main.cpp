// corral: the command-line client. `exec` runs one job in-process; the other commands talk to corrald
// over its Unix socket (or --url).
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "client/client_commands.hpp"
#include "exec_command.hpp"

namespace {

constexpr std::string_view usage =
    "Usage: corral COMMAND [options]\n\n"
    "Commands (talking to corrald):\n"
    "  run        submit a job, follow its output live, exit with its status\n"
    "  submit     submit a job and print its id\n"
    "  ls         list jobs\n"
    "  show       show one job\n"
    "  tail       print a job's output; -f follows it\n"
    "  kill       stop jobs (their whole process trees)\n"
    "  wait       wait for jobs to finish\n"
    "  stdin      write to a job's stdin\n\n"
    "Without a daemon:\n"
    "  exec       run one command here, stream its output, stop its whole tree on Ctrl-C\n"
    "  version    print the version\n"
    "  help       show this help\n\n"
    "'corral COMMAND --help' explains a command.\n";

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
        std::fputs(usage.data(), args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "version" || args[0] == "--version") {
        std::printf("corral %s\n", CORRAL_VERSION);
        return 0;
    }
    if (args[0] == "exec") {
        return corral::cli::exec_command({args.begin() + 1, args.end()});
    }
    if (corral::cli::is_client_command(args[0])) {
        return corral::cli::client_command(args[0], {args.begin() + 1, args.end()});
    }
    std::fprintf(stderr, "corral: unknown command '%s'\n\n%s", args[0].c_str(), usage.data());
    return 2;
}
