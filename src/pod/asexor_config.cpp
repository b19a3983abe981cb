#include "pod/asexor_config.hpp"

#include "pod/listener_config.hpp"

namespace corral::pod {
namespace {

/// Each table of the array `key` in `asexor`, with its path ("asexor.raw[1]").
template <class F>
void each_listener(const toml::table& parent, std::string_view name, std::string_view key, problems& p, F&& read_one) {
    const auto* node = parent.get(key);
    if (!node) {
        return;
    }
    const auto* list = node->as_array();
    if (!list) {
        p.add(node->source(), fmt::format("{}.{}", name, key), fmt::format("expected [[{}.{}]] tables", name, key));
        return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto path = fmt::format("{}.{}[{}]", name, key, i + 1);
        if (const auto* t = (*list)[i].as_table()) {
            read_one(*t, path, i + 1);
        } else {
            p.add((*list)[i].source(), path, "expected a table");
        }
    }
}

void need_listen(const toml::table& t, const std::string& path, problems& p) {
    if (!t.contains("listen")) {
        p.add(t.source(), path + ".listen", "required: where to listen, \"127.0.0.1:PORT\" or \"unix:/path\"");
    }
}

void unique_label(const std::string& label, const toml::table& t, const std::string& path, std::set<std::string>& labels, problems& p) {
    claim_label(labels, label, t, path, p);
}

}  // namespace

void read_asexor(toml::table& root, daemon_config& c, std::set<std::string>& labels, problems& p) {
    const auto* node = root.get("asexor");
    if (!node) {
        return;
    }
    const auto* table = node->as_table();
    if (!table) {
        p.add(node->source(), "asexor", "expected an [asexor] table");
        return;
    }
    auto& a = c.asexor;
    a.websocket = true;
    section s(table, "asexor", p);
    s.boolean("websocket", a.websocket);
    s.read("websocket_path", [&](const toml::node& n) -> std::string {
        if (!n.is_string() || !n.value<std::string>()->starts_with('/') || n.value<std::string>()->ends_with('/'))
            return "expected a path such as \"/ws\"";
        a.ws.path = *n.value<std::string>();
        return {};
    });
    s.duration("inactive_timeout", a.ws.inactive_timeout);
    s.read("raw", [](const toml::node&) { return std::string(); });
    s.read("long_poll", [](const toml::node&) { return std::string(); });
    s.finish();
    if (a.ws.inactive_timeout.count() <= 0) {
        p.add(table->source(), "asexor.inactive_timeout", "must be at least 1s");
    }

    each_listener(*table, "asexor", "raw", p, [&](const toml::table& t, const std::string& path, std::size_t n) {
        asexor_raw_config r;
        r.label = fmt::format("asexor-raw-{}", n);
        section rs(&t, path, p);
        rs.string("label", r.label);
        read_stream_keys(rs, r.listener, t, path, p);
        rs.boolean("delegated", r.raw.delegated);
        rs.boolean("no_update", r.raw.no_update);
        rs.size("max_frame", r.raw.max_frame);
        rs.finish();
        need_listen(t, path, p);
        if (r.raw.max_frame < 1 || r.raw.max_frame > proto::asexor::max_frame_payload) {
            p.add(t.source(), path + ".max_frame", "must be 1 byte to 16MiB less one byte (a frame's length has 24 bits)");
        }
        unique_label(r.label, t, path, labels, p);
        a.raw.push_back(std::move(r));
    });

    each_listener(*table, "asexor", "long_poll", p, [&](const toml::table& t, const std::string& path, std::size_t n) {
        asexor_long_poll_config l;
        l.label = fmt::format("asexor-long-poll-{}", n);
        section ls(&t, path, p);
        ls.string("label", l.label);
        read_http_keys(ls, l.listener, t, path, p);
        ls.duration("poll_timeout", l.poll.poll_timeout);
        ls.duration("session_max_age", l.poll.session_max_age);
        ls.duration("session_inactivity", l.poll.session_inactivity);
        ls.integer("max_sessions", l.poll.max_sessions, 1, 10'000'000);
        ls.read("cors_origins", [&](const toml::node& v) -> std::string {
            if (auto bad = read_string_list(v, l.cors_origins); !bad.empty())
                return bad;
            for (const auto& origin : l.cors_origins) {
                if (auto why = proto::check_cors_origin(origin); !why.empty())
                    return why;
            }
            return {};
        });
        ls.finish();
        need_listen(t, path, p);
        if (l.poll.poll_timeout.count() <= 0 || l.poll.session_max_age.count() <= 0 ||
            l.poll.session_inactivity.count() <= 0) {
            p.add(t.source(), path, "poll_timeout, session_max_age and session_inactivity must be at least 1s");
        }
        // The poll must end before the connection idles out.
        if (l.listener.idle_timeout <= l.poll.poll_timeout) {
            l.listener.idle_timeout = l.poll.poll_timeout + std::chrono::seconds(30);
        }
        unique_label(l.label, t, path, labels, p);
        a.long_poll.push_back(std::move(l));
    });
}

void read_wamp(toml::table& root, daemon_config& c, std::set<std::string>& labels, problems& p) {
    const auto* node = root.get("wamp");
    if (!node) {
        return;
    }
    const auto* table = node->as_table();
    if (!table) {
        p.add(node->source(), "wamp", "expected a [wamp] table");
        return;
    }
    auto& w = c.wamp;
    w.enabled = true;
    section s(table, "wamp", p);
    auto uri = [&](std::string_view key, std::string& out) {
        s.read(key, [&](const toml::node& n) -> std::string {
            if (!n.is_string() || !proto::wamp::valid_uri(*n.value<std::string>()))
                return "expected a URI such as \"eu.zderadicka.asexor.run_task\"";
            out = *n.value<std::string>();
            return {};
        });
    };
    uri("realm", w.router.realm);
    uri("run_task", w.router.run_task);
    uri("task_update", w.router.task_update);
    s.boolean("anonymous", w.router.anonymous);
    s.integer("max_queued", w.router.max_queued, 1, 10'000'000);
    s.read("websocket", [](const toml::node&) { return std::string(); });
    s.read("rawsocket", [](const toml::node&) { return std::string(); });
    s.finish();
    each_listener(*table, "wamp", "websocket", p, [&](const toml::table& t, const std::string& path, std::size_t n) {
        wamp_websocket_config l;
        l.label = fmt::format("wamp-websocket-{}", n);
        section ls(&t, path, p);
        ls.string("label", l.label);
        read_http_keys(ls, l.listener, t, path, p);
        ls.read("path", [&](const toml::node& v) -> std::string {
            if (!v.is_string() || !v.value<std::string>()->starts_with('/') || v.value<std::string>()->ends_with('/'))
                return "expected a path such as \"/ws\"";
            l.path = *v.value<std::string>();
            return {};
        });
        ls.read("cors_origins", [&](const toml::node& v) -> std::string {
            if (auto bad = read_string_list(v, l.cors_origins); !bad.empty())
                return bad;
            for (const auto& origin : l.cors_origins) {
                if (auto why = proto::check_cors_origin(origin); !why.empty())
                    return why;
            }
            return {};
        });
        ls.finish();
        need_listen(t, path, p);
        unique_label(l.label, t, path, labels, p);
        w.websocket.push_back(std::move(l));
    });

    each_listener(*table, "wamp", "rawsocket", p, [&](const toml::table& t, const std::string& path, std::size_t n) {
        wamp_rawsocket_config r;
        r.label = fmt::format("wamp-rawsocket-{}", n);
        section rs(&t, path, p);
        rs.string("label", r.label);
        read_stream_keys(rs, r.listener, t, path, p);
        rs.size("max_message", r.max_message);
        rs.finish();
        need_listen(t, path, p);
        if (r.max_message < 512 || r.max_message > proto::asexor::max_frame_payload) {
            p.add(t.source(), path + ".max_message", "must be 512 bytes to 16MiB less one byte");
        }
        unique_label(r.label, t, path, labels, p);
        w.rawsocket.push_back(std::move(r));
    });
}

}  // namespace corral::pod
