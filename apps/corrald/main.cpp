// corrald: the daemon. Parses its arguments, loads the config, builds the pod and runs it.
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/program_options.hpp>

#include "corral/auth/authority.hpp"
#include "corral/output/output_log.hpp"
#include "corral/pod/components.hpp"
#include "corral/pod/daemon_config.hpp"
#include "corral/pod/pod.hpp"
#include "corral/proto/api_router.hpp"

namespace {

namespace po = boost::program_options;
using namespace corral;

constexpr std::string_view usage = R"(usage: corrald run [-c FILE]     run the daemon
       corrald check [-c FILE]   validate a configuration and print what it would serve
       corrald hash-token        read a token on stdin, print the sha256:HEX a tokens file holds
       corrald --version

With no configuration corrald serves HTTP on 127.0.0.1:8470 and the CLI's Unix socket in its state
directory ($XDG_STATE_HOME/corral, ~/.local/state/corral, or /var/lib/corral for root).
Jobs, task runs and an audit trail are kept in corral.db there, each job's output in output/<id>.out:
a restart resumes queued jobs in order ([store] in docs/config.md).
Any key can be overridden from the environment: CORRAL_<SECTION>__<KEY>=value, for example
CORRAL_JOBS__CONCURRENCY=8 or CORRAL_WEB__LISTEN=127.0.0.1:9000. docs/config.md lists every key.
SIGINT/SIGTERM stop it gracefully (running jobs get pod.stop_wait); a second signal stops it now.

options)";

void setup_logging(const std::string& level) {
    auto logger = spdlog::stderr_color_mt("corrald");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
    logger->set_level(spdlog::level::from_str(level));
    spdlog::set_default_logger(logger);
}

void print_plan(const pod::daemon_config& c) {
    fmt::print("state directory: {}\n", c.state_dir);
    int id = 1;
    if (c.storage == pod::store_backend::sqlite) {
        fmt::print(
            "{} store: SQLite {} (sync {})\n", id++, c.store.path, c.store.full_sync ? "full" : "normal");
    } else {
        fmt::print("  store: memory only (nothing survives a restart)\n");
    }
    fmt::print("{} jobs: concurrency {}, stop wait {}\n",
               id++,
               c.jobs.concurrency ? std::to_string(c.jobs.concurrency) : "= cores",
               c.stop_wait.count());
    fmt::print("  tasks: {}; auth: {}\n",
               c.catalog.all().size(),
               c.authority.enabled() ? "tokens" : "none (loopback and the Unix socket only)");
    for (const auto& h : c.http) {
        fmt::print(
            "{} {}: {}{}\n", id++, h.label, h.listener.endpoint, h.listener.tls_cert.empty() ? "" : " (TLS)");
    }
}

int run(const pod::daemon_config& c) {
    setup_logging(c.log_level);
    std::signal(SIGPIPE, SIG_IGN);
    std::error_code ec;
    std::filesystem::create_directories(c.jobs.output.spill_dir, ec);
    if (ec) {
        spdlog::error("cannot create the state directory {}: {}", c.state_dir, ec.message());
        return 1;
    }
    ::chmod(c.state_dir.c_str(), 0700);
    if (auto spill = output::output_log::check_spill_dir(c.jobs.output.spill_dir); !spill) {
        spdlog::error("{}", spill.error().what());
        return 1;
    }
    net::io_context io(1);
    auto service = services::job_service::create(io.get_executor(), c.jobs);
    if (!service) {
        spdlog::error("cannot start the job service: {}", service.error().what());
        return 1;
    }
    std::unique_ptr<store::sqlite_store> store;
    if (c.storage == pod::store_backend::sqlite) {
        auto opened = store::sqlite_store::open(io.get_executor(), c.store);
        if (!opened) {
            spdlog::error("cannot open the store: {}", opened.error().what());
            return 1;
        }
        store = std::move(*opened);
    }
    proto::api_router router(**service, c.api, c.authority, c.catalog);
    pod::pod p(io, c.stop_wait);
    if (store) {
        p.add("store", std::make_unique<pod::store_component>(*store, **service, c.catalog));
    }
    p.add("jobs", std::make_unique<pod::jobs_component>(**service));
    for (const auto& h : c.http) {
        p.add(h.label, std::make_unique<pod::http_component>(h.listener, router, router, **service));
    }
    return p.run();
}

}  // namespace

int main(int argc, char** argv, char** envp) {
    po::options_description options("options");
    options.add_options()("help,h", "show this help")("version", "print the version")(
        "config,c", po::value<std::string>(), "the TOML configuration file (docs/config.md)");
    po::options_description hidden;
    hidden.add_options()("command", po::value<std::string>());
    po::options_description all;
    all.add(options).add(hidden);
    po::positional_options_description positional;
    positional.add("command", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    } catch (const po::error& e) {
        std::cerr << "corrald: " << e.what() << "\n(see corrald --help)\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << usage << options;
        return 0;
    }
    if (vm.count("version")) {
        std::cout << "corrald " << CORRAL_VERSION << "\n";
        return 0;
    }
    const auto command = vm.count("command") ? vm["command"].as<std::string>() : "";
    if (command == "hash-token") {
        std::string token;
        if (!std::getline(std::cin, token) || token.empty()) {
            std::cerr << "corrald: hash-token reads one token (a line) on stdin\n";
            return 2;
        }
        std::cout << auth::hash_token(token) << "\n";
        return 0;
    }
    if (command != "run" && command != "check") {
        std::cerr << (command.empty() ? "corrald: give a command: run, check or hash-token"
                                      : "corrald: unknown command '" + command + "'")
                  << "\n(see corrald --help)\n";
        return 2;
    }
    const auto file = vm.count("config") ? vm["config"].as<std::string>() : "";
    auto config = pod::load_config(file, pod::environment_map(envp));
    if (!config) {
        std::cerr << "corrald: invalid configuration:\n" << config.error().what() << "\n";
        return 2;
    }
    if (command == "check") {
        print_plan(*config);
        return 0;
    }
    return run(*config);
}
