#include "pod/plugin_config.hpp"

#include <boost/asio/io_context.hpp>

#include "corral/pod/daemon_config.hpp"
#include "net/endpoint.hpp"
#include "pod/plugin_loader.hpp"

namespace corral::pod {
namespace {

/// A plugin's keys, read from its table through section (typed, with file and line in every problem;
/// keys it never asks for are reported unknown).
class table_options final : public plugin::component_options {
  public:
    table_options(const toml::table& t, section& s, std::string path, problems& p)
        : table_(t), section_(s), path_(std::move(path)), problems_(p) {}

    bool has(std::string_view key) const override { return table_.contains(key); }
    std::string string(std::string_view key, std::string fallback) override {
        section_.string(key, fallback);
        return fallback;
    }
    std::int64_t integer(std::string_view key,
                         std::int64_t fallback,
                         std::int64_t min,
                         std::int64_t max) override {
        section_.integer(key, fallback, min, max);
        return fallback;
    }
    bool boolean(std::string_view key, bool fallback) override {
        section_.boolean(key, fallback);
        return fallback;
    }
    std::chrono::milliseconds duration(std::string_view key, std::chrono::milliseconds fallback) override {
        section_.duration(key, fallback);
        return fallback;
    }
    std::uint64_t size(std::string_view key, std::uint64_t fallback) override {
        section_.size(key, fallback);
        return fallback;
    }
    std::vector<std::string> strings(std::string_view key, std::vector<std::string> fallback) override {
        section_.read(key, [&](const toml::node& n) { return read_string_list(n, fallback); });
        return fallback;
    }
    std::string tcp_endpoint(std::string_view key, std::string fallback) override {
        section_.read(key, [&](const toml::node& n) -> std::string {
            if (!n.is_string()) {
                return fmt::format("expected a string such as \"127.0.0.1:7000\", got {}", type_name(n));
            }
            const auto text = *n.value<std::string>();
            auto ep = sockets::parse_endpoint(text);
            if (!ep) {
                return ep.error().what();
            }
            if (!std::holds_alternative<net::ip::tcp::endpoint>(*ep)) {
                return fmt::format("'{}': expected a TCP endpoint HOST:PORT", text);
            }
            fallback = text;
            return {};
        });
        return fallback;
    }
    void problem(std::string_view key, std::string_view message) override {
        const auto* n = table_.get(key);
        problems_.add(n ? n->source() : table_.source(), fmt::format("{}.{}", path_, key), message);
    }

  private:
    const toml::table& table_;
    section& section_;
    std::string path_;
    problems& problems_;
};

/// Makes the component of `t` with `plugin`, reporting every problem with its keys into `p`.
std::unique_ptr<plugin::component> make_component(const loaded_plugin& plugin,
                                                  const toml::table& t,
                                                  const std::string& path,
                                                  const plugin::component_context& context,
                                                  problems& p) {
    section s(&t, path, p);
    std::string ignored;
    s.string("plugin", ignored);
    s.string("label", ignored);
    table_options options(t, s, path, p);
    std::unique_ptr<plugin::component> made;
    try {
        made = plugin.info->create(context, options);
    } catch (const std::exception& e) {
        p.add(t.source(),
              path,
              fmt::format("plugin {} could not make its component: {}", plugin.info->name, e.what()));
        return nullptr;
    }
    s.finish();
    if (!made && p.empty()) {
        p.add(t.source(), path, fmt::format("plugin {} made no component", plugin.info->name));
    }
    return made;
}

}  // namespace

void read_plugin_components(toml::table& root,
                            daemon_config& c,
                            std::set<std::string>& labels,
                            const std::string& config_dir,
                            problems& p) {
    const auto* node = root.get("component");
    if (!node) {
        return;
    }
    const auto* list = node->as_array();
    if (!list) {
        p.add(node->source(), "component", "expected [[component]] tables");
        return;
    }
    net::io_context scratch;  // for the components made only to validate their keys
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto path = fmt::format("component[{}]", i + 1);
        const auto* t = (*list)[i].as_table();
        if (!t) {
            p.add((*list)[i].source(), path, "expected a table");
            continue;
        }
        const auto* name = t->get("plugin");
        if (!name || !name->is_string() || name->value_or(std::string()).empty()) {
            p.add(name ? name->source() : t->source(),
                  path + ".plugin",
                  "required: the plugin's shared library, a path or a name in the plugin directory");
            continue;
        }
        auto loaded = load_plugin(resolve_plugin_path(*name->value<std::string>(), config_dir));
        if (!loaded) {
            p.add(name->source(), path + ".plugin", loaded.error().what());
            continue;
        }
        plugin_component_config pc;
        pc.kind = (*loaded)->info->name;
        pc.path = (*loaded)->path;
        pc.label = t->get("label") ? t->get("label")->value_or(pc.kind) : pc.kind;
        {
            plugin::component_context check{
                scratch.get_executor(), scratch.get_executor(), pc.label, 0, c.state_dir, {}};
            make_component(**loaded, *t, path, check, p);
        }
        claim_label(labels, pc.label, *t, path, p);
        pc.make =
            [plugin = *loaded, table = std::make_shared<const toml::table>(*t), path](
                const plugin::component_context& context) -> result_info<std::unique_ptr<plugin::component>> {
            problems again;
            auto made = make_component(*plugin, *table, path, context, again);
            if (!again.empty() || !made) {
                return error_info{errc::invalid_argument, again.text()};
            }
            return made;
        };
        c.components.push_back(std::move(pc));
    }
}

}  // namespace corral::pod
