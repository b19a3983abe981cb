#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace corral::cli {

/// True for the commands that talk to corrald: run, submit, ls, show, tail, kill, wait, stdin.
bool is_client_command(std::string_view name);
/// Runs one of them; returns the process exit status.
int client_command(const std::string& name, const std::vector<std::string>& args);

}  // namespace corral::cli
