#pragma once
// The [asexor] and [wamp] sections of corrald's config (docs/config.md, docs/asexor.md).

#include <set>
#include <string>

#include "corral/pod/daemon_config.hpp"
#include "pod/config_section.hpp"

namespace corral::pod {

/// [asexor] with its [[asexor.raw]] and [[asexor.long_poll]] listeners into `c.asexor`. Their
/// labels join `labels` (which must stay unique); problems go to `p` with their key paths.
void read_asexor(toml::table& root, daemon_config& c, std::set<std::string>& labels, problems& p);

/// [wamp] with its [[wamp.websocket]] and [[wamp.rawsocket]] listeners into `c.wamp`.
void read_wamp(toml::table& root, daemon_config& c, std::set<std::string>& labels, problems& p);

}  // namespace corral::pod
