#include "pod/console_config.hpp"

#include "corral/pod/daemon_config.hpp"
#include "pod/listener_config.hpp"

namespace corral::pod {

void read_consoles(toml::table& root, daemon_config& c, std::set<std::string>& labels, problems& p) {
    const auto* node = root.get("console");
    if (!node) {
        return;
    }
    const auto* list = node->as_array();
    if (!list) {
        p.add(node->source(), "console", "expected [[console]] tables");
        return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto path = fmt::format("console[{}]", i + 1);
        const auto* t = (*list)[i].as_table();
        if (!t) {
            p.add((*list)[i].source(), path, "expected a table");
            continue;
        }
        console_config con;
        con.label = list->size() == 1 ? "console" : fmt::format("console-{}", i + 1);
        section s(t, path, p);
        s.string("label", con.label);
        read_stream_keys(s, con.listener, *t, path, p);
        s.string("prompt", con.prompts.ps1);
        s.string("prompt2", con.prompts.ps2);
        s.read("banner", [&](const toml::node& n) -> std::string {
            if (!n.is_string()) {
                return "expected a string";
            }
            con.prompts.banner = *n.value<std::string>();
            return {};
        });
        s.size("max_line", con.max_line);
        s.finish();
        if (!t->contains("listen")) {
            p.add(t->source(), path + ".listen", "required: where to listen, \"127.0.0.1:PORT\" or \"unix:/path\"");
        }
        if (con.max_line < 80 || con.max_line > (16u << 20)) {
            p.add(t->source(), path + ".max_line", "must be 80 bytes to 16MiB");
        }
        claim_label(labels, con.label, *t, path, p);
        c.consoles.push_back(std::move(con));
    }
}

}  // namespace corral::pod
