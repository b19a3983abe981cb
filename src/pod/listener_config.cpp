#include "pod/listener_config.hpp"

#include "net/endpoint.hpp"

namespace corral::pod {

void read_stream_keys(section& s, sockets::stream_options& o, const toml::table& where, const std::string& path, problems& p) {
    s.read("listen", [&](const toml::node& n) -> std::string {
        if (!n.is_string())
            return fmt::format("expected a string such as \"127.0.0.1:8470\" or \"unix:/path\", got {}",
                               type_name(n));
        auto ep = sockets::parse_endpoint(*n.value<std::string>());
        if (!ep)
            return ep.error().what();
        o.endpoint = *n.value<std::string>();
        return {};
    });
    s.string("tls_cert", o.tls_cert);
    s.string("tls_key", o.tls_key);
    s.duration("idle_timeout", o.idle_timeout);
    s.duration("write_timeout", o.write_timeout);
    s.integer("max_connections", o.max_connections, 1, 1'000'000);
    s.integer("socket_mode", o.socket_mode, 0, 0777);
    if (o.tls_cert.empty() != o.tls_key.empty()) {
        p.add(where.source(), path, "TLS needs both tls_cert and tls_key");
    }
}

void read_http_keys(section& s, http::listener_options& o, const toml::table& where, const std::string& path, problems& p) {
    read_stream_keys(s, o, where, path, p);
    s.size("max_body", o.max_body);
    s.size("max_header", o.max_header);
    s.size("max_websocket_message", o.max_websocket_message);
    s.duration("websocket_ping", o.websocket_ping);
}

}  // namespace corral::pod
