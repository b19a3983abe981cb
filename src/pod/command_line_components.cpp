#include "pod/command_line_components.hpp"

#include <fmt/format.h>

namespace corral::pod {
namespace {

error_info bad(std::string_view argument, std::string message) {
    return {make_error_code(errc::invalid_argument), fmt::format("'{}': {}", argument, message)};
}

/// The pairs of `body`, split at unescaped commas and each at its first unescaped '='.
result_info<std::vector<std::pair<std::string, std::string>>> split_pairs(std::string_view argument,
                                                                          std::string_view body) {
    std::vector<std::pair<std::string, std::string>> pairs;
    std::string key, value;
    bool in_value = false;
    auto finish = [&]() -> result_info<void> {
        if (!in_value) {
            return bad(argument, fmt::format("'{}' is not key=value", key));
        }
        if (key.empty()) {
            return bad(argument, "a key is empty");
        }
        for (const auto& [k, v] : pairs) {
            if (k == key) {
                return bad(argument, fmt::format("'{}' is given twice", key));
            }
        }
        pairs.emplace_back(std::move(key), std::move(value));
        key.clear();
        value.clear();
        in_value = false;
        return {};
    };
    for (std::size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (c == '\\' && i + 1 < body.size() && (body[i + 1] == ',' || body[i + 1] == '=' || body[i + 1] == '\\')) {
            (in_value ? value : key) += body[++i];
        } else if (c == ',') {
            if (auto ok = finish(); !ok) {
                return ok.error();
            }
        } else if (c == '=' && !in_value) {
            in_value = true;
        } else {
            (in_value ? value : key) += c;
        }
    }
    if (!body.empty()) {
        if (auto ok = finish(); !ok) {
            return ok.error();
        }
    }
    return pairs;
}

/// `text` as a TOML basic string: "..." with its backslashes, quotes and control characters escaped.
std::string basic_string(std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\u{:04X}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

/// The array at `path` ("http", "asexor.raw"), made when missing.
toml::array* array_at(toml::table& root, std::string_view path) {
    toml::table* parent = &root;
    std::string_view leaf = path;
    if (const auto dot = path.find('.'); dot != std::string_view::npos) {
        const std::string section(path.substr(0, dot));
        if (!root.contains(section)) {
            root.insert(section, toml::table{});
        }
        parent = root[section].as_table();
        leaf = path.substr(dot + 1);
        if (!parent) {
            return nullptr;
        }
    }
    const std::string key(leaf);
    if (!parent->contains(key)) {
        parent->insert(key, toml::array{});
    }
    return (*parent)[key].as_array();
}

}  // namespace

const std::vector<component_kind>& component_kinds() {
    static const std::vector<component_kind> kinds{
        {"http", "the HTTP API, the web page, streams and acons's RPC on one listener",
         "label, listen, tls_cert, tls_key, idle_timeout, write_timeout, max_connections, socket_mode, max_body, "
         "max_header, max_websocket_message, websocket_ping"},
        {"console", "the operator console (docs/console.md)",
         "label, listen, prompt, prompt2, banner, max_line, tls_cert, tls_key, idle_timeout, max_connections"},
        {"service", "a long-running process corrald keeps alive (docs/services.md)",
         "name, command, description, cwd, env, stdin, merge, pty, restart, backoff, backoff_max, backoff_factor, "
         "jitter, give_up_after, healthy_after, ready_socket, ready_port, ready_host, ready_line, ready_timeout, "
         "after, stop, autostart"},
        {"asexor.raw", "ASEXOR's framed CBOR over TCP or a Unix socket (docs/asexor.md)",
         "label, listen, delegated, no_update, max_frame, tls_cert, tls_key, idle_timeout, max_connections"},
        {"asexor.long_poll", "ASEXOR's HTTP long-poll", "label, listen, poll_timeout, session_max_age, session_inactivity"},
        {"wamp.websocket", "the WAMP router over WebSocket", "label, listen, path, cors_origins, max_message"},
        {"wamp.rawsocket", "the WAMP router over RawSocket", "label, listen, max_message"},
        {"component", "a component from a plugin's shared library (docs/plugins.md)",
         "plugin (a path, or a name in the plugin directory), label, and the plugin's own keys"},
    };
    return kinds;
}

result_info<void> add_command_line_component(toml::table& root, std::string_view argument) {
    const auto colon = argument.find(':');
    const auto kind = argument.substr(0, colon);
    const auto known = std::find_if(component_kinds().begin(), component_kinds().end(),
                                    [&](const component_kind& k) { return k.name == kind; });
    if (colon == std::string_view::npos || known == component_kinds().end()) {
        std::vector<std::string_view> names;
        for (const auto& k : component_kinds()) {
            names.push_back(k.name);
        }
        return bad(argument, fmt::format("expected KIND:key=value,... where KIND is one of {} (corrald components "
                                         "lists their keys)",
                                         fmt::join(names, ", ")));
    }
    auto pairs = split_pairs(argument, argument.substr(colon + 1));
    if (!pairs) {
        return pairs.error();
    }
    toml::table table;
    // Problems with these values then name the argument they came from.
    const std::string source = fmt::format("command line: {}", argument);
    for (auto& [key, value] : *pairs) {
        toml::table parsed;
        try {
            parsed = toml::parse("v = " + value, std::string_view(source));
        } catch (const toml::parse_error&) {
            parsed = toml::parse("v = " + basic_string(value), std::string_view(source));  // the text itself
        }
        table.insert_or_assign(key, std::move(*parsed["v"].node()));  // moved: it keeps its source
    }
    auto* list = array_at(root, kind);
    if (!list) {
        return bad(argument, fmt::format("the config's [{}] is not a table", kind.substr(0, kind.find('.'))));
    }
    list->push_back(std::move(table));
    return {};
}

}  // namespace corral::pod
