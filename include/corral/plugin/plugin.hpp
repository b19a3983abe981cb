#pragma once
// A component from a shared library: `[[component]] plugin = "libname.so"` in corrald's config
// (docs/plugins.md). A plugin fills in a plugin_info and exports it with CORRAL_PLUGIN; corrald checks
// the ABI tag before it touches anything else, reads the plugin's keys through component_options (so
// they are validated, and reported, like the rest of the config), then creates its component.
//
// Build one against an installed corral with find_package(corral) and corral::plugin; it needs no
// library of its own: Asio and libcorral's code come from corrald, which exports them.

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <boost/version.hpp>

#include "corral/core/asio.hpp"
#include "corral/plugin/component.hpp"

namespace corral::plugin {

/// Bumped whenever component, component_context, component_options or plugin_info change shape.
inline constexpr int api_version = 1;

#define CORRAL_PLUGIN_STR_(x) #x
#define CORRAL_PLUGIN_STR(x) CORRAL_PLUGIN_STR_(x)
/// What a plugin was built against: the plugin API, Boost (Asio's types cross the boundary) and the
/// C++ ABI. corrald loads a plugin only when its tag is exactly corrald's own.
#define CORRAL_PLUGIN_ABI_TAG                                                                \
    "corral-plugin/1 boost/" CORRAL_PLUGIN_STR(BOOST_VERSION) " gxx-abi/" CORRAL_PLUGIN_STR( \
        __GXX_ABI_VERSION) " cxx11-abi/" CORRAL_PLUGIN_STR(_GLIBCXX_USE_CXX11_ABI)

enum class log_level { debug, info, warn, error };

/// What corrald gives a plugin's component.
struct component_context {
    /// The core's executor: every call on the component comes from it, and its coroutines run on it.
    net::any_io_executor executor;
    /// A thread for work that blocks (file I/O): corral::run_blocking(blocking, fn).
    net::any_io_executor blocking;
    /// Its label (`[[component]] label`), and its id in the pod.
    std::string label;
    int id = 0;
    /// corrald's state directory (a plugin may keep files under it).
    std::string state_dir;
    /// Writes to corrald's log, prefixed with the component's label.
    std::function<void(log_level, std::string_view)> log;
};

/**
 * The component's keys from its `[[component]]` table (or `component:plugin=...,key=value` on the
 * command line). Each getter returns the value, or `fallback` when the key is absent; a value of the
 * wrong type is reported (with its file and line) and `fallback` returned. Keys the plugin never asks
 * for are reported as unknown, so a typo is an error, not a silent default.
 */
class component_options {
  public:
    virtual ~component_options() = default;
    virtual bool has(std::string_view key) const = 0;
    virtual std::string string(std::string_view key, std::string fallback) = 0;
    virtual std::int64_t integer(std::string_view key,
                                 std::int64_t fallback,
                                 std::int64_t min,
                                 std::int64_t max) = 0;
    virtual bool boolean(std::string_view key, bool fallback) = 0;
    /// "10s", "250ms", "1m30s", or seconds as a number.
    virtual std::chrono::milliseconds duration(std::string_view key, std::chrono::milliseconds fallback) = 0;
    /// "64KiB", "1MiB", or bytes as a number.
    virtual std::uint64_t size(std::string_view key, std::uint64_t fallback) = 0;
    virtual std::vector<std::string> strings(std::string_view key, std::vector<std::string> fallback) = 0;
    /// A TCP endpoint "HOST:PORT" (an IP address; port 0 picks a free one), checked.
    virtual std::string tcp_endpoint(std::string_view key, std::string fallback) = 0;
    /// A problem of the plugin's own ("must be a directory"), reported with the others.
    virtual void problem(std::string_view key, std::string_view message) = 0;
    /// `problem(key, "required: ...")` unless the key is there.
    bool require(std::string_view key, std::string_view what) {
        if (has(key)) {
            return true;
        }
        problem(key, std::string("required: ").append(what));
        return false;
    }
};

/// What the three shapes (simple_server, tcp_server, producer_consumer) share: the context, and the
/// log written through it.
class component_base : public component {
  protected:
    explicit component_base(component_context context) : context_(std::move(context)) {}
    const component_context& context() const { return context_; }
    void log(log_level level, std::string_view message) const {
        if (context_.log) {
            context_.log(level, message);
        }
    }

  private:
    component_context context_;
};

/**
 * Why one of a component's coroutines ended badly, for component::failed(): empty when it did not
 * (it returned, or a cancellation asked for by a stop ended it), else "WHAT failed: why".
 */
inline std::string failure_of(std::exception_ptr e, bool stopping, std::string_view what) {
    if (!e) {
        return {};
    }
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& error) {
        if (error.code() == net::error::operation_aborted && stopping) {
            return {};
        }
        return std::string(what) + " failed: " + error.what();
    } catch (const std::exception& error) {
        return std::string(what) + " failed: " + error.what();
    } catch (...) {
        return std::string(what) + " failed with an exception that is not a std::exception";
    }
}

/// What a plugin exports (CORRAL_PLUGIN).
struct plugin_info {
    /// Its kind, as `corrald components` and the log name it ("echo-server").
    const char* name;
    const char* summary;
    /// Its keys, one line, as `corrald components` lists them.
    const char* keys;
    /**
     * Reads `options` and makes the component; problems go to `options` (the component made is then
     * dropped). corrald calls it once to validate the config (`corrald check` too) and once to run,
     * so it must have no effect beyond reading: bind, open and spawn in component::start().
     */
    std::unique_ptr<component> (*create)(const component_context& context, component_options& options);
};

}  // namespace corral::plugin

/// Exports `info` (a corral::plugin::plugin_info) and the ABI tag this plugin was built with.
#define CORRAL_PLUGIN(info)                                                                                  \
    extern "C" __attribute__((visibility("default"))) const char* corral_plugin_abi() {                      \
        return CORRAL_PLUGIN_ABI_TAG;                                                                        \
    }                                                                                                        \
    extern "C" __attribute__((visibility("default"))) const ::corral::plugin::plugin_info* corral_plugin() { \
        static const ::corral::plugin::plugin_info exported = info;                                          \
        return &exported;                                                                                    \
    }
