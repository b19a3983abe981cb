// corral: the command-line client. For now it has `exec`, which runs one job in-process; the daemon
// commands (run, submit, ls, tail, kill, ...) arrive with corrald.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "exec_command.hpp"

namespace {

constexpr std::string_view usage =
    "Usage: corral COMMAND [options]\n\n"
    "Commands:\n"
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
    std::fprintf(stderr, "corral: unknown command '%s'\n\n%s", args[0].c_str(), usage.data());
    return 2;
}
