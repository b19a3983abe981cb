#pragma once
// `corral schedules [ls] | add NAME --cron EXPR|--every D [...] -- COMMAND | rm NAME`: corrald's
// schedules, with the next times each fires.

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "client/api_client.hpp"

namespace corral::cli {

struct schedule_command {
    std::string verb;               ///< ls (the default), add, rm
    std::vector<std::string> args;  ///< add: the name; rm: the names
    /// add: the schedule's own fields (cron or every, time_zone, overlap, catch_up, owner) and its
    /// job, as the job options made it (command, shell or task, ...).
    boost::json::object schedule;
    bool json = false;
};

/// Runs one `schedules` verb; returns the exit status.
net::awaitable<int> run_schedule_command(api_client& c, schedule_command cmd);

}  // namespace corral::cli
