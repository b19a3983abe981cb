#include "pod/plugin_loader.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <map>
#include <vector>

#include <fmt/format.h>

namespace corral::pod {
namespace {

namespace fs = std::filesystem;

std::string own_directory() {
    std::array<char, 4096> self{};
    const auto n = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
    if (n <= 0) {
        return {};
    }
    return fs::path(std::string(self.data(), static_cast<std::size_t>(n))).parent_path().string();
}

error_info cannot(const std::string& path, std::string why) {
    return error_info{errc::invalid_argument, fmt::format("plugin {}: {}", path, why)};
}

}  // namespace

std::vector<std::string> plugin_search_dirs() {
    std::vector<std::string> dirs;
    if (auto self = own_directory(); !self.empty()) {
        dirs.push_back(fs::weakly_canonical(fs::path(self) / CORRAL_PLUGINS_RELATIVE_TO_BIN).string());
    }
    dirs.emplace_back(CORRAL_PLUGINS_BUILD_DIR);
    return dirs;
}

std::string resolve_plugin_path(const std::string& name, const std::string& config_dir) {
    if (name.find('/') != std::string::npos) {
        fs::path p(name);
        if (p.is_relative() && !config_dir.empty()) {
            p = fs::path(config_dir) / p;
        }
        return p.lexically_normal().string();
    }
    for (const auto& dir : plugin_search_dirs()) {
        std::error_code ec;
        if (fs::is_regular_file(fs::path(dir) / name, ec)) {
            return (fs::path(dir) / name).string();
        }
    }
    return name;  // load_plugin says it was not found, and where it looked
}

result_info<std::shared_ptr<const loaded_plugin>> load_plugin(const std::string& path) {
    // One load per path: `corrald check` and the run that follows, or two components of one plugin.
    static std::map<std::string, std::shared_ptr<const loaded_plugin>> loaded;
    if (auto it = loaded.find(path); it != loaded.end()) {
        return it->second;
    }
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        if (path.find('/') == std::string::npos) {
            return cannot(path,
                          fmt::format("not found (a bare name is looked for in {}; give a path to load one "
                                      "from elsewhere)",
                                      fmt::join(plugin_search_dirs(), " and ")));
        }
        return cannot(path, "no such file");
    }
    // RTLD_LOCAL: plugins do not see each other's symbols. Their undefined ones (Asio's, libcorral's)
    // resolve against corrald, which exports its own (ENABLE_EXPORTS).
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        return cannot(path, fmt::format("cannot be loaded: {}", why ? why : "unknown reason"));
    }
    using abi_fn = const char* (*)();
    using info_fn = const plugin::plugin_info* (*)();
    auto abi = reinterpret_cast<abi_fn>(::dlsym(handle, "corral_plugin_abi"));
    if (!abi) {
        ::dlclose(handle);
        return cannot(path,
                      "is not a corral plugin (it exports no corral_plugin_abi: see CORRAL_PLUGIN in "
                      "corral/plugin/plugin.hpp)");
    }
    const std::string theirs = abi() ? abi() : "";
    if (theirs != CORRAL_PLUGIN_ABI_TAG) {
        ::dlclose(handle);
        return cannot(path,
                      fmt::format("was built for '{}', and this corrald takes '{}': rebuild it against this "
                                  "corral's headers",
                                  theirs,
                                  CORRAL_PLUGIN_ABI_TAG));
    }
    auto info = reinterpret_cast<info_fn>(::dlsym(handle, "corral_plugin"));
    const auto* i = info ? info() : nullptr;
    if (!i || !i->name || !*i->name || !i->create) {
        ::dlclose(handle);
        return cannot(path, "exports no complete plugin_info (a name and a create function are required)");
    }
    auto p = std::make_shared<const loaded_plugin>(loaded_plugin{path, i});
    loaded.emplace(path, p);
    return p;
}

}  // namespace corral::pod
