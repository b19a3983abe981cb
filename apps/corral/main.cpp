// corral-client: the full command-line client, which the `corral` front (front/main.cpp) runs for
// every command it does not answer itself. `exec` runs one job in-process; the other commands talk
// to corrald over its Unix socket (or --url).
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "client/client_commands.hpp"
#include "console_command.hpp"
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
    "  stdin      write to a job's stdin\n"
    "  tasks      list the predefined tasks (run one: corral run --task NAME KEY=VALUE...)\n"
    "  queue      show the queue; --drain / --resume (admin)\n"
    "  audit      who submitted, killed or drained what (admin)\n"
    "  svc        corrald's services: ls, show, start, stop, restart, stdin, tail, add, rm\n"
    "  console    corrald's operator console, with line editing and history\n\n"
    "Without a daemon:\n"
    "  exec       run one command here, stream its output, stop its whole tree on Ctrl-C\n"
    "  version    print the version\n"
    "  help       show this help\n\n"
    "'corral COMMAND --help' explains a command. Connection options (--socket, --url, --token,\n"
    "--token-file, --cacert) may also come before the command.\n";

/// `corral --url URL ls` as well as `corral ls --url URL`: connection options given before the
/// command move after it, where the command's parser reads them.
void move_leading_connection_options(std::vector<std::string>& args) {
    static constexpr std::string_view with_value[] = {
        "--socket", "--url", "--token", "--token-file", "--cacert"};
    std::vector<std::string> moved;
    std::size_t i = 0;
    while (i < args.size()) {
        const std::string_view a = args[i];
        bool matched = false;
        for (auto name : with_value) {
            if (a == name && i + 1 < args.size()) {
                moved.insert(moved.end(), {args[i], args[i + 1]});
                i += 2;
                matched = true;
            } else if (a.starts_with(name) && a.size() > name.size() && a[name.size()] == '=') {
                moved.push_back(args[i]);
                i += 1;
                matched = true;
            }
            if (matched) {
                break;
            }
        }
        if (!matched) {
            break;
        }
    }
    if (i == 0 || i == args.size()) {
        return;
    }
    std::vector<std::string> out{args[i]};
    out.insert(out.end(), moved.begin(), moved.end());
    out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
    args = std::move(out);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    move_leading_connection_options(args);
    if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
        std::fputs(usage.data(), args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "version" || args[0] == "--version") {
        std::printf("corral %s\n", CORRAL_VERSION);
        return 0;
    }
    if (args[0] == "console") {
        return corral::cli::console_command({args.begin() + 1, args.end()});
    }
    if (args[0] == "exec") {
        return corral::cli::exec_command({args.begin() + 1, args.end()});
    }
    if (corral::cli::is_client_command(args[0])) {
        return corral::cli::client_command(args[0], {args.begin() + 1, args.end()});
    }
    if (args[0].starts_with("--socket") || args[0].starts_with("--url") || args[0].starts_with("--token") ||
        args[0].starts_with("--cacert")) {
        std::fprintf(stderr, "corral: %s must be followed by its value and a command\n", args[0].c_str());
        return 2;
    }
    std::fprintf(stderr, "corral: unknown command '%s'\n\n%s", args[0].c_str(), usage.data());
    return 2;
}
