#include "pod/service_config.hpp"

#include <algorithm>

#include <boost/json/value.hpp>

#include "corral/core/shell_words.hpp"

namespace corral::pod {
namespace {

using services::ready_check;

std::string read_command(const toml::node& n, std::vector<std::string>& out) {
    if (n.is_string()) {
        auto words = split_shell_words(*n.value<std::string>());
        if (!words) {
            return words.error().what();
        }
        out = std::move(*words);
        return {};
    }
    return read_string_list(n, out);
}

std::string read_env(const toml::node& n, proc::environment& env) {
    const auto* t = n.as_table();
    if (!t) {
        return "expected a table of NAME = \"value\"";
    }
    for (const auto& [name, value] : *t) {
        if (!value.is_string()) {
            return fmt::format("{}: expected a string", name.str());
        }
        env.set(std::string(name.str()), *value.value<std::string>());
    }
    return {};
}

void read_readiness(section& s, services::readiness& r, const std::string& path, const toml::table& t, problems& p) {
    int given = 0;
    s.read("ready_socket", [&](const toml::node& n) -> std::string {
        ++given;
        r.kind = ready_check::socket;
        r.socket = n.value_or(std::string());
        return r.socket.empty() ? "expected the socket's path" : "";
    });
    s.read("ready_port", [&](const toml::node& n) -> std::string {
        ++given;
        r.kind = ready_check::port;
        const auto port = n.value<std::int64_t>();
        if (!port || *port < 1 || *port > 65535) {
            return "expected a port number, 1 to 65535";
        }
        r.port = static_cast<unsigned short>(*port);
        return {};
    });
    s.string("ready_host", r.host);
    s.read("ready_line", [&](const toml::node& n) -> std::string {
        ++given;
        r.kind = ready_check::line;
        auto compiled = tasks::pattern::compile(n.value_or(std::string()));
        if (!compiled) {
            return compiled.error().what();
        }
        r.pattern = *compiled;
        return {};
    });
    s.duration("ready_timeout", r.timeout);
    if (given > 1) {
        p.add(t.source(), path, "give at most one of ready_socket, ready_port and ready_line");
    }
}

void read_backoff(section& s, services::backoff_policy& b, const std::string& path, const toml::table& t, problems& p) {
    s.duration("backoff", b.initial);
    s.duration("backoff_max", b.max);
    s.read("backoff_factor", [&](const toml::node& n) -> std::string {
        const auto f = n.value<double>();
        if (!f || *f < 1.0 || *f > 10.0) {
            return "expected a number from 1 to 10";
        }
        b.factor = *f;
        return {};
    });
    s.read("jitter", [&](const toml::node& n) -> std::string {
        const auto f = n.value<double>();
        if (!f || *f < 0.0 || *f > 1.0) {
            return "expected a number from 0 to 1 (a fraction of each delay)";
        }
        b.jitter = *f;
        return {};
    });
    s.integer("give_up_after", b.give_up_after, 0, 1'000'000);
    s.duration("healthy_after", b.reset_after);
    if (b.max < b.initial) {
        p.add(t.source(), path + ".backoff_max", "must not be less than backoff");
    }
}

services::service_def read_service(const toml::table& t, const std::string& path, problems& p) {
    services::service_def d;
    section s(&t, path, p);
    s.string("name", d.name);
    s.string("description", d.description);
    s.read("command", [&](const toml::node& n) { return read_command(n, d.command); });
    s.string("cwd", d.cwd);
    s.read("env", [&](const toml::node& n) { return read_env(n, d.env); });
    s.read("stdin", [&](const toml::node& n) -> std::string {
        const auto v = n.value_or(std::string());
        if (v != "pipe" && v != "none") {
            return "expected \"pipe\" or \"none\"";
        }
        d.stdin_pipe = v == "pipe";
        return {};
    });
    s.boolean("merge", d.merge);
    s.boolean("pty", d.pty);
    s.choice("restart",
             d.restart,
             {{"never", services::restart_policy::never},
              {"on-failure", services::restart_policy::on_failure},
              {"always", services::restart_policy::always}});
    read_backoff(s, d.backoff, path, t, p);
    read_readiness(s, d.ready, path, t, p);
    s.read("after", [&](const toml::node& n) { return read_string_list(n, d.after); });
    s.read("stop", [&](const toml::node& n) -> std::string {
        auto plan = proc::stop_plan::parse(n.value_or(std::string()));
        if (!plan) {
            return plan.error().what();
        }
        d.stop = *plan;
        return {};
    });
    s.boolean("autostart", d.autostart);
    s.finish();
    if (d.name.empty()) {
        p.add(t.source(), path + ".name", "required");
    } else if (d.name.find_first_of("/ \t") != std::string::npos) {
        p.add(t.source(), path + ".name", "may not contain '/' or blanks (it is part of URLs)");
    }
    if (d.command.empty()) {
        p.add(t.source(), path + ".command", "required: the program and its arguments");
    }
    return d;
}

}  // namespace

std::vector<services::service_def> read_services(toml::table& root, std::set<std::string>& labels, problems& p) {
    std::vector<services::service_def> out;
    const auto* node = root.get("service");
    if (!node) {
        return out;
    }
    const auto* list = node->as_array();
    if (!list) {
        p.add(node->source(), "service", "expected [[service]] tables");
        return out;
    }
    bool complete = true;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto path = fmt::format("service[{}]", i + 1);
        const auto* t = (*list)[i].as_table();
        if (!t) {
            p.add((*list)[i].source(), path, "expected a table");
            complete = false;
            continue;
        }
        auto d = read_service(*t, path, p);
        if (!d.name.empty() && !labels.insert("service:" + d.name).second) {
            p.add(t->source(), path + ".name", fmt::format("service '{}' is defined twice", d.name));
            complete = false;
        }
        out.push_back(std::move(d));
    }
    if (complete) {
        if (auto order = services::start_order(out); !order) {
            p.add(node->source(), "service", order.error().what());
        }
    }
    return out;
}

namespace {

/// A JSON value as the TOML node [[service]] would hold (the keys decide what they accept).

std::string to_toml(const boost::json::value& v, toml::array& out_array, toml::table* out_table, std::string_view key) {
    auto put = [&](auto&& node) {
        if (out_table) {
            out_table->insert_or_assign(key, std::forward<decltype(node)>(node));
        } else {
            out_array.push_back(std::forward<decltype(node)>(node));
        }
    };
    switch (v.kind()) {
        case boost::json::kind::string:
            put(std::string(v.get_string()));
            return {};
        case boost::json::kind::int64:
            put(v.get_int64());
            return {};
        case boost::json::kind::uint64:
            if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) {
                return fmt::format("{}: too large", key);
            }
            put(static_cast<std::int64_t>(v.get_uint64()));
            return {};
        case boost::json::kind::double_:
            put(v.get_double());
            return {};
        case boost::json::kind::bool_:
            put(v.get_bool());
            return {};
        case boost::json::kind::array: {
            toml::array a;
            for (const auto& item : v.get_array()) {
                if (auto e = to_toml(item, a, nullptr, key); !e.empty()) {
                    return e;
                }
            }
            put(std::move(a));
            return {};
        }
        case boost::json::kind::object: {
            toml::table t;
            toml::array unused;
            for (const auto& [k, item] : v.get_object()) {
                if (auto e = to_toml(item, unused, &t, k); !e.empty()) {
                    return e;
                }
            }
            put(std::move(t));
            return {};
        }
        case boost::json::kind::null:
            break;
    }
    return fmt::format("{}: null is not a value (leave the key out)", key);
}

}  // namespace

result_info<services::service_def> parse_service(const boost::json::object& body) {
    toml::table t;
    toml::array unused;
    for (const auto& [key, value] : body) {
        if (auto e = to_toml(value, unused, &t, key); !e.empty()) {
            return error_info{errc::invalid_argument, e};
        }
    }
    problems p;
    auto def = read_service(t, "", p);
    if (!p.empty()) {
        // "config: .restart: ..." as "restart: ..." (the body has no file, and no path above it).
        const auto text = p.text();
        std::string out;
        // A plain loop, not std::views::split: clang 14 (the fuzz build) cannot use libstdc++ 12's ranges.
        for (std::size_t start = 0; start <= text.size();) {
            const auto end = std::min(text.find('\n', start), text.size());
            std::string_view line(text.data() + start, end - start);
            start = end + 1;
            if (line.starts_with("config: ")) {
                line.remove_prefix(8);
            }
            if (line.starts_with('.')) {
                line.remove_prefix(1);
            }
            out += out.empty() ? "" : "; ";
            out += line;
        }
        return error_info{errc::invalid_argument, out};
    }
    return def;
}

}  // namespace corral::pod
