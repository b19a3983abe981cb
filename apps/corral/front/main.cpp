// corral: the command-line client's front. Scripts start `corral submit` and `corral kill` once per
// job, so what such a call costs is mostly starting a process: this one is small (no Asio, Beast,
// OpenSSL, program_options or iostreams; about a third of the full client's page faults, each of
// which costs 15-20 µs on the VMs we measure on). It answers those one-shot commands itself
// (quick_commands.hpp) and hands everything else to the full client (corral-client).
#include <cstdlib>
#include <span>
#include <string>

#include "corral/core/state_dir.hpp"
#include "front/full_client.hpp"
#include "front/quick_commands.hpp"

namespace {

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : std::move(fallback);
}

}  // namespace

int main(int argc, char** argv) {
    namespace front = corral::cli::front;
    // A URL (HTTP, TLS, tokens read from files) is the full client's business.
    if (env_or("CORRAL_URL", {}).empty()) {
        const front::quick_settings settings{
            env_or("CORRAL_SOCKET", corral::default_socket_path(corral::default_state_dir())),
            env_or("CORRAL_TOKEN", {})};
        if (auto status =
                front::run_quick_command({argv + 1, static_cast<std::size_t>(argc - 1)}, settings)) {
            return *status;
        }
    }
    return front::exec_full_client(argv);
}
