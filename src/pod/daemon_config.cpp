#include "corral/pod/daemon_config.hpp"

#include <filesystem>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "corral/core/parse.hpp"
#include "corral/core/state_dir.hpp"
#include "corral/proc/stop_plan.hpp"
#include "corral/proto/request_guard.hpp"
#include "net/endpoint.hpp"
#include "pod/schedule_config.hpp"
#include "pod/asexor_config.hpp"
#include "pod/listener_config.hpp"
#include "pod/config_section.hpp"
#include "pod/command_line_components.hpp"
#include "pod/console_config.hpp"
#include "pod/plugin_config.hpp"
#include "pod/service_config.hpp"
#include "pod/task_config.hpp"

namespace corral::pod {
namespace {

std::string normalize_label(std::string_view label) {
    std::string out;
    for (char c : label) {
        out += c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

/// An environment value as a TOML value when it parses as one (8, true, "x"), else as a string.
toml::node_view<toml::node> parse_env_value(const std::string& name,
                                            const std::string& value,
                                            toml::table& holder) {
    try {
        holder = toml::parse("v = " + value, std::string_view(name));
    } catch (const toml::parse_error&) {
        holder = toml::table{};
        holder.insert("v", value);
    }
    return holder["v"];
}

/// Applies CORRAL_SECTION__KEY overrides whose section is `pod`, `jobs`, `api`, `store`, `asexor`,
/// `wamp`, or a listener's label.
void apply_env(toml::table& root,
               const std::map<std::string, std::string>& env,
               bool components,
               problems& p) {
    for (const auto& [name, value] : env) {
        auto sep = name.find("__");
        if (!name.starts_with("CORRAL_") || sep == std::string::npos) {
            continue;
        }
        const auto section_name = normalize_label(name.substr(7, sep - 7));
        const auto key = normalize_label(name.substr(sep + 2));
        const bool top = section_name == "pod" || section_name == "jobs" || section_name == "api" ||
                         section_name == "store" || section_name == "asexor" || section_name == "wamp";
        if (top == components) {
            continue;
        }
        std::vector<toml::table*> targets;
        if (top) {
            if (!root.contains(section_name)) {
                root.insert(section_name, toml::table{});
            }
            targets.push_back(root[section_name].as_table());
        } else {
            // A component by its label: [[http]], ASEXOR's and WAMP's listeners, consoles, plugins'
            // components; every one of a label that several share.
            for (auto* list : {root["http"].as_array(),
                               root["asexor"]["raw"].as_array(),
                               root["asexor"]["long_poll"].as_array(),
                               root["wamp"]["websocket"].as_array(),
                               root["wamp"]["rawsocket"].as_array(),
                               root["console"].as_array(),
                               root["component"].as_array()}) {
                if (!list) {
                    continue;
                }
                for (auto& item : *list) {
                    auto* t = item.as_table();
                    if (t && normalize_label(t->get("label") ? t->get("label")->value_or(std::string()) : "") ==
                                 section_name) {
                        targets.push_back(t);
                    }
                }
            }
        }
        if (targets.empty()) {
            p.add(toml::source_region{},
                  name,
                  fmt::format(
                      "no section or listener labelled '{}' (sections: pod, jobs, api, store, asexor, wamp; "
                      "or the label of an [[http]], [[asexor.raw]], [[asexor.long_poll]], [[wamp.websocket]] "
                      "or [[wamp.rawsocket]] or [[console]] or [[component]])",
                      section_name));
            continue;
        }
        for (auto* target : targets) {
            toml::table holder;
            auto v = parse_env_value(name, value, holder);
            target->insert_or_assign(key, *v.node());
        }
    }
}

void read_pod(toml::table& root, daemon_config& c, problems& p) {
    section s(root["pod"].as_table(), "pod", p);
    s.string("state_dir", c.state_dir);
    s.duration("stop_wait", c.stop_wait);
    s.choice("log_level",
             c.log_level,
             {{"trace", std::string("trace")},
              {"debug", std::string("debug")},
              {"info", std::string("info")},
              {"warn", std::string("warn")},
              {"error", std::string("error")}});
    s.finish();
}

void read_store(toml::table& root, daemon_config& c, problems& p) {
    section s(root["store"].as_table(), "store", p);
    s.choice("backend", c.storage, {{"sqlite", store_backend::sqlite}, {"memory", store_backend::memory}});
    s.string("path", c.store.path);
    s.choice("sync", c.store.full_sync, {{"normal", false}, {"full", true}});
    s.integer("max_batch", c.store.max_batch, 1, 1'000'000);
    s.integer("max_audit", c.store.max_audit, 0, 100'000'000);
    s.finish();
}

void read_jobs(toml::table& root, daemon_config& c, problems& p) {
    section s(root["jobs"].as_table(), "jobs", p);
    auto& j = c.jobs;
    s.integer("concurrency", j.concurrency, 0, 100000);
    s.integer("max_queued", j.max_queued, 0, 100'000'000);
    s.read("groups", [&](const toml::node& n) -> std::string {
        const auto* groups = n.as_table();
        if (!groups)
            return fmt::format("expected a table of group = limit, got {}", type_name(n));
        std::vector<std::string> bad;
        for (const auto& [name, limit] : *groups) {
            const auto v = limit.value<std::int64_t>();
            if (!limit.is_integer() || *v < 1 || *v > 100000) {
                bad.push_back(std::string(name.str()));
            } else {
                j.group_limits[std::string(name.str())] = static_cast<unsigned>(*v);
            }
        }
        if (!bad.empty())
            return fmt::format("{}: expected a whole number of jobs from 1 to 100000", fmt::join(bad, ", "));
        return {};
    });
    s.integer("max_finished", j.retention.max_finished, 0, 10'000'000);
    std::chrono::seconds max_age{0};
    s.duration("max_age", max_age);
    if (max_age.count() > 0) {
        j.retention.max_age = max_age;
    }
    s.size("max_output_kept", j.retention.max_output_bytes);
    s.size("memory_per_job", j.output.memory_limit);
    s.duration("drain_output", j.drain_output);
    s.duration("pouring_calm", j.pouring_calm);
    s.size("output_cap", c.api.job_defaults.output.cap);
    s.choice("output_policy",
             c.api.job_defaults.output.policy,
             {{"keep_newest", output::cap_policy::keep_newest}, {"stop_job", output::cap_policy::stop_job}});
    s.read("stop", [&](const toml::node& n) -> std::string {
        auto plan = proc::stop_plan::parse(n.value_or(std::string()));
        if (!plan)
            return plan.error().what();
        c.api.job_defaults.stop = *plan;
        return {};
    });
    s.read("on_finish", [&](const toml::node& n) { return read_hook(n, j.on_finish); });
    s.choice("tree",
             j.launcher.tree,
             {{"auto", proc::tree_mode::automatic},
              {"cgroup", proc::tree_mode::cgroup},
              {"process_group", proc::tree_mode::process_group}});
    s.finish();
}

void read_api(toml::table& root, daemon_config& c, problems& p) {
    section s(root["api"].as_table(), "api", p);
    s.read("cors_origin", [](const toml::node&) -> std::string {
        return "replaced by cors_origins, a list of the web origins allowed to call corrald "
               "(\"*\" is no longer accepted): cors_origins = [\"http://127.0.0.1:5200\"]";
    });
    s.read("cors_origins", [&](const toml::node& n) -> std::string {
        if (auto bad = read_string_list(n, c.api.guard.cors_origins); !bad.empty())
            return bad;
        std::vector<std::string> problems;
        for (const auto& origin : c.api.guard.cors_origins) {
            if (auto why = proto::check_cors_origin(origin); !why.empty())
                problems.push_back(why);
        }
        return fmt::format("{}", fmt::join(problems, "; "));
    });
    s.read("server_names", [&](const toml::node& n) -> std::string {
        if (auto bad = read_string_list(n, c.api.guard.server_names); !bad.empty())
            return bad;
        for (const auto& name : c.api.guard.server_names) {
            if (!proto::parse_host(name, "http") || name.find(':') != std::string::npos)
                return fmt::format("'{}' is not a host name (give names without a port or scheme)", name);
        }
        return {};
    });
    s.boolean("acons", c.api.acons);
    s.size("acons_max_output", c.api.acons_max_output);
    s.size("acons_max_flush", c.api.acons_max_flush);
    s.duration("max_wait", c.api.max_wait);
    s.duration("stdin_timeout", c.api.stdin_timeout);
    c.api.watch.stdin_timeout = c.api.stdin_timeout;  // a WebSocket's stdin messages too
    s.size("watcher_buffer", c.api.watch.buffer);
    s.choice("slow_watchers",
             c.api.watch.on_slow,
             {{"resume", proto::slow_policy::resume}, {"disconnect", proto::slow_policy::disconnect}});
    c.jobs.subscriptions.on_slow = c.api.watch.on_slow;
    s.duration("watcher_defer", c.api.watch.defer_to_jobs);
    auto& subs = c.jobs.subscriptions;
    s.duration("subscription_linger", subs.linger);
    s.integer("subscription_events", subs.max_pending, 1, 10'000'000);
    s.integer("max_subscriptions", subs.max_subscriptions, 1, 10'000'000);
    s.integer("events_kept", subs.events_kept, 0, 10'000'000);
    s.integer("max_batch", c.api.max_batch, 1, 1'000'000);
    // Not set: the page that came with corrald; set to "": no page.
    c.api.web_root = default_web_root();
    s.read("web_root", [&](const toml::node& n) -> std::string {
        if (!n.is_string())
            return "expected a directory path";
        c.api.web_root = *n.value<std::string>();
        std::error_code ec;
        if (!c.api.web_root.empty() && !std::filesystem::is_directory(c.api.web_root, ec))
            return fmt::format("'{}' is not a directory", c.api.web_root);
        return {};
    });
    s.finish();
}

void read_http(toml::table& root, daemon_config& c, std::set<std::string>& labels, problems& p) {
    auto* list = root["http"].as_array();
    if (!list) {
        if (root.contains("http")) {
            p.add(root["http"].node()->source(), "http", "expected [[http]] tables");
        }
        return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto path = fmt::format("http[{}]", i + 1);
        auto* t = (*list)[i].as_table();
        if (!t) {
            p.add((*list)[i].source(), path, "expected a table");
            continue;
        }
        http_config h;
        h.label = fmt::format("http-{}", i + 1);
        section s(t, path, p);
        s.string("label", h.label);
        read_http_keys(s, h.listener, *t, path, p);
        s.finish();
        claim_label(labels, h.label, *t, path, p);
        c.http.push_back(std::move(h));
    }
}

}  // namespace

std::map<std::string, std::string> environment_map(char** envp) {
    std::map<std::string, std::string> env;
    for (char** e = envp; e && *e; ++e) {
        std::string_view entry(*e);
        auto eq = entry.find('=');
        if (eq != std::string_view::npos) {
            env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
        }
    }
    return env;
}

result_info<daemon_config> load_config(const std::string& path,
                                       const std::map<std::string, std::string>& env,
                                       const std::vector<std::string>& components) {
    toml::table root;
    if (!path.empty()) {
        try {
            root = toml::parse_file(path);
        } catch (const toml::parse_error& e) {
            return error_info{
                errc::invalid_argument,
                fmt::format(
                    "{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column, e.description())};
        }
    }
    problems p;
    for (const auto& [key, node] : root) {
        if (key != "pod" && key != "jobs" && key != "api" && key != "store" && key != "http" &&
            key != "auth" && key != "task" && key != "asexor" && key != "wamp" && key != "service" &&
            key != "console" && key != "component" && key != "schedule") {
            p.add(node.source(),
                  key.str(),
                  "unknown section (sections: pod, jobs, api, store, auth, asexor, wamp, [[http]], [[task]], "
                  "[[service]], [[schedule]], [[console]], [[component]])");
        }
    }
    apply_env(root, env, false, p);
    daemon_config c;
    read_pod(root, c, p);
    if (c.state_dir.empty()) {
        c.state_dir = default_state_dir();
    }
    if (!root.contains("http")) {
        toml::array defaults;
        defaults.push_back(toml::table{{"label", "web"}, {"listen", "127.0.0.1:8470"}});
        defaults.push_back(
            toml::table{{"label", "cli"}, {"listen", "unix:" + default_socket_path(c.state_dir)}});
        root.insert("http", std::move(defaults));
    }
    if (!root.contains("console")) {
        toml::array consoles;
        consoles.push_back(toml::table{{"label", "console"}, {"listen", "unix:" + c.state_dir + "/console.sock"}});
        root.insert("console", std::move(consoles));
    }
    for (const auto& argument : components) {
        if (auto added = add_command_line_component(root, argument); !added) {
            p.add(toml::source_region{}, "command line", added.error().what());
        }
    }
    apply_env(root, env, true, p);
    for (const auto& [key, node] : root) {
        std::ostringstream text;
        node.visit([&](const auto& n) { text << n; });
        c.sections[std::string(key.str())] = text.str();
    }
    read_jobs(root, c, p);
    read_store(root, c, p);
    read_api(root, c, p);
    // Names no component label may take (labels may be shared; service names are kept apart).
    std::set<std::string> labels{"pod", "jobs", "api", "store", "services", "asexor", "asexor-websocket", "stdin-console"};
    read_http(root, c, labels, p);
    read_asexor(root, c, labels, p);
    read_wamp(root, c, labels, p);
    read_consoles(root, c, labels, p);
    auto task_defs = read_tasks(root, p);
    c.services = read_services(root, labels, p);
    c.schedules = read_schedules(root, p);
    const auto config_dir = path.empty() ? std::string() : std::filesystem::path(path).parent_path().string();
    read_plugin_components(root, c, labels, config_dir, p);
    auto auth_options = read_auth(root, config_dir, p);
    c.jobs.output.spill_dir = c.state_dir + "/output";
    if (c.store.path.empty()) {
        c.store.path = c.state_dir + "/corral.db";
    } else if (!config_dir.empty() && std::filesystem::path(c.store.path).is_relative()) {
        c.store.path = (std::filesystem::path(config_dir) / c.store.path).string();
    }
    c.store.output_dir = c.jobs.output.spill_dir;
    if (!p.empty()) {
        return error_info{errc::invalid_argument, p.text()};
    }
    auto catalog = tasks::task_catalog::create(std::move(task_defs));
    if (!catalog) {
        p.add({}, "task", catalog.error().what());
    }
    auto authority = auth::authority::create(std::move(auth_options));
    if (!authority) {
        p.add({}, "auth", authority.error().what());
    }
    if (!p.empty()) {
        return error_info{errc::invalid_argument, p.text()};
    }
    if (c.wamp.router.anonymous && authority->options().anonymous_role.empty()) {
        p.add({}, "wamp.anonymous", "anonymous WAMP sessions take auth.anonymous_role, which is not set");
        return error_info{errc::invalid_argument, p.text()};
    }
    c.catalog = std::move(*catalog);
    c.authority = std::move(*authority);
    return c;
}

}  // namespace corral::pod
