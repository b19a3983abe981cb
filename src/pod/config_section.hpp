#pragma once

// Reading TOML config tables with every problem reported at once (daemon_config.cpp, task_config.cpp).

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "corral/core/parse.hpp"

namespace corral::pod {

/// Every problem found, with where it came from.
class problems {
  public:
    void add(const toml::source_region& where, std::string_view key, std::string_view message) {
        std::string origin = where.path ? *where.path : std::string("config");
        if (where.begin.line > 0 && !(where.path && (where.path->starts_with("CORRAL_") ||
                                                     where.path->starts_with("command line")))) {
            origin += fmt::format(":{}", where.begin.line);
        }
        lines_.push_back(fmt::format("{}: {}: {}", origin, key, message));
    }
    bool empty() const { return lines_.empty(); }
    std::string text() const { return fmt::format("{}", fmt::join(lines_, "\n")); }

  private:
    std::vector<std::string> lines_;
};

inline std::string_view type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        default:
            return "a date or time";
    }
}

/// An array of strings into `out`; the problem when `n` is something else.
inline std::string read_string_list(const toml::node& n, std::vector<std::string>& out) {
    const auto* a = n.as_array();
    if (!a || (!a->empty() && !a->is_homogeneous(toml::node_type::string)))
        return fmt::format("expected an array of strings, got {}", type_name(n));
    out.clear();
    for (const auto& item : *a) {
        out.push_back(*item.value<std::string>());
    }
    return {};
}

/// Reads typed keys from one table and remembers which it used, so the rest are reported unknown.
class section {
  public:
    section(const toml::table* t, std::string path, problems& p)
        : table_(t), path_(std::move(path)), problems_(p) {}

    template <class F>
    void read(std::string_view key, F&& apply) {
        used_.insert(std::string(key));
        const toml::node* n = table_ ? table_->get(key) : nullptr;
        if (!n) {
            return;
        }
        std::string error = apply(*n);
        if (!error.empty()) {
            problems_.add(n->source(), fmt::format("{}{}", prefix(), key), error);
        }
    }

    void string(std::string_view key, std::string& out) {
        read(key, [&](const toml::node& n) -> std::string {
            if (!n.is_string())
                return fmt::format("expected a string, got {}", type_name(n));
            out = *n.value<std::string>();
            return {};
        });
    }
    void boolean(std::string_view key, bool& out) {
        read(key, [&](const toml::node& n) -> std::string {
            if (!n.is_boolean())
                return fmt::format("expected true or false, got {}", type_name(n));
            out = *n.value<bool>();
            return {};
        });
    }
    template <class Int>
    void integer(std::string_view key, Int& out, std::int64_t min, std::int64_t max) {
        read(key, [&](const toml::node& n) -> std::string {
            if (!n.is_integer())
                return fmt::format("expected a whole number, got {}", type_name(n));
            auto v = *n.value<std::int64_t>();
            if (v < min || v > max)
                return fmt::format("{} is out of range ({} to {})", v, min, max);
            out = static_cast<Int>(v);
            return {};
        });
    }
    template <class Duration>
    void duration(std::string_view key, Duration& out) {
        read(key, [&](const toml::node& n) -> std::string {
            std::string text = n.is_string()   ? *n.value<std::string>()
                               : n.is_number() ? fmt::format("{}", *n.value<double>())
                                               : "";
            if (text.empty())
                return fmt::format("expected a duration such as \"10s\", got {}", type_name(n));
            auto d = parse_duration(text);
            if (!d)
                return d.error().what();
            out = std::chrono::duration_cast<Duration>(*d);
            return {};
        });
    }
    template <class Int>
    void size(std::string_view key, Int& out) {
        read(key, [&](const toml::node& n) -> std::string {
            std::string text = n.is_string()    ? *n.value<std::string>()
                               : n.is_integer() ? fmt::format("{}", *n.value<std::int64_t>())
                                                : "";
            if (text.empty())
                return fmt::format("expected a size such as \"64MiB\", got {}", type_name(n));
            auto s = parse_size(text);
            if (!s)
                return s.error().what();
            out = static_cast<Int>(*s);
            return {};
        });
    }
    template <class Enum>
    void choice(std::string_view key,
                Enum& out,
                std::initializer_list<std::pair<std::string_view, Enum>> options) {
        read(key, [&](const toml::node& n) -> std::string {
            std::vector<std::string_view> names;
            for (const auto& [name, value] : options) {
                if (n.is_string() && *n.value<std::string>() == name) {
                    out = value;
                    return {};
                }
                names.push_back(name);
            }
            return fmt::format("expected one of \"{}\"", fmt::join(names, "\", \""));
        });
    }

    /// Reports every key nobody read.
    void finish() {
        if (!table_) {
            return;
        }
        for (const auto& [key, node] : *table_) {
            if (!used_.count(std::string(key.str()))) {
                problems_.add(node.source(), fmt::format("{}{}", prefix(), key.str()), "unknown key");
            }
        }
    }

  private:
    std::string prefix() const { return path_.empty() ? "" : path_ + "."; }
    const toml::table* table_;
    std::string path_;
    problems& problems_;
    std::set<std::string> used_;
};

/**
 * A component's label. Several components may share one (os-aio-pod's labels): a signal aimed at it
 * reaches each of them, and a CORRAL_<LABEL>__KEY override sets the key in each. `reserved` holds the
 * names of corrald's own sections and components, which no label may take.
 */
inline void claim_label(const std::set<std::string>& reserved,
                        std::string_view label,
                        const toml::table& t,
                        const std::string& path,
                        problems& p) {
    if (label.empty()) {
        p.add(t.source(), path + ".label", "may not be empty");
    } else if (reserved.count(std::string(label))) {
        p.add(t.source(), path + ".label", fmt::format("'{}' is the name of one of corrald's own components", label));
    }
}

}  // namespace corral::pod
