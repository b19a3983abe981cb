#pragma once
// `corral svc ls|show|start|stop|restart|stdin|tail|add|rm`: corrald's services.

#include <string>
#include <vector>

#include "client/api_client.hpp"

namespace corral::cli {

struct service_command {
    std::string verb;                 ///< ls, show, start, stop, restart, stdin, tail, add, rm
    std::vector<std::string> args;    ///< the service names (stdin: the name, then the words to send;
                                      ///< add: the name, then the command and its arguments)
    std::vector<std::string> sets;    ///< add: KEY=VALUE, any [[service]] key (VALUE as JSON when it parses)
    bool json = false;
    bool follow = false;              ///< tail -f
    bool close = false;               ///< stdin --close
};

/// Runs one `svc` verb; returns the exit status (1 when a service was not found or refused).
net::awaitable<int> run_service_command(api_client& c, const service_command& cmd);

}  // namespace corral::cli
