// corrald: the daemon. Parses its arguments, loads the config, builds the pod and runs it.
#include <malloc.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include "corral/auth/authority.hpp"
#include "corral/output/output_log.hpp"
#include "corral/pod/components.hpp"
#include "corral/store/sqlite_store.hpp"
#include "corral/pod/daemon_config.hpp"
#include "corral/pod/pod.hpp"
#include "corral/pod/asexor_adapters.hpp"
#include "corral/proto/api_router.hpp"
#include "corral/proto/http_front.hpp"
#include "corral/proto/static_files.hpp"
#include "corral/console/console_handler.hpp"
#include "corral/console/operator_commands.hpp"
#include "net/endpoint.hpp"
#include "net/webhook_post.hpp"
#include "pod/command_line_components.hpp"
#include "pod/plugin_loader.hpp"
#include "pod/service_config.hpp"

namespace {

namespace po = boost::program_options;
using namespace corral;

constexpr std::string_view usage = R"(usage: corrald run [-c FILE] [--console] [KIND:key=value,... ...]
                                 run the daemon (--console: its operator console on this terminal;
                                 each KIND:key=value,... adds a component after the file's: corrald
                                 components lists the kinds and their keys)
       corrald components        list the components the command line can add, with their keys
       corrald check [-c FILE] [KIND:key=value,... ...]
                                 validate a configuration and print what it would serve
       corrald token [-c FILE] [--rotate]
                                 print the admin token (made at first start); --rotate replaces it,
                                 and the old one stops working at once, even in a running corrald
       corrald hash-token        read a token on stdin, print the sha256:HEX a tokens file holds
       corrald --version

With no configuration corrald serves HTTP on 127.0.0.1:8470 and the CLI's Unix socket in its state
directory ($XDG_STATE_HOME/corral, ~/.local/state/corral, or /var/lib/corral for root).
Over TCP every request needs a token (Authorization: Bearer TOKEN): the admin token in
<state dir>/admin.token, or one from auth.tokens_file. On a terminal corrald prints the web page's
address with the admin token in it. The Unix socket trusts its peer's user id instead.
Jobs, task runs and an audit trail are kept in corral.db there, each job's output in output/<id>.out:
a restart resumes queued jobs in order ([store] in docs/config.md).
Any key can be overridden from the environment: CORRAL_<SECTION>__<KEY>=value, for example
CORRAL_JOBS__CONCURRENCY=8 or CORRAL_WEB__LISTEN=127.0.0.1:9000. docs/config.md lists every key.
SIGINT/SIGTERM stop it gracefully (running jobs get pod.stop_wait); a second signal stops it now.
SIGHUP reloads the tasks, the roles and tokens, and the services from the same file (and arguments),
and logs what else changed and waits for a restart.

options)";

void setup_logging(const std::string& level) {
    auto logger = spdlog::stderr_color_mt("corrald");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
    logger->set_level(spdlog::level::from_str(level));
    spdlog::set_default_logger(logger);
}

/// "db, app (after db), worker (not started with corrald)".
std::string describe_services(const std::vector<services::service_def>& defs) {
    std::vector<std::string> parts;
    for (const auto& d : defs) {
        std::string part = d.name;
        if (!d.after.empty()) {
            part += fmt::format(" (after {})", fmt::join(d.after, ", "));
        }
        if (!d.autostart) {
            part += " (not started with corrald)";
        }
        parts.push_back(std::move(part));
    }
    return fmt::format("{}", fmt::join(parts, ", "));
}

/// What `corrald check` prints, and the console's `config` shows.
std::string plan_text(const pod::daemon_config& c) {
    std::string text;
    auto out = std::back_inserter(text);
    fmt::format_to(out, "state directory: {}\n", c.state_dir);
    int id = 1;
    if (c.storage == pod::store_backend::sqlite) {
        fmt::format_to(out, 
            "{} store: SQLite {} (sync {})\n", id++, c.store.path, c.store.full_sync ? "full" : "normal");
    } else {
        fmt::format_to(out, "  store: memory only (nothing survives a restart)\n");
    }
    fmt::format_to(out, "{} jobs: concurrency {}, stop wait {}\n",
               id++,
               c.jobs.concurrency ? std::to_string(c.jobs.concurrency) : "= cores",
               c.stop_wait.count());
    fmt::format_to(out, "{} services: {}\n", id++,
                   c.services.empty() ? std::string("none configured (they can be added at run time)")
                                      : describe_services(c.services));
    const auto& a = c.authority.options();
    fmt::format_to(out, "  tasks: {}; auth: admin token in {}{}{}\n",
               c.catalog.all().size(),
               auth::admin_token_path(c.state_dir),
               a.tokens_file.empty() ? "" : fmt::format(", tokens from {}", a.tokens_file),
               a.anonymous_role.empty() ? ", TCP without a token: refused"
                                        : fmt::format(", TCP without a token: role {}", a.anonymous_role));
    for (const auto& h : c.http) {
        fmt::format_to(out, 
            "{} {}: {}{}\n", id++, h.label, h.listener.endpoint, h.listener.tls_cert.empty() ? "" : " (TLS)");
    }
    if (c.asexor.websocket) {
        fmt::format_to(out, "  asexor: WebSocket at {} on every HTTP listener\n", c.asexor.ws.path);
    }
    for (const auto& r : c.asexor.raw) {
        fmt::format_to(out, "{} {}: ASEXOR raw socket on {}{}{}\n",
                   id++,
                   r.label,
                   r.listener.endpoint,
                   r.raw.delegated ? ", delegated" : "",
                   r.raw.no_update ? ", no updates" : "");
    }
    for (const auto& l : c.asexor.long_poll) {
        fmt::format_to(out, "{} {}: ASEXOR long-poll on {}\n", id++, l.label, l.listener.endpoint);
    }
    if (c.wamp.enabled) {
        fmt::format_to(out, "  wamp: realm {}, tasks by {}, updates on {}\n", c.wamp.router.realm, c.wamp.router.run_task, c.wamp.router.task_update);
    }
    for (const auto& w : c.wamp.websocket) {
        fmt::format_to(out, "{} {}: WAMP WebSocket on {}{}\n", id++, w.label, w.listener.endpoint, w.path);
    }
    for (const auto& r : c.wamp.rawsocket) {
        fmt::format_to(out, "{} {}: WAMP RawSocket on {}\n", id++, r.label, r.listener.endpoint);
    }
    for (const auto& con : c.consoles) {
        fmt::format_to(out, "{} {}: the console on {}\n", id++, con.label, con.listener.endpoint);
    }
    for (const auto& pc : c.components) {
        fmt::format_to(out, "{} {}: plugin {} ({})\n", id++, pc.label, pc.kind, pc.path);
    }
    return text;
}

std::string own_user_name() {
    passwd pw{};
    passwd* found = nullptr;
    char buffer[1024];
    if (::getpwuid_r(::geteuid(), &pw, buffer, sizeof buffer, &found) == 0 && found) {
        return found->pw_name;
    }
    return fmt::format("uid:{}", ::geteuid());
}

/// A TCP listener's address as a browser should use it (a wildcard becomes loopback).
std::optional<std::string> page_address(const pod::http_component& h) {
    const auto& o = h.options();
    if (o.endpoint.starts_with("unix:")) {
        return std::nullopt;
    }
    auto host = o.endpoint.substr(0, o.endpoint.rfind(':'));
    if (host == "0.0.0.0") {
        host = "127.0.0.1";
    } else if (host == "[::]") {
        host = "[::1]";
    }
    return fmt::format("{}://{}:{}", o.tls_cert.empty() ? "http" : "https", host, h.port());
}

/// Warnings about choices that expose more than the defaults do.
void warn_about_exposure(const pod::daemon_config& c) {
    for (const auto& h : c.http) {
        auto ep = sockets::parse_endpoint(h.listener.endpoint);
        const auto* tcp = ep ? std::get_if<boost::asio::ip::tcp::endpoint>(&*ep) : nullptr;
        if (!tcp || tcp->address().is_loopback()) {
            continue;
        }
        if (!c.authority.options().anonymous_role.empty()) {
            spdlog::warn(
                "{} ({}) is reachable from other hosts and auth.anonymous_role = '{}' lets anyone "
                "there act without a token",
                h.label,
                h.listener.endpoint,
                c.authority.options().anonymous_role);
        }
        if (h.listener.tls_cert.empty()) {
            spdlog::warn(
                "{} ({}) is reachable from other hosts without TLS: tokens cross the network in "
                "clear text (set tls_cert and tls_key)",
                h.label,
                h.listener.endpoint);
        }
    }
}

/// A plugin's component writes to corrald's log as "component ID (LABEL): ...".
std::function<void(plugin::log_level, std::string_view)> plugin_log(int id, std::string label) {
    return [id, label = std::move(label)](plugin::log_level level, std::string_view message) {
        const auto to = level == plugin::log_level::debug  ? spdlog::level::debug
                        : level == plugin::log_level::info ? spdlog::level::info
                        : level == plugin::log_level::warn ? spdlog::level::warn
                                                           : spdlog::level::err;
        spdlog::log(to, "component {} ({}): {}", id, label, message);
    };
}

/// The admin token, made on first start, accepted from now on as the daemon's own user.
bool set_up_admin_token(pod::daemon_config& c) {
    const auto path = auth::admin_token_path(c.state_dir);
    auto token = auth::ensure_admin_token(path);
    if (!token) {
        spdlog::error("{}", token.error().what());
        return false;
    }
    if (auto used = c.authority.use_admin_token(path, own_user_name()); !used) {
        spdlog::error("{}", used.error().what());
        return false;
    }
    return true;
}

/// Where the configuration came from, to read it again on SIGHUP.
struct config_source {
    std::string file;
    std::map<std::string, std::string> env;
    std::vector<std::string> components;
};

/// "3 added: a b c" for a reload's message.
std::string named(const char* what, const std::vector<std::string>& names) {
    return fmt::format("{} {}{}", names.size(), what, names.empty() ? "" : fmt::format(": {}", fmt::join(names, " ")));
}

/// "services (1 added: new, 1 removed: old, 0 changed, 1 unchanged)": what a reload did to a set.
template <class Report>
std::string reloaded(std::string_view what, const Report& r) {
    return fmt::format("{} ({}, {}, {}, {} unchanged)", what, named("added", r.added), named("removed", r.removed),
                       named("changed", r.changed), r.unchanged);
}

/// SIGHUP: the tasks, the roles and tokens, the services and the schedules take the configuration's
/// new contents; a changed section of anything else is named as waiting for a restart. An invalid
/// configuration changes nothing.
void reload(pod::daemon_config& c,
            const config_source& from,
            services::supervisor& supervisor,
            services::schedule_runner& schedules) {
    auto fresh = pod::load_config(from.file, from.env, from.components);
    if (!fresh) {
        spdlog::error("reload: the configuration is invalid, so the running one stays:\n{}", fresh.error().what());
        return;
    }
    if (auto used = fresh->authority.use_admin_token(auth::admin_token_path(c.state_dir), own_user_name()); !used) {
        spdlog::error("reload: {}; the running configuration stays", used.error().what());
        return;
    }
    std::vector<std::string> done;
    std::vector<std::string> waiting;
    auto services = supervisor.reload(std::move(fresh->services));
    if (services) {
        done.push_back(reloaded("services", *services));
        c.sections["service"] = fresh->sections["service"];
    } else {
        waiting.push_back(fmt::format("[[service]] ({})", services.error().what()));
    }
    c.catalog = std::move(fresh->catalog);
    c.authority = std::move(fresh->authority);
    // After the catalog: a schedule's job may name a task the same reload added.
    auto timetable = schedules.reload(std::move(fresh->schedules));
    if (timetable) {
        done.push_back(reloaded("schedules", *timetable));
        c.sections["schedule"] = fresh->sections["schedule"];
    } else {
        waiting.push_back(fmt::format("[[schedule]] ({})", timetable.error().what()));
    }
    done.push_back(fmt::format("tasks ({})", c.catalog.all().size()));
    // Names gathered by hand: clang with libstdc++ 12 cannot take std::views::keys of this map.
    std::vector<std::string> roles;
    for (const auto& [name, policy] : c.authority.options().roles) {
        roles.push_back(name);
    }
    done.push_back(fmt::format("auth (roles: {}; tokens{})",
                               fmt::join(roles, ", "),
                               c.authority.options().tokens_file.empty() ? ": the admin token only"
                                                                         : " from " + c.authority.options().tokens_file));
    for (const char* reloaded : {"task", "auth"}) {
        c.sections[reloaded] = fresh->sections[reloaded];
    }
    std::set<std::string> keys;
    for (const auto& [key, text] : c.sections) {
        keys.insert(key);
    }
    for (const auto& [key, text] : fresh->sections) {
        keys.insert(key);
    }
    for (const auto& key : keys) {
        const auto was = c.sections.find(key);
        const auto now = fresh->sections.find(key);
        const bool same = was != c.sections.end() && now != fresh->sections.end() && was->second == now->second;
        if (!same && key != "task" && key != "auth" && key != "service" && key != "schedule") {
            waiting.push_back(key);
        }
    }
    spdlog::info("reload: reloaded {}", fmt::join(done, "; "));
    if (!waiting.empty()) {
        spdlog::warn("reload: changed but not reloaded (a restart applies them): {}", fmt::join(waiting, ", "));
    }
}

/**
 * Output goes through corrald in 256 KiB log chunks, 128 KiB pipe blocks and pages of up to 4 MiB,
 * each freed soon after. glibc serves such sizes with mmap and unmaps them when freed (or, once its
 * thresholds have adapted, trims them off the heap), so the next one is fresh memory: every page of
 * it faults, 15-20 µs each on the VMs we measure on. Kept in the heap, 256 MiB through `corral run`
 * cost corrald 7,000 faults instead of 23,000-43,000 and half the CPU time, for the same RSS
 * afterwards (41-45 MiB; bench/results/workflows.md). Both thresholds are set, since setting either
 * stops glibc adapting both. GLIBC_TUNABLES's malloc settings, when given, win.
 */
void keep_output_buffers_in_the_heap() {
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if (tunables && std::string_view(tunables).find("glibc.malloc.") != std::string_view::npos) {
        return;
    }
    ::mallopt(M_MMAP_THRESHOLD, (4 << 20) + (8 << 10));  // a 4 MiB page and its allocation's header
    ::mallopt(M_TRIM_THRESHOLD, 16 << 20);
}

int run(pod::daemon_config& c, bool console_on_stdin, const config_source& source) {
    keep_output_buffers_in_the_heap();
    setup_logging(c.log_level);
    std::signal(SIGPIPE, SIG_IGN);
    std::error_code ec;
    std::filesystem::create_directories(c.jobs.output.spill_dir, ec);
    if (ec) {
        spdlog::error("cannot create the state directory {}: {}", c.state_dir, ec.message());
        return 1;
    }
    ::chmod(c.state_dir.c_str(), 0700);
    if (!set_up_admin_token(c)) {
        return 1;
    }
    warn_about_exposure(c);
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
    (*service)->set_post_sender([executor = io.get_executor()](http::post_request r) {
        return http::post_json(executor, std::move(r));
    });
    std::unique_ptr<store::sqlite_store> store;
    if (c.storage == pod::store_backend::sqlite) {
        auto opened = store::sqlite_store::open(io.get_executor(), c.store);
        if (!opened) {
            spdlog::error("cannot open the store: {}", opened.error().what());
            return 1;
        }
        store = std::move(*opened);
    }
    // Every listener's requests pass one front door (guard, authentication), which hands each to
    // the route its adapter registered.
    proto::http_front front(c.api.guard, c.authority, (*service)->blocking_executor());
    proto::api_router router(**service, c.api, c.authority, c.catalog);
    router.add_routes(front);
    const std::string plan = plan_text(c);  // before the services move to their supervisor
    services::supervisor supervisor(**service, std::move(c.services));
    router.set_supervisor(supervisor);
    router.set_service_parser(pod::parse_service);
    services::schedule_runner schedules(**service,
                                        [&router](const boost::json::object& job) { return router.read_job(job); },
                                        std::move(c.schedules));
    router.set_schedules(schedules);
    std::unique_ptr<proto::static_files> web;
    if (!c.api.web_root.empty()) {
        auto files = proto::static_files::create(c.api.web_root, (*service)->blocking_executor());
        if (!files) {
            spdlog::error("{}", files.error().what());
            return 1;
        }
        web = std::move(*files);
        front.add("/", *web, proto::route_access::open);
        spdlog::info("the web page: {}", c.api.web_root);
    } else {
        spdlog::info("no web page ([api] web_root is empty, and none was installed or built)");
    }
    pod::asexor_adapters asexor(c, **service);  // before the pod: its components use the adapters
    std::vector<std::unique_ptr<console::interpreter>> consoles;  // outlive the pod's components
    pod::pod p(io, c.stop_wait);
    router.set_components({[&p] {
                               boost::json::array out;
                               for (const auto& s : p.list()) {
                                   out.push_back(boost::json::object{{"id", s.id}, {"label", s.label}, {"description", s.description}});
                               }
                               return out;
                           },
                           [&p](const std::string& label, int sig) { return p.signal(label, sig); }});
    if (store) {
        p.add("store", std::make_unique<pod::store_component>(*store, **service, c.catalog, &schedules));
    }
    p.add("jobs", std::make_unique<pod::jobs_component>(**service, &schedules));
    p.add("services", std::make_unique<pod::services_component>(supervisor));  // services may be added later
    std::vector<const pod::http_component*> listeners;
    for (const auto& h : c.http) {
        auto component = std::make_unique<pod::http_component>(h.listener, front, front, **service);
        listeners.push_back(component.get());
        p.add(h.label, std::move(component));
    }
    asexor.add_to(p, front);
    // The operator console: an interpreter per [[console]] (each may have its own prompts), and one
    // on stdin and stdout with --console.
    auto make_console = [&](console::interpreter_options prompts) -> const console::interpreter& {
        auto& in = *consoles.emplace_back(std::make_unique<console::interpreter>(std::move(prompts)));
        console::add_operator_commands(in, {**service, supervisor, c.catalog,
                                            [&p] {
                                                std::vector<console::component_info> out;
                                                for (const auto& s : p.list()) {
                                                    out.push_back({s.id, s.label, s.description});
                                                }
                                                return out;
                                            },
                                            [&plan] { return plan; },
                                            [&p](const std::string& label, int sig) { return p.signal(label, sig); }});
        return in;
    };
    for (const auto& con : c.consoles) {
        const auto& commands = make_console(con.prompts);
        auto handler = std::make_unique<console::console_handler>(commands, c.authority, (*service)->blocking_executor(),
                                                                  con.listener, con.max_line);
        p.add(con.label, std::make_unique<pod::stream_component>(con.listener, std::move(handler), **service));
    }
    if (console_on_stdin) {
        p.add("stdin-console", std::make_unique<pod::stdin_console_component>(
                                   make_console({}), c.authority, (*service)->blocking_executor(),
                                   [&p] { p.request_stop("the console on stdin ended"); }));
    }
    // Plugins' components come last: what they may use of the daemon has started by then.
    for (const auto& pc : c.components) {
        const int id = static_cast<int>(p.list().size()) + 1;
        plugin::component_context context{io.get_executor(), (*service)->blocking_executor(), pc.label, id,
                                          c.state_dir, plugin_log(id, pc.label)};
        auto made = pc.make(context);
        if (!made) {
            spdlog::error("component {} ({}), plugin {}: {}", id, pc.label, pc.kind, made.error().what());
            return 1;
        }
        p.add(pc.label, std::move(*made));
    }
    p.on_reload([&] { reload(c, source, supervisor, schedules); });
    p.on_ready([&] {
        // The token goes in the URL's fragment, which browsers never send: it reaches no server log.
        // It is printed only to a terminal, so that a service manager's journal does not keep it.
        for (const auto* h : listeners) {
            if (auto address = page_address(*h)) {
                if (::isatty(STDOUT_FILENO)) {
                    auto token = auth::ensure_admin_token(auth::admin_token_path(c.state_dir));
                    fmt::print(
                        "\ncorrald, with its admin token: {}/#token={}\n\n", *address, token ? *token : "?");
                } else {
                    fmt::print("corrald: {}/ (the admin token: corrald token)\n", *address);
                }
                std::fflush(stdout);
                break;
            }
        }
    });
    return p.run();
}

/// The plugins `component:plugin=NAME` finds by name, for `corrald components`.
void list_plugins() {
    std::vector<std::string> lines;
    std::set<std::string> seen;
    for (const auto& dir : pod::plugin_search_dirs()) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            const auto name = entry.path().filename().string();
            if (!name.ends_with(".so") || !seen.insert(name).second) {
                continue;
            }
            auto loaded = pod::load_plugin(entry.path().string());
            if (!loaded) {
                lines.push_back(fmt::format("\n  {}\n{:21}unusable: {}\n", name, "", loaded.error().what()));
                continue;
            }
            const auto& i = *(*loaded)->info;
            lines.push_back(fmt::format("\n  {:<17} {}\n{:21}{}\n{:21}keys: {}\n", i.name, name, "",
                                        i.summary ? i.summary : "", "", i.keys ? i.keys : "(not listed)"));
        }
    }
    if (lines.empty()) {
        std::cout << fmt::format("\nNo plugins in {} (docs/plugins.md).\n", fmt::join(pod::plugin_search_dirs(), " or "));
        return;
    }
    std::cout << fmt::format("\nPlugins, as component:plugin=NAME,label=...,key=value (from {}):\n",
                             fmt::join(pod::plugin_search_dirs(), " and "));
    for (const auto& line : lines) {
        std::cout << line;
    }
}

int print_token(const pod::daemon_config& c, bool rotate) {
    std::error_code ec;
    std::filesystem::create_directories(c.state_dir, ec);
    ::chmod(c.state_dir.c_str(), 0700);
    auto token = auth::ensure_admin_token(auth::admin_token_path(c.state_dir), rotate);
    if (!token) {
        std::cerr << "corrald: " << token.error().what() << "\n";
        return 1;
    }
    std::cout << *token << "\n";
    if (rotate) {
        std::cerr << "corrald: the admin token was replaced; the old one no longer works\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv, char** envp) {
    po::options_description options("options");
    options.add_options()("help,h", "show this help")("version", "print the version")(
        "config,c", po::value<std::string>(), "the TOML configuration file (docs/config.md)")(
        "rotate", "with token: replace the admin token with a new one")(
        "console", "with run: the operator console on this terminal too (exit or Ctrl-D stops corrald)");
    po::options_description hidden;
    hidden.add_options()("command", po::value<std::string>())(
        "components", po::value<std::vector<std::string>>()->composing());
    po::options_description all;
    all.add(options).add(hidden);
    po::positional_options_description positional;
    positional.add("command", 1).add("components", -1);
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
    if (command == "components") {
        std::cout << "Components `corrald run` and `corrald check` take as KIND:key=value,... (after the file's;\n"
                     "values are TOML when they parse, else text; \\, and \\= for a comma or '=' in a value):\n";
        for (const auto& k : pod::component_kinds()) {
            std::cout << fmt::format("\n  {:<17} {}\n{:21}keys: {}\n", k.name, k.summary, "", k.keys);
        }
        list_plugins();
        std::cout << "\nFor example: corrald run http:label=api2,listen=127.0.0.1:9000 "
                     "'service:name=cache,command=redis-server --port 6380,ready_port=6380'\n";
        return 0;
    }
    if (command != "run" && command != "check" && command != "token") {
        std::cerr << (command.empty() ? "corrald: give a command: run, check, components, token or hash-token"
                                      : "corrald: unknown command '" + command + "'")
                  << "\n(see corrald --help)\n";
        return 2;
    }
    const auto file = vm.count("config") ? vm["config"].as<std::string>() : "";
    const auto components =
        vm.count("components") ? vm["components"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (!components.empty() && command != "run" && command != "check") {
        std::cerr << "corrald: components on the command line go with run or check\n";
        return 2;
    }
    const config_source source{file, pod::environment_map(envp), components};
    auto config = pod::load_config(source.file, source.env, source.components);
    if (!config) {
        std::cerr << "corrald: invalid configuration:\n" << config.error().what() << "\n";
        return 2;
    }
    if (command == "check") {
        std::cout << plan_text(*config);
        return 0;
    }
    if (command == "token") {
        return print_token(*config, vm.count("rotate") > 0);
    }
    return run(*config, vm.count("console") > 0, source);
}
