#pragma once
// What several fuzzers share: JSON parsed as corrald parses request bodies, and a task catalog with an
// argument of every type and style, read through corrald's config loader.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json/parse.hpp>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include "corral/pod/daemon_config.hpp"

namespace corral::fuzz {

/// The input as JSON, with the router's depth limit; nullopt when it is not JSON.
inline std::optional<boost::json::value> parse_json(const std::uint8_t* data, std::size_t size) {
    boost::json::parse_options options;
    options.max_depth = 32;
    boost::system::error_code ec;
    auto v = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec, {}, options);
    if (ec) {
        return std::nullopt;
    }
    return v;
}

inline constexpr const char* catalog_toml = R"toml(
[[task]]
name = "typed"
command = ["/bin/echo", "{count}", "--ratio={ratio}", "{name}", "{path}"]
result = "regex"
result_pattern = "(\\d+) (\\w+)"
result_fields = ["n", "word"]
[[task.args]]
name = "count"
type = "int"
min = 0
max = 1000
required = true
[[task.args]]
name = "ratio"
type = "float"
style = "option="
flag = "--ratio"
[[task.args]]
name = "flag"
type = "bool"
style = "switch"
flag = "-f"
[[task.args]]
name = "mode"
type = "enum"
choices = ["fast", "slow"]
[[task.args]]
name = "name"
type = "pattern"
pattern = "[a-z][a-z0-9_-]{0,30}"
[[task.args]]
name = "path"
type = "path"
within = "/srv/data"
[[task.args]]
name = "free"
type = "string"
prefix = "+"
max_length = 64

[[task]]
name = "table"
command = ["/bin/ls", "-l"]
result = "table"

[[task]]
name = "steps"
steps = [{ task = "table" }, { task = "typed", args = { count = 1 } }]
on_failure = "continue"
)toml";

/// The catalog of catalog_toml (throws when the config does not load: a bug in the fuzzer).
inline const tasks::task_catalog& catalog() {
    static const tasks::task_catalog c = [] {
        char path[] = "/tmp/corral-fuzz-XXXXXX.toml";
        const int fd = ::mkstemps(path, 5);
        std::ofstream(path) << "[pod]\nstate_dir = \"/tmp/corral-fuzz-state\"\n" << catalog_toml;
        ::close(fd);
        auto config = pod::load_config(path, {});
        std::remove(path);
        if (!config) {
            throw std::runtime_error(config.error().what());
        }
        return config->catalog;
    }();
    return c;
}

}  // namespace corral::fuzz
