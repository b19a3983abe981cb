#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "client/api_client.hpp"
#include "corral/core/error_info.hpp"

namespace corral::cli {

/// --socket, --url, --token, --token-file, --cacert (defaults from CORRAL_SOCKET, CORRAL_URL,
/// CORRAL_TOKEN, CORRAL_CACERT).
boost::program_options::options_description connection_options();
result_info<endpoint_options> read_connection(const boost::program_options::variables_map& vm);

/// The options of `submit` and `run` that describe the job (--shell, --cwd, --env, --timeout, ...).
boost::program_options::options_description job_options();
/// Builds the body of POST /api/v1/jobs from those options and the command.
result_info<boost::json::object> job_request(const boost::program_options::variables_map& vm,
                                             const std::vector<std::string>& command);

/// Splits `args` where the command starts: at `--`, or at the first argument that is not an option
/// of `options` (nor the value of one).
std::pair<std::vector<std::string>, std::vector<std::string>> split_command(
    const std::vector<std::string>& args, const boost::program_options::options_description& options);

/// Parses `args` against `visible` plus positional `rest` values; errors name the option.
result_info<boost::program_options::variables_map> parse_args(
    const std::vector<std::string>& args,
    const boost::program_options::options_description& visible,
    const char* positional_name = nullptr);

}  // namespace corral::cli
