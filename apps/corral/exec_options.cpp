#include "exec_options.hpp"

#include <unistd.h>

#include <set>
#include <sstream>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "corral/core/parse.hpp"

namespace corral::cli {
namespace {

namespace po = boost::program_options;

po::options_description describe_options() {
    po::options_description d("Options");
    // clang-format off
    d.add_options()
        ("help,h", "show this help")
        ("shell,c", po::value<std::string>()->value_name("LINE"),
            "run LINE with /bin/sh -c instead of a command and arguments")
        ("cwd,C", po::value<std::string>()->value_name("DIR"), "run in DIR (corral itself never changes directory)")
        ("env,e", po::value<std::vector<std::string>>()->value_name("NAME=VALUE")->composing(),
            "set a variable (repeatable)")
        ("unset,u", po::value<std::vector<std::string>>()->value_name("NAME")->composing(),
            "remove a variable (repeatable)")
        ("clear-env", "start from an empty environment (then add to it with -e)")
        ("stdin,i", po::value<std::string>()->value_name("SOURCE")->default_value("none"),
            "none (/dev/null), '-' to forward corral's own stdin, or a file to read")
        ("timeout,t", po::value<std::string>()->value_name("DURATION"),
            "stop the job after DURATION (250ms, 30s, 5m, 1h); exit status 124")
        ("stop-plan", po::value<std::string>()->value_name("PLAN")->default_value("TERM:5s,KILL:2s"),
            "how to stop the tree: SIGNAL:GRACE steps, KILL added last if missing")
        ("merge,m", "merge stderr into stdout, in arrival order")
        ("pty", "run on a pseudo-terminal so programs keep their colours (implies --merge)")
        ("output-cap", po::value<std::string>()->value_name("SIZE"), "keep at most SIZE of output (64k, 10M, 1G)")
        ("cap-policy", po::value<std::string>()->value_name("POLICY")->default_value("keep-newest"),
            "when the cap is passed: keep-newest (drop the oldest) or stop (stop the job)")
        ("output-file,o", po::value<std::string>()->value_name("PATH"), "also write the job's output to PATH")
        ("quiet,q", "do not print the job's output")
        ("json", "print a JSON summary of the job on stdout at the end")
        ("limit-cpu", po::value<std::string>()->value_name("SECONDS"), "CPU time limit (RLIMIT_CPU)")
        ("limit-memory", po::value<std::string>()->value_name("SIZE"), "address-space limit (RLIMIT_AS)")
        ("limit-files", po::value<std::string>()->value_name("N"), "open-file limit (RLIMIT_NOFILE)")
        ("limit-procs", po::value<std::string>()->value_name("N"), "process limit for the user (RLIMIT_NPROC)")
        ("tree", po::value<std::string>()->value_name("MODE")->default_value("auto"),
            "how the whole process tree is found: auto, cgroup or pgroup")
        ("verbose,v", "log what corral does on stderr (tree mechanism, stop steps, outcome)");
    // clang-format on
    return d;
}

error_info bad(std::string message) {
    return {make_error_code(errc::invalid_argument), std::move(message)};
}

// Options that take a value, to find where the command starts.
bool takes_value(const std::string& arg) {
    static const std::set<std::string> with_value{"-c",
                                                  "--shell",
                                                  "-C",
                                                  "--cwd",
                                                  "-e",
                                                  "--env",
                                                  "-u",
                                                  "--unset",
                                                  "-i",
                                                  "--stdin",
                                                  "-t",
                                                  "--timeout",
                                                  "--stop-plan",
                                                  "--output-cap",
                                                  "--cap-policy",
                                                  "-o",
                                                  "--output-file",
                                                  "--limit-cpu",
                                                  "--limit-memory",
                                                  "--limit-files",
                                                  "--limit-procs",
                                                  "--tree"};
    return with_value.contains(arg);
}

result_info<std::uint64_t> parse_count(const po::variables_map& vm, const char* name) {
    const auto& text = vm[name].as<std::string>();
    auto size = parse_size(text);
    if (!size || text.find_first_not_of("0123456789") != std::string::npos) {
        return bad(fmt::format("--{}: '{}' is not a whole number", name, text));
    }
    return *size;
}

result_info<void> apply_limits(const po::variables_map& vm, proc::resource_limits& limits) {
    if (vm.count("limit-cpu")) {
        auto d = parse_duration(vm["limit-cpu"].as<std::string>());
        if (!d) {
            return bad("--limit-cpu: " + d.error().message);
        }
        limits.cpu_seconds = static_cast<std::uint64_t>(std::max<std::int64_t>(1, d->count() / 1000));
    }
    if (vm.count("limit-memory")) {
        auto s = parse_size(vm["limit-memory"].as<std::string>());
        if (!s) {
            return bad("--limit-memory: " + s.error().message);
        }
        limits.address_space = *s;
    }
    for (auto [name, field] :
         {std::pair{"limit-files", &limits.open_files}, {"limit-procs", &limits.processes}}) {
        if (vm.count(name)) {
            auto n = parse_count(vm, name);
            if (!n) {
                return n.error();
            }
            *field = *n;
        }
    }
    return {};
}

result_info<void> apply_environment(const po::variables_map& vm, proc::environment& env) {
    env.inherit = vm.count("clear-env") == 0;
    if (vm.count("unset")) {
        for (const auto& name : vm["unset"].as<std::vector<std::string>>()) {
            env.unset(name);
        }
    }
    if (vm.count("env")) {
        for (const auto& kv : vm["env"].as<std::vector<std::string>>()) {
            auto eq = kv.find('=');
            if (eq == std::string::npos || eq == 0) {
                return bad(fmt::format("--env: '{}' is not NAME=VALUE", kv));
            }
            env.set(kv.substr(0, eq), kv.substr(eq + 1));
        }
    }
    return {};
}

result_info<void> apply_output(const po::variables_map& vm, exec_options& o) {
    auto& spec = o.spec;
    spec.process.pty = vm.count("pty") > 0;
    spec.process.output =
        vm.count("merge") || spec.process.pty ? proc::output_mode::merged : proc::output_mode::separate;
    if (vm.count("output-cap")) {
        auto cap = parse_size(vm["output-cap"].as<std::string>());
        if (!cap || *cap == 0) {
            return bad("--output-cap: " + (cap ? std::string("must be more than 0") : cap.error().message));
        }
        spec.output.cap = *cap;
    }
    const auto& policy = vm["cap-policy"].as<std::string>();
    if (policy != "keep-newest" && policy != "stop") {
        return bad(fmt::format("--cap-policy: '{}' is not keep-newest or stop", policy));
    }
    spec.output.policy = policy == "stop" ? output::cap_policy::stop_job : output::cap_policy::keep_newest;
    if (vm.count("output-file")) {
        o.output_file = vm["output-file"].as<std::string>();
    }
    o.quiet = vm.count("quiet") > 0;
    o.json = vm.count("json") > 0;
    return {};
}

result_info<void> apply_process(const po::variables_map& vm, exec_options& o) {
    auto& p = o.spec.process;
    if (vm.count("cwd")) {
        p.cwd = vm["cwd"].as<std::string>();
    }
    const auto& in = vm["stdin"].as<std::string>();
    if (in == "-") {
        p.input = proc::input_mode::pipe;
        o.forward_stdin = true;
    } else if (in != "none") {
        p.input = proc::input_mode::file;
        p.stdin_file = in;
    }
    if (vm.count("timeout")) {
        auto t = parse_duration(vm["timeout"].as<std::string>());
        if (!t || t->count() == 0) {
            return bad("--timeout: " + (t ? std::string("must be more than 0") : t.error().message));
        }
        o.spec.timeout = *t;
    }
    auto plan = proc::stop_plan::parse(vm["stop-plan"].as<std::string>());
    if (!plan) {
        return bad("--stop-plan: " + plan.error().message);
    }
    o.spec.stop = *plan;
    const auto& tree = vm["tree"].as<std::string>();
    if (tree != "auto" && tree != "cgroup" && tree != "pgroup") {
        return bad(fmt::format("--tree: '{}' is not auto, cgroup or pgroup", tree));
    }
    o.tree = tree == "cgroup"   ? proc::tree_mode::cgroup
             : tree == "pgroup" ? proc::tree_mode::process_group
                                : proc::tree_mode::automatic;
    return {};
}

}  // namespace

result_info<exec_options> parse_exec_options(const std::vector<std::string>& args) {
    std::vector<std::string> option_args;
    std::vector<std::string> command;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--") {
            command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        }
        if (args[i].size() < 2 || args[i][0] != '-') {
            command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
            break;
        }
        option_args.push_back(args[i]);
        if (takes_value(args[i]) && i + 1 < args.size()) {
            option_args.push_back(args[++i]);
        }
    }
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(option_args).options(describe_options()).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return bad(e.what());
    }
    exec_options o;
    if (vm.count("help")) {
        o.help = true;
        return o;
    }
    o.verbose = vm.count("verbose") > 0;
    if (vm.count("shell")) {
        if (!command.empty()) {
            return bad("give either --shell LINE or a command, not both");
        }
        o.spec.process.shell_command = vm["shell"].as<std::string>();
    } else if (command.empty()) {
        return bad("no command given (usage: corral exec [options] -- COMMAND [ARGS...])");
    }
    o.spec.process.argv = std::move(command);
    for (auto step : {apply_process, apply_output}) {
        if (auto r = step(vm, o); !r) {
            return r.error();
        }
    }
    if (auto r = apply_environment(vm, o.spec.process.env); !r) {
        return r.error();
    }
    if (auto r = apply_limits(vm, o.spec.process.limits); !r) {
        return r.error();
    }
    return o;
}

std::string exec_usage() {
    std::ostringstream out;
    out << "Usage: corral exec [options] [--] COMMAND [ARGS...]\n"
           "       corral exec [options] --shell 'COMMAND LINE'\n\n"
           "Runs one command through corral's engine, inside this process: its output streams live\n"
           "(stdout to stdout, stderr to stderr), Ctrl-C or SIGTERM stops its whole process tree with the\n"
           "stop plan (a second Ctrl-C kills at once), and corral exits with the command's status.\n"
           "The command runs directly, without a shell, unless --shell is given.\n\n"
        << describe_options()
        << "\nExit status: the command's exit code; 128+N when it died of signal N; 124 when it timed out;\n"
           "126 when it could not be started; 127 when it was not found; 125 when corral itself failed;\n"
           "2 for usage errors.\n\n"
           "Examples:\n"
           "  corral exec -- make -j4 test\n"
           "  corral exec --timeout 30s --stop-plan INT:5s,TERM:5s,KILL -- ./long-job.sh\n"
           "  corral exec --pty --output-file build.log -- cargo build\n"
           "  corral exec --json --quiet --shell 'du -sh /var/* | sort -h'\n";
    return out.str();
}

}  // namespace corral::cli
