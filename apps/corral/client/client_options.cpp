#include "client/client_options.hpp"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <boost/asio/ip/address.hpp>
#include <boost/program_options.hpp>

#include "corral/core/shell_words.hpp"
#include "corral/core/state_dir.hpp"

namespace corral::cli {
namespace {

namespace po = boost::program_options;
namespace json = boost::json;

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : std::move(fallback);
}

/// http(s)://127.x.x.x, localhost or [::1], with any port: a URL that cannot leave this host.
bool loopback_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return false;
    }
    auto host = url.substr(scheme_end + 3);
    host = host.substr(0, host.find('/'));
    if (host.starts_with("[::1]")) {
        return true;
    }
    host = host.substr(0, host.find(':'));
    boost::system::error_code ec;
    const auto ip = boost::asio::ip::make_address(std::string(host), ec);
    return host == "localhost" || (!ec && ip.is_loopback());
}

error_info bad(std::string message) {
    return {make_error_code(errc::invalid_argument), std::move(message)};
}

}  // namespace

po::options_description connection_options() {
    po::options_description d("connection");
    // clang-format off
    d.add_options()
        ("socket", po::value<std::string>()->value_name("PATH"),
            "corrald's Unix socket (default: $CORRAL_SOCKET, else <state dir>/corral.sock)")
        ("url", po::value<std::string>()->value_name("URL"),
            "talk to corrald over HTTP or HTTPS instead: http://HOST:PORT, https://HOST:PORT (default: $CORRAL_URL)")
        ("cacert", po::value<std::string>()->value_name("PATH"),
            "https: trust the CA or self-signed certificates in this PEM file instead of the system's (default: $CORRAL_CACERT)")
        ("token", po::value<std::string>()->value_name("TOKEN"), "bearer token (default: $CORRAL_TOKEN)")
        ("token-file", po::value<std::string>()->value_name("PATH"), "read the bearer token from PATH");
    // clang-format on
    return d;
}

result_info<endpoint_options> read_connection(const po::variables_map& vm) {
    endpoint_options e;
    e.url = vm.count("url") ? vm["url"].as<std::string>() : env_or("CORRAL_URL", "");
    e.socket = vm.count("socket") ? vm["socket"].as<std::string>()
                                  : env_or("CORRAL_SOCKET", default_socket_path(default_state_dir()));
    e.token = vm.count("token") ? vm["token"].as<std::string>() : env_or("CORRAL_TOKEN", "");
    e.cacert = vm.count("cacert") ? vm["cacert"].as<std::string>() : env_or("CORRAL_CACERT", "");
    if (vm.count("token-file")) {
        std::ifstream in(vm["token-file"].as<std::string>());
        if (!in || !std::getline(in, e.token)) {
            return bad(fmt::format("--token-file: cannot read a token from '{}'",
                                   vm["token-file"].as<std::string>()));
        }
    } else if (e.token.empty() && loopback_url(e.url)) {
        // A corrald on this host: its admin token, when we may read it (we run as its user).
        std::ifstream in(default_state_dir() + "/admin.token");
        std::getline(in, e.token);
    }
    return e;
}

po::options_description job_options() {
    po::options_description d("job");
    // clang-format off
    d.add_options()
        ("shell,c", po::value<std::string>()->value_name("LINE"), "run LINE with /bin/sh -c instead of a command")
        ("cwd,C", po::value<std::string>()->value_name("DIR"), "run in DIR (default: the daemon's directory)")
        ("env,e", po::value<std::vector<std::string>>()->value_name("NAME=VALUE")->composing(), "set a variable (repeatable)")
        ("unset,u", po::value<std::vector<std::string>>()->value_name("NAME")->composing(), "remove a variable (repeatable)")
        ("clear-env", "start from an empty environment")
        ("stdin,i", po::value<std::string>()->value_name("SOURCE"),
            "none (default), pipe (write later with `corral stdin`), or a file on the daemon's host")
        ("timeout,t", po::value<std::string>()->value_name("DURATION"), "stop the job after DURATION (30s, 5m)")
        ("stop-plan", po::value<std::string>()->value_name("PLAN"), "how to stop the tree, e.g. TERM:5s,KILL")
        ("merge,m", "merge stderr into stdout, in arrival order")
        ("pty", "run on a pseudo-terminal (programs keep their colours)")
        ("output-cap", po::value<std::string>()->value_name("SIZE"), "keep at most SIZE of output (10M, 1G)")
        ("cap-policy", po::value<std::string>()->value_name("POLICY"), "keep-newest or stop, when the cap is passed")
        ("label,l", po::value<std::vector<std::string>>()->value_name("KEY=VALUE")->composing(), "label the job (repeatable)")
        ("key", po::value<std::string>()->value_name("KEY"), "idempotency key: a repeated key returns the first job")
        ("priority,p", po::value<int>()->value_name("N"), "queue priority 0-9, lower first (if your role may set it)")
        ("task", po::value<std::string>()->value_name("NAME"),
         "run the predefined task NAME; the words after the options are its arguments, KEY=VALUE")
        ("after", po::value<std::string>()->value_name("IDS"),
         "start only once jobs IDS (12,13) have succeeded; if one fails, this one fails without running")
        ("after-any", po::value<std::string>()->value_name("IDS"), "start once jobs IDS have ended, however they ended")
        ("retry", po::value<unsigned>()->value_name("N"), "run up to N times in all while it fails or times out")
        ("retry-backoff", po::value<std::string>()->value_name("DURATION"),
         "wait DURATION before the 2nd attempt, twice that before the 3rd, ... (default 1s, at most 5m)")
        ("retry-on", po::value<std::string>()->value_name("STATES"),
         "which ends are retried: failed,timed_out,lost (default failed,timed_out)")
        ("on-finish", po::value<std::string>()->value_name("LINE"),
         "when the job ends, run LINE (split like a shell, but no shell) with CORRAL_JOB_ID, "
         "CORRAL_JOB_STATE and CORRAL_JOB_EXIT in its environment")
        ("on-finish-url", po::value<std::string>()->value_name("URL"), "when the job ends, POST its JSON to URL")
        ("each", "one job per line of input (--from FILE, or stdin): {} in the command is replaced by the line")
        ("from", po::value<std::string>()->value_name("FILE"), "--each: read the lines from FILE (- for stdin)")
        ("wait", "--each: wait for all the jobs, with one progress line, and print a summary");
    // clang-format on
    return d;
}

result_info<void> add_workflow(const po::variables_map& vm, json::object& body) {
    if (vm.count("after"))
        body["after"] = vm["after"].as<std::string>();
    if (vm.count("after-any"))
        body["after_any"] = vm["after-any"].as<std::string>();
    if (vm.count("retry")) {
        json::object retry{{"attempts", vm["retry"].as<unsigned>()}};
        if (vm.count("retry-backoff"))
            retry["backoff"] = vm["retry-backoff"].as<std::string>();
        if (vm.count("retry-on")) {
            json::array on;
            std::string_view text = vm["retry-on"].as<std::string>();
            while (!text.empty()) {
                const auto comma = text.find(',');
                on.emplace_back(text.substr(0, comma));
                text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
            }
            retry["on"] = std::move(on);
        }
        body["retry"] = std::move(retry);
    } else if (vm.count("retry-backoff") || vm.count("retry-on")) {
        return bad("--retry-backoff and --retry-on go with --retry N");
    }
    json::object hook;
    if (vm.count("on-finish")) {
        auto words = split_shell_words(vm["on-finish"].as<std::string>());
        if (!words || words->empty())
            return bad(fmt::format("--on-finish: {}", words ? "give a command" : words.error().what()));
        json::array argv;
        for (auto& w : *words)
            argv.emplace_back(w);
        hook["command"] = std::move(argv);
    }
    if (vm.count("on-finish-url"))
        hook["url"] = vm["on-finish-url"].as<std::string>();
    if (!hook.empty())
        body["on_finish"] = std::move(hook);
    return {};
}

namespace {

result_info<json::object> labels_of(const po::variables_map& vm) {
    json::object labels;
    for (const auto& kv :
         vm.count("label") ? vm["label"].as<std::vector<std::string>>() : std::vector<std::string>{}) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            return bad(fmt::format("--label '{}': expected KEY=VALUE", kv));
        }
        labels[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return labels;
}

// The options a task submission takes: the task defines everything else.
result_info<json::object> task_request(const po::variables_map& vm, const std::vector<std::string>& words) {
    for (const char* name : {"shell",
                             "cwd",
                             "env",
                             "unset",
                             "clear-env",
                             "stdin",
                             "timeout",
                             "stop-plan",
                             "merge",
                             "pty",
                             "output-cap",
                             "cap-policy"}) {
        if (vm.count(name)) {
            return bad(fmt::format("--{} cannot be used with --task: the task defines how it runs", name));
        }
    }
    json::object args;
    for (const auto& word : words) {
        auto eq = word.find('=');
        if (eq == std::string::npos || eq == 0) {
            return bad(
                fmt::format("task argument '{}': expected KEY=VALUE ('corral tasks' lists them)", word));
        }
        args[word.substr(0, eq)] = word.substr(eq + 1);
    }
    json::object body{{"task", vm["task"].as<std::string>()}, {"args", std::move(args)}};
    auto labels = labels_of(vm);
    if (!labels)
        return labels.error();
    if (!labels->empty())
        body["labels"] = std::move(*labels);
    if (vm.count("priority"))
        body["priority"] = vm["priority"].as<int>();
    if (vm.count("key"))
        body["idempotency_key"] = vm["key"].as<std::string>();
    if (auto w = add_workflow(vm, body); !w)
        return w.error();
    return body;
}

}  // namespace

result_info<json::object> job_request(const po::variables_map& vm, const std::vector<std::string>& command) {
    if (vm.count("task")) {
        return task_request(vm, command);
    }
    json::object body;
    if (vm.count("shell")) {
        if (!command.empty()) {
            return bad("give either --shell LINE or a command, not both");
        }
        body["shell"] = vm["shell"].as<std::string>();
    } else if (command.empty()) {
        return bad("no command given (put it after the options, or after --)");
    } else {
        json::array argv;
        for (const auto& a : command) {
            argv.emplace_back(a);
        }
        body["command"] = std::move(argv);
    }
    if (vm.count("cwd"))
        body["cwd"] = vm["cwd"].as<std::string>();
    json::object env;
    for (const auto& kv :
         vm.count("env") ? vm["env"].as<std::vector<std::string>>() : std::vector<std::string>{}) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            return bad(fmt::format("--env '{}': expected NAME=VALUE", kv));
        }
        env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& name :
         vm.count("unset") ? vm["unset"].as<std::vector<std::string>>() : std::vector<std::string>{}) {
        env[name] = nullptr;
    }
    if (!env.empty())
        body["env"] = std::move(env);
    if (vm.count("clear-env"))
        body["inherit_env"] = false;
    if (vm.count("stdin")) {
        const auto& s = vm["stdin"].as<std::string>();
        if (s == "none" || s == "pipe") {
            body["stdin"] = s;
        } else {
            body["stdin_file"] = s;
        }
    }
    if (vm.count("timeout"))
        body["timeout"] = vm["timeout"].as<std::string>();
    if (vm.count("stop-plan"))
        body["stop"] = vm["stop-plan"].as<std::string>();
    if (vm.count("merge"))
        body["merge"] = true;
    if (vm.count("pty"))
        body["pty"] = true;
    if (vm.count("output-cap"))
        body["output_cap"] = vm["output-cap"].as<std::string>();
    if (vm.count("cap-policy")) {
        const auto& p = vm["cap-policy"].as<std::string>();
        if (p != "keep-newest" && p != "stop") {
            return bad(fmt::format("--cap-policy '{}': expected keep-newest or stop", p));
        }
        body["output_policy"] = p == "stop" ? "stop_job" : "keep_newest";
    }
    auto labels = labels_of(vm);
    if (!labels)
        return labels.error();
    if (!labels->empty())
        body["labels"] = std::move(*labels);
    if (vm.count("key"))
        body["idempotency_key"] = vm["key"].as<std::string>();
    if (vm.count("priority"))
        body["priority"] = vm["priority"].as<int>();
    if (auto w = add_workflow(vm, body); !w)
        return w.error();
    return body;
}

std::pair<std::vector<std::string>, std::vector<std::string>> split_command(
    const std::vector<std::string>& args, const po::options_description& options) {
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--") {
            return {{args.begin(), args.begin() + static_cast<long>(i)},
                    {args.begin() + static_cast<long>(i) + 1, args.end()}};
        }
        if (a.size() < 2 || a[0] != '-') {
            break;
        }
        if (a.find('=') != std::string::npos) {
            continue;
        }
        const bool long_form = a.starts_with("--");
        const auto* d = long_form ? options.find_nothrow(a.substr(2), false)
                                  : options.find_nothrow(a.substr(0, 2), false);
        if (d && d->semantic()->max_tokens() > 0 && (long_form || a.size() == 2)) {
            ++i;  // its value
        }
    }
    return {{args.begin(), args.begin() + static_cast<long>(std::min(i, args.size()))},
            {args.begin() + static_cast<long>(std::min(i, args.size())), args.end()}};
}

result_info<po::variables_map> parse_args(const std::vector<std::string>& args,
                                          const po::options_description& visible,
                                          const char* positional_name) {
    po::options_description all;
    all.add(visible);
    po::positional_options_description positional;
    if (positional_name) {
        all.add_options()(positional_name, po::value<std::vector<std::string>>());
        positional.add(positional_name, -1);
    }
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return bad(e.what());
    }
    return vm;
}

}  // namespace corral::cli
