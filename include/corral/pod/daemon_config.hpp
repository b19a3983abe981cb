#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "corral/auth/authority.hpp"
#include "corral/console/interpreter.hpp"
#include "corral/core/error_info.hpp"
#include "corral/net/http_listener.hpp"
#include "corral/plugin/plugin.hpp"
#include "corral/proto/api_router.hpp"
#include "corral/proto/asexor_long_poll.hpp"
#include "corral/proto/asexor_raw.hpp"
#include "corral/proto/asexor_websocket.hpp"
#include "corral/proto/wamp_router.hpp"
#include "corral/services/job_service.hpp"
#include "corral/services/schedules.hpp"
#include "corral/services/service_def.hpp"
#include "corral/store/sqlite_store.hpp"
#include "corral/tasks/task_catalog.hpp"

namespace corral::pod {

/// Where jobs are kept across restarts (`[store] backend`).
enum class store_backend { sqlite, memory };

/// One `[[http]]` listener component.
struct http_config {
    std::string label;
    http::listener_options listener;
};

/// One `[[console]]`: the operator console on a TCP port or a Unix socket.
struct console_config {
    std::string label = "console";
    sockets::stream_options listener{.idle_timeout = std::chrono::seconds(3600)};
    console::interpreter_options prompts;
    /// A longer line is dropped with a message.
    std::size_t max_line = 64 * 1024;
};

/// One `[[asexor.raw]]` listener: ASEXOR's framed CBOR over TCP or a Unix socket.
struct asexor_raw_config {
    std::string label;
    sockets::stream_options listener{.idle_timeout = std::chrono::seconds(3600)};
    proto::asexor::raw_options raw;
};

/// One `[[asexor.long_poll]]` listener: ASEXOR's HTTP long-poll at `/`.
struct asexor_long_poll_config {
    std::string label;
    http::listener_options listener;
    proto::asexor::long_poll_options poll;
    /// Web origins whose pages may poll, with the session cookie (ASEXOR allowed every origin).
    std::vector<std::string> cors_origins;
};

/// `[asexor]`: ASEXOR's protocols (docs/asexor.md). Nothing is served unless the section is there.
struct asexor_config {
    /// ASEXOR's WebSocket route on every [[http]] listener.
    bool websocket = false;
    proto::asexor::websocket_options ws;
    std::vector<asexor_raw_config> raw;
    std::vector<asexor_long_poll_config> long_poll;
};

/// One `[[wamp.websocket]]` listener: WAMP over WebSocket at `path`.
struct wamp_websocket_config {
    std::string label;
    http::listener_options listener;
    std::string path = "/ws";
    /// Web origins whose pages may connect (ASEXOR's page on 8484 connects to WAMP on 8880).
    std::vector<std::string> cors_origins;
};

/// One `[[wamp.rawsocket]]` listener: WAMP over RawSocket (TCP or a Unix socket).
struct wamp_rawsocket_config {
    std::string label;
    sockets::stream_options listener{.idle_timeout = std::chrono::seconds(3600)};
    /// The longest message taken (the handshake tells the client).
    std::size_t max_message = proto::asexor::max_frame_payload;
};

/// `[wamp]`: the built-in WAMP router (docs/asexor.md). Nothing is served unless the section is there.
struct wamp_config {
    bool enabled = false;
    proto::wamp::router_options router;
    std::vector<wamp_websocket_config> websocket;
    std::vector<wamp_rawsocket_config> rawsocket;
};

/// One `[[component]]`: a component from a plugin (docs/plugins.md).
struct plugin_component_config {
    std::string label;
    /// The plugin's name (plugin_info::name) and its library.
    std::string kind;
    std::string path;
    /// Makes the component; its keys were validated when the config was loaded. Errors:
    /// errc::invalid_argument listing the problems (a plugin whose checks depend on the moment).
    std::function<result_info<std::unique_ptr<plugin::component>>(const plugin::component_context&)> make;
};

/// corrald's whole configuration (docs/config.md is the reference).
struct daemon_config {
    std::string state_dir;
    /// After SIGINT/SIGTERM, running jobs get this long (from the signal) before their stop plans.
    std::chrono::milliseconds stop_wait{10'000};
    std::string log_level = "info";
    /// corrald becomes the subreaper for its jobs' trees in process-group mode (launcher_options).
    services::service_options jobs{.launcher = {.subreaper = true}};
    /// `[store]`: the SQLite file (default `<state_dir>/corral.db`); `memory` keeps nothing across restarts.
    store_backend storage = store_backend::sqlite;
    store::store_options store;
    proto::api_options api;
    std::vector<http_config> http;
    asexor_config asexor;
    wamp_config wamp;
    /// `[[task]]`: the predefined tasks.
    tasks::task_catalog catalog;
    /// `[auth]`: tokens and roles.
    auth::authority authority;
    /// `[[service]]`: the long-running processes corrald keeps alive, in the order written.
    std::vector<services::service_def> services;
    /// `[[schedule]]`: jobs the clock submits.
    std::vector<services::schedule_def> schedules;
    /// `[[console]]`: the operator console's listeners (by default one on `<state_dir>/console.sock`).
    std::vector<console_config> consoles;
    /// `[[component]]`: components from plugins, started after every built-in one.
    std::vector<plugin_component_config> components;
    /// Each top-level section as read (after environment overrides and command-line components), as
    /// TOML text: a reload compares them to say which changes need a restart.
    std::map<std::string, std::string> sections;
};

/**
 * Reads `path` (empty: no file, all defaults), applies `CORRAL_SECTION__KEY=value` overrides from
 * `env`, and validates the result whole. Errors: errc::invalid_argument whose message lists every
 * problem, one per line, each with where it came from and its key path:
 * `corral.toml:7: http[2].listen: '8470': expected HOST:PORT ...`. Unknown keys are errors.
 * `components` are `KIND:key=value,...` arguments of `corrald run`, each added after the file's
 * components of its kind (and after the default listeners), then validated like them.
 */
result_info<daemon_config> load_config(const std::string& path,
                                       const std::map<std::string, std::string>& env,
                                       const std::vector<std::string>& components = {});

/**
 * The web page corrald serves when `[api] web_root` is not set: the installed one
 * (`<bin>/../share/corral/web`), else the one this build assembled (`<build>/share/corral/web`), else none ("").
 */
std::string default_web_root();

/// The environment as a map (for load_config).
std::map<std::string, std::string> environment_map(char** envp);

}  // namespace corral::pod
